import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ACCOUNT_FORMAT, readAccountFile, writeAccountFile } from '../src/load/accountFile.js'
import { LoadRun, type LoadOptions } from '../src/load/run.js'
import type { LoadResult } from '../src/model/account.js'
import { executeShard, workerShared } from '../workers/executeShard.js'
import { DATASET_FORMAT } from '../src/market/dataset.js'
import { planLoad } from '../src/plan/plan.js'
import { CircuitBreaker, DEFAULT_BREAKER } from '../shared/breaker.js'
import { openSink } from '../workers/sinks.js'
import { DEFAULT_RETRY } from '../shared/retryPolicy.js'
import { toShardSpec } from '../shared/messages.js'
import { CONTROL_SLOTS, STOP_CANCELLED } from '../shared/control.js'
import { ShardPool } from '../workers/pool.js'
import { silent, spec } from './harness/load.js'
import { countInflux, startFaultyInfluxd, type FaultyInfluxd } from './harness/servers.js'
import { expectAccountBalances } from './harness/account.js'

describe('in-doubt batches are kept across runs of a load', () => {
  it('a resumed shard that stops before sending its earlier unanswered lines again keeps them in doubt, not unsent', async () => {
    const s = spec({ symbols: ['AAPL'], from: '2024-02-05T00:00:00Z', to: '2024-02-06T00:00:00Z', trades: 200_000, seed: 'doubt-unit', batchSize: 5000 })
    const plan = planLoad(s)
    const planned = plan.seriesCount(0, 0).count
    const control = new Int32Array(new SharedArrayBuffer(CONTROL_SLOTS * 4))
    Atomics.store(control, 0, STOP_CANCELLED) // the resume was stopped at once
    const breaker = CircuitBreaker.create(DEFAULT_BREAKER)
    const result = await executeShard(
      {
        shard: 0,
        shardCount: plan.shardCount,
        spec: toShardSpec(s),
        sink: { kind: 'null' },
        maxInFlight: 2,
        retry: DEFAULT_RETRY,
        control,
        breaker: { buffer: breaker.buffer, settings: DEFAULT_BREAKER },
        concurrency: { max: 2, adaptive: true, decreaseEveryMs: 250 },
        skip: [[0, 5000]],
        doubt: [[5000, 10_000]],
      },
      await openSink({ kind: 'null' }, 2),
      () => {},
      workerShared(2),
    )
    expect(result).toMatchObject({ status: 'stopped', written: 5000, failed: 0, inDoubt: 5000, doubt: [[5000, 10_000]] })
    expect(planned - result.written - result.failed - result.inDoubt!).toBe(planned - 10_000)
  })

  it('doubt ranges survive the account file', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'ohlcv-doubt-')), 'a.json')
    const shard = { shard: 0, status: 'failed' as const, planned: 10, written: 2, failed: 0, bytes: 0, batches: 1, retries: 0, splits: 0, acked: [[0, 2]] as [number, number][], doubt: [[2, 6]] as [number, number][], inDoubt: 4 }
    await writeAccountFile(path, {
      format: ACCOUNT_FORMAT,
      dataset: DATASET_FORMAT,
      request: spec({ trades: 10, seed: 1 }),
      sink: { kind: 'null' },
      status: 'failed',
      account: { pointsPlanned: 10, pointsWritten: 2, pointsFailed: 0, pointsInDoubt: 4, pointsUnsent: 4, bytesWritten: 0, batchesWritten: 1, retries: 0, batchesSplit: 0, shardsDone: 0, shardsTotal: 1 },
      shards: [shard],
    })
    expect((await readAccountFile(path)).shards[0]).toMatchObject({ doubt: [[2, 6]], inDoubt: 4 })
  })
})

/** Short timeouts and budgets, so a frozen server fails a load within seconds. */
const OPTIONS: LoadOptions = {
  maxInFlight: 2,
  retry: { maxAttempts: Infinity, baseDelayMs: 50, maxDelayMs: 200, maxElapsedMs: 1200 },
  breaker: { threshold: 3, cooldownMs: 200, probeTimeoutMs: 2500 },
}

describe('written <= database <= written + failed + in doubt, through timeouts and resumes (real influxd)', () => {
  let server: FaultyInfluxd
  let pool: ShardPool
  beforeAll(async () => {
    ;[server, pool] = [await startFaultyInfluxd(), new ShardPool(2)]
  })
  afterAll(async () => {
    await pool.close()
    await server.stop()
  })

  /** The bound at one moment: the account read before the count bounds it below, the one after above. */
  async function expectBounded(load: LoadRun): Promise<number> {
    const before = load.account()
    // before the load has created its database, the database holds nothing
    const held = await countInflux(server.url, 'doubt').catch((e: unknown) => (/database not found/.test(String(e)) ? 0 : Promise.reject(e as Error)))
    const after = load.account()
    expectAccountBalances(before)
    expectAccountBalances(after)
    expect(held).toBeGreaterThanOrEqual(before.pointsWritten)
    expect(held).toBeLessThanOrEqual(after.pointsWritten + after.pointsFailed + after.pointsInDoubt)
    return held
  }

  async function runUntilFrozen(load: LoadRun, start: () => Promise<LoadResult>, at: number) {
    const done = start()
    while (load.account().pointsWritten < at && !load.finished) {
      await expectBounded(load)
      await sleep(20)
    }
    server.freeze()
    const r = await done
    server.thaw()
    await sleep(1500) // influxd works through what it read while frozen
    return r
  }

  it('two runs that time out, then a resume that completes: the bound holds at every reading; the end is exact', async () => {
    const s = spec({ trades: 1_500_000, seed: 'doubt', from: '2024-03-01T00:00:00Z', to: '2024-03-02T00:00:00Z', batchSize: 5000 })
    const load = new LoadRun({ id: 'doubt', spec: s, sink: { kind: 'influx-v1', url: server.url, db: 'doubt', timeoutMs: 400 }, pool, log: silent, options: OPTIONS })
    const first = await runUntilFrozen(load, () => load.run(), 300_000)
    expect(first.status).toBe('failed')
    expectAccountBalances(first)
    const held1 = await expectBounded(load)

    // The resume is frozen out soon after it starts: some shards stop before they send their
    // earlier unanswered batches again. Those stay in doubt (before the fix: counted unsent).
    const second = await runUntilFrozen(load, () => load.resume(), first.pointsWritten + 100_000)
    expect(second.status).toBe('failed')
    expectAccountBalances(second)
    const held2 = await expectBounded(load)

    const third = await load.resume()
    expect(third).toMatchObject({ status: 'succeeded', pointsWritten: 1_500_000, pointsFailed: 0, pointsInDoubt: 0, pointsUnsent: 0 })
    expect(load.pointsInFlight()).toBe(0)
    expect(await countInflux(server.url, 'doubt')).toBe(1_500_000)
    console.info(
      `run 1: ${first.pointsWritten} written, ${first.pointsFailed} failed, ${first.pointsInDoubt} in doubt, database ${held1}; ` +
        `resume 1: ${second.pointsWritten} written, ${second.pointsFailed} failed, ${second.pointsInDoubt} in doubt, database ${held2}; resume 2: 1500000, database 1500000`,
    )
  }, 120_000)
})
