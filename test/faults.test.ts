import { setTimeout as sleep } from 'node:timers/promises'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { LoadRun, type LoadOptions } from '../src/load/run.js'
import type { LoadSpec } from '../src/model/request.js'
import type { SinkConfig } from '../src/sink/target.js'
import { ShardPool } from '../workers/pool.js'
import { silent, spec } from './harness/load.js'
import { countInflux, startFaultyInfluxd, startInfluxd, type FaultyInfluxd, type RunningServer } from './harness/servers.js'
import { expectAccountBalances } from './harness/account.js'

/** Short timeouts and cooldowns so faults show within a test's seconds; the logic is the production one. */
const OPTIONS: LoadOptions = {
  maxInFlight: 2,
  retry: { maxAttempts: 5, baseDelayMs: 100, maxDelayMs: 1000, maxElapsedMs: 30_000 },
  breaker: { threshold: 3, cooldownMs: 300, probeTimeoutMs: 3000 },
}

function v1(url: string, db: string, extra: Partial<SinkConfig & { kind: 'influx-v1' }> = {}): SinkConfig {
  return { kind: 'influx-v1', url, db, timeoutMs: 1000, ...extra }
}

/** Starts a load in the background and resolves once the database has acknowledged some of it. */
async function startedLoad(s: LoadSpec, sink: SinkConfig, pool: ShardPool, options = OPTIONS) {
  const load = new LoadRun({ id: 'fault', spec: s, sink, pool, log: silent, options })
  const done = load.run()
  // A fifth of the way in: the fault lands mid-load, with shards running and writes in flight.
  while (load.account().pointsWritten < s.trades / 5 && !load.finished) await sleep(10)
  expect(load.finished).toBe(false)
  return { load, done }
}

// Real influxd processes of their own, so a test can freeze or kill one without touching the rest.
describe('faults of a real InfluxDB 1.x mid-load', () => {
  let server: FaultyInfluxd
  let pool: ShardPool
  beforeAll(async () => {
    ;[server, pool] = [await startFaultyInfluxd(), new ShardPool(2)]
  })
  afterAll(async () => {
    await pool.close()
    await server.stop()
  })

  it('frozen (SIGSTOP) for 4 s: requests time out, the circuit opens, the load completes exactly once it is thawed', async () => {
    const s = spec({ trades: 1_500_000, seed: 'freeze', from: '2024-03-01T00:00:00Z', to: '2024-03-02T00:00:00Z' })
    const sink = v1(server.url, 'freeze')
    const { load, done } = await startedLoad(s, sink, pool)
    server.freeze()
    const before = load.account().pointsWritten
    await sleep(4000)
    expect(load.circuit().state).not.toBe('closed')
    server.thaw()
    const r = await done
    expect(r.status).toBe('succeeded')
    expect(r.pointsWritten).toBe(1_500_000)
    expect(r.retries).toBeGreaterThan(0)
    expect(load.circuit().opens).toBeGreaterThanOrEqual(1)
    expect(load.circuit().state).toBe('closed')
    expect(await countInflux(server.url, 'freeze')).toBe(1_500_000)
    console.info(`SIGSTOP 4 s: ${before} written before, ${r.retries} retries, circuit opened ${load.circuit().opens}x, ${r.pointsWritten} written, database ${1_500_000}`)
  }, 60_000)

  it('killed (SIGKILL) and restarted on the same port and data: the load rides it out; the count is exact', async () => {
    const s = spec({ trades: 1_500_000, seed: 'restart', from: '2024-03-01T00:00:00Z', to: '2024-03-02T00:00:00Z' })
    const { load, done } = await startedLoad(s, v1(server.url, 'restart'), pool)
    await server.kill()
    const atKill = load.account().pointsWritten
    await sleep(2000)
    await server.start()
    const r = await done
    expect(r.status).toBe('succeeded')
    expect(r.pointsWritten).toBe(1_500_000)
    expect(load.circuit().opens).toBeGreaterThanOrEqual(1)
    expect(await countInflux(server.url, 'restart')).toBe(1_500_000)
    console.info(`SIGKILL + restart after 2 s: ${atKill} written at the kill, ${r.retries} retries, ${r.pointsWritten} written, database 1500000`)
  }, 90_000)

  it('down past the retry budget: the load fails clearly, the account matches the database, and resume completes it exactly', async () => {
    const s = spec({ trades: 1_500_000, seed: 'down', from: '2024-03-01T00:00:00Z', to: '2024-03-02T00:00:00Z' })
    const options = { ...OPTIONS, retry: { ...OPTIONS.retry, maxElapsedMs: 1500 } }
    const { load, done } = await startedLoad(s, v1(server.url, 'down'), pool, options)
    await server.kill()
    const t0 = Date.now()
    const r = await done
    expect(Date.now() - t0).toBeLessThan(8000)
    expect(r.status).toBe('failed')
    expect(r.error?.message).toMatch(/gave up: .*after \d+ s on this batch: .*(ECONNREFUSED|cannot reach)/)
    expectAccountBalances(r, { inDoubt: 0 })
    expect(r.pointsWritten).toBeGreaterThan(0)
    expect(r.pointsWritten).toBeLessThan(1_500_000)
    await server.start()
    // Everything acknowledged is in the database; beyond that at most the batches in doubt (sent
    // when it died, never answered: counted failed). Resume rewrites those; same points, same count.
    const held = await countInflux(server.url, 'down')
    expect(held).toBeGreaterThanOrEqual(r.pointsWritten)
    expect(held).toBeLessThanOrEqual(r.pointsWritten + r.pointsFailed)

    const resumed = await load.resume()
    expect(resumed.status).toBe('succeeded')
    // Only what was missing was sent again: batches already acknowledged were skipped.
    const resent = resumed.batchesWritten - r.batchesWritten
    expect(resent).toBeLessThanOrEqual(Math.ceil((1_500_000 - r.pointsWritten) / s.batchSize) + load.shardCount)
    expect(resumed).toMatchObject({ pointsPlanned: 1_500_000, pointsWritten: 1_500_000, pointsFailed: 0, pointsUnsent: 0 })
    expect(load.resumes).toBe(1)
    expect(await countInflux(server.url, 'down')).toBe(1_500_000)
    console.info(`down past the budget: failed with ${r.pointsWritten} written (database agreed); resumed: 1500000 written, database 1500000`)
  }, 90_000)
})

describe('permanent errors from a real influxd, at once', () => {
  let server: RunningServer
  let small: RunningServer
  let pool: ShardPool
  beforeAll(async () => {
    ;[server, small] = await Promise.all([startInfluxd(), startInfluxd({ maxBodySize: 100_000 })])
    pool = new ShardPool(2)
  })
  afterAll(async () => {
    await pool.close()
    await Promise.all([server.stop(), small.stop()])
  })

  it('database missing with auto-create off: 404 at once, no retries', async () => {
    const s = spec({ trades: 200_000, seed: 'nodb' })
    const t0 = Date.now()
    const r = await new LoadRun({ id: 'nodb', spec: s, sink: v1(server.url, 'missing_db', { createDb: false }), pool, log: silent, options: OPTIONS }).run()
    // The pool is cold here (its workers start for this load) and the other core may be busy: the
    // bound is what tells "at once" from the 30 s retry budget, not a start-up time.
    expect(Date.now() - t0).toBeLessThan(5000)
    expect(r.status).toBe('failed')
    expect(r.error).toMatchObject({ status: 404 })
    expect(r.error?.message).toMatch(/404: database not found: "?missing_db"?/)
    expect(r.retries).toBe(0)
    expect(r.pointsWritten).toBe(0)
    expectAccountBalances(r, { inDoubt: 0 })
  })

  it('a batch over influxd max-body-size (100 kB) is split and written; nothing is lost', async () => {
    const s = spec({ trades: 60_000, seed: 'split', batchSize: 5000 })
    const load = new LoadRun({ id: 'split', spec: s, sink: v1(small.url, 'split'), pool, log: silent, options: OPTIONS })
    const r = await load.run()
    expect(r.status, r.error?.message).toBe('succeeded')
    expect(r.pointsWritten).toBe(60_000)
    expect(r.batchesSplit).toBeGreaterThan(0)
    expect(await countInflux(small.url, 'split')).toBe(60_000)
    console.info(`max-body-size 100 kB, batch 5000 (~550 kB): ${r.batchesSplit} splits, ${r.batchesWritten} batches, 60000 counted`)
  })
})
