import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runCli } from './harness/cli.js'
import { countInflux, startInfluxd, type RunningServer } from './harness/servers.js'
import type { RunReport } from '../src/app/runLoad.js'

/**
 * Real influxd processes configured to overload under the tool's default settings: one with a
 * write queue of one (503 "request throttled, queue full"), one with a cache smaller than a few
 * batches (500 "cache-max-memory-size exceeded" until it has flushed). The CLI runs with no
 * setting but the server's address: the defaults must ride the overload out.
 */
describe('an overloaded InfluxDB, with default settings', () => {
  let queue: RunningServer
  let cache: RunningServer
  beforeAll(async () => {
    ;[queue, cache] = await Promise.all([
      startInfluxd({ limits: { maxConcurrentWriteLimit: 1, maxEnqueuedWriteLimit: 1, enqueuedWriteTimeout: '1s' } }),
      startInfluxd({ limits: { cacheMaxMemorySize: 8_000_000, cacheSnapshotMemorySize: 2_000_000 } }),
    ])
  })
  afterAll(async () => {
    await Promise.all([queue.stop(), cache.stop()])
  })

  const load = ['--trades', '600000', '--from', '2024-06-03T00:00:00Z', '--to', '2024-06-04T00:00:00Z', '--pool-size', '2']

  it.each([
    ['write queue full (503)', () => queue, 'queue', /queue full/],
    ['cache full (500)', () => cache, 'cache', /cache-max-memory-size exceeded/],
  ])('%s: the load completes, the database holds the account, verify is ok', async (_name, server, db, _message) => {
    const env = { INFLUX_URL: server().url, INFLUX_DB: db }
    const r = await runCli(['run', ...load, '--seed', `overload-${db}`, '--json'], env, 110_000)
    expect(r.code, r.stderr + r.stdout).toBe(0)
    const result = JSON.parse(r.stdout) as RunReport
    expect(result).toMatchObject({ status: 'succeeded', pointsWritten: 600_000, pointsFailed: 0 })
    // It was overloaded (else this test proves nothing), and it said so.
    expect(result.retries).toBeGreaterThan(0)
    expect(result.writeConcurrency.max).toBe(4)
    expect(result.writeConcurrency.lowest).toBeLessThan(4)
    expect(result.writeConcurrency.degradedMs).toBeGreaterThan(0)
    expect(await countInflux(server().url, db)).toBe(600_000)
    const v = await runCli(['verify', ...load, '--seed', `overload-${db}`], env, 60_000)
    expect(v.code, v.stdout + v.stderr).toBe(0)
    expect(v.stdout).toMatch(/^verify ok: 600,000 points/)
    console.info(`${db}: ${result.retries} retries, ${result.durationMs} ms, concurrency down to ${result.writeConcurrency.lowest} of 4, degraded ${result.writeConcurrency.degradedMs} ms`)
  }, 180_000)

  it('the summary says how long the load ran degraded, and quotes the server without its newline', async () => {
    const env = { INFLUX_URL: queue.url, INFLUX_DB: 'queue_text', WRITE_RETRY_MAX_MS: '0', LOG_LEVEL: 'silent' }
    // A zero budget: the first overload answer fails the load, so its message is quoted.
    const failed = await runCli(['run', ...load, '--seed', 'overload-text'], env, 60_000)
    expect(failed.code).toBe(1)
    expect(failed.stdout).toMatch(/^error: .*InfluxDB answered 503: request throttled, queue full\n/m)
    expect(failed.stdout).not.toMatch(/queue full\\n/)
    const ok = await runCli(['run', ...load, '--seed', 'overload-text2'], { INFLUX_URL: queue.url, INFLUX_DB: 'queue_text2' }, 110_000)
    expect(ok.code, ok.stdout + ok.stderr).toBe(0)
    expect(ok.stdout).toMatch(/^ran degraded for \d+\.\d s: the server signalled overload, writes in flight went down to [123] of 4$/m)
  }, 180_000)
})
