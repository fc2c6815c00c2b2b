import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Registry } from 'prom-client'
import { LoadRun, type LoadOptions } from '../src/load/run.js'
import { Metrics } from '../src/metrics/metrics.js'
import { ShardPool } from '../workers/pool.js'
import { silent, spec } from './harness/load.js'
import { expectAccountBalances } from './harness/account.js'
import { jsonAnswer, startFakeInflux } from './harness/fakeInflux.js'
import { until } from './harness/until.js'

/**
 * Faults a real InfluxDB cannot be made to show on demand: a 429 with Retry-After, a storm of
 * 503s. A tiny local HTTP server plays the database here, on purpose and only here; it counts the
 * lines of every request it acknowledges, so the account can still be checked exactly.
 */
interface Fake {
  url: string
  /** acknowledged lines */
  lines: number
  /** every request's arrival time (ms) and the status it got */
  requests: { t: number; status: number }[]
  answer: (n: number) => { status: number; headers?: Record<string, string>; delayMs?: number }
  close(): Promise<void>
}

async function fakeInflux(): Promise<Fake> {
  const fake = { lines: 0, requests: [] as Fake['requests'], answer: (() => ({ status: 204 })) as Fake['answer'] }
  const server = await startFakeInflux((req) => {
    // Health checks (v2 sinks ask before a load) are always fine and not counted.
    // /ping says it is InfluxDB (as influxd and 2.x do): a server that does not is refused before a load.
    if (req.url === '/health' || req.url === '/ping') return jsonAnswer(200, '{"status":"pass"}', { 'x-influxdb-version': '1.8.10' })
    const a = fake.answer(fake.requests.length)
    fake.requests.push({ t: req.t, status: a.status })
    if (a.status === 204) for (let i = 0; i < req.body.length; i++) if (req.body[i] === 10) fake.lines++
    const body = a.status === 204 ? {} : { body: JSON.stringify({ error: `fake says ${a.status}`, message: `fake says ${a.status}` }) }
    return { status: a.status, headers: { 'content-type': 'application/json', ...a.headers }, ...body, ...(a.delayMs ? { delayMs: a.delayMs } : {}) }
  })
  return Object.assign(fake, { url: server.url, close: () => server.close() })
}

const OPTIONS: LoadOptions = {
  maxInFlight: 2,
  retry: { maxAttempts: 5, baseDelayMs: 50, maxDelayMs: 500, maxElapsedMs: 30_000 },
  breaker: { threshold: 3, cooldownMs: 500, probeTimeoutMs: 3000 },
}

describe('a fake database playing faults a real one cannot show', () => {
  let fake: Fake
  let pool: ShardPool
  beforeAll(async () => {
    fake = await fakeInflux()
    pool = new ShardPool(2)
  })
  afterAll(async () => {
    await pool.close()
    await fake.close()
  })
  const reset = (answer: Fake['answer']) => {
    fake.lines = 0
    fake.requests = []
    fake.answer = answer
  }

  it.each(['v1', 'v2'] as const)('%s client: 429 with Retry-After: 2 waits two seconds (seconds, not milliseconds) before retrying', async (api) => {
    reset((n) => (n === 0 ? { status: 429, headers: { 'retry-after': '2' } } : { status: 204 }))
    // v2 goes through @influxdata/influxdb-client's transport, whose own retry would read the header as ms.
    const load = new LoadRun({
      id: '429',
      spec: spec({ trades: 1000, seed: '429', batchSize: 1000, symbols: ['AAPL'] }),
      sink: api === 'v1' ? { kind: 'influx-v1', url: fake.url, db: 'x', createDb: false, timeoutMs: 5000 } : { kind: 'influx-v2', url: fake.url, org: 'o', bucket: 'b', token: 't', timeoutMs: 5000 },
      pool,
      log: silent,
      options: OPTIONS,
    })
    const r = await load.run()
    expect(r.status).toBe('succeeded')
    const writes = fake.requests
    expect(writes.map((q) => q.status)).toEqual([429, 204])
    const gap = writes[1]!.t - writes[0]!.t
    expect(gap).toBeGreaterThanOrEqual(1950)
    expect(gap).toBeLessThan(4000)
    expect(fake.lines).toBe(1000)
    expect(r).toMatchObject({ pointsWritten: 1000, retries: 1 })
  })

  it('a 503 storm opens the circuit: writers pause instead of hammering, then finish exactly', async () => {
    const stormEnds = Date.now() + 3000
    reset(() => (Date.now() < stormEnds ? { status: 503 } : { status: 204 }))
    const registry = new Registry()
    const load = new LoadRun({
      id: 'storm',
      spec: spec({ trades: 200_000, seed: 'storm', batchSize: 5000 }),
      sink: { kind: 'influx-v1', url: fake.url, db: 'x', createDb: false, timeoutMs: 5000 },
      pool,
      log: silent,
      options: OPTIONS,
      metrics: new Metrics(registry, () => pool.stats()),
    })
    const r = await load.run()
    expect(r.status).toBe('succeeded')
    expect(fake.lines).toBe(200_000)
    expect(r.pointsWritten).toBe(200_000)
    const during = fake.requests.filter((q) => q.status === 503).length
    // Without a breaker 4 writers retrying at 50..500 ms would send ~40 requests in 3 s; with it,
    // the first few failures open it and one probe per 500 ms cooldown follows.
    expect(during).toBeLessThanOrEqual(3 + 2 * 4 + Math.ceil(3000 / 500) + 2)
    expect(load.circuit()).toMatchObject({ state: 'closed' })
    expect(load.circuit().opens).toBeGreaterThanOrEqual(1)
    // every refused request is counted once, by kind and status, and each was retried
    const text = await registry.metrics()
    expect(text).toContain(`ohlcv_write_errors_total{kind="retryable",status="503"} ${during}`)
    expect(text).toContain(`ohlcv_write_retries_total ${r.retries}`)
    expect(r.retries).toBe(during)
    console.info(`503 storm of 3 s: ${during} requests refused, circuit opened ${load.circuit().opens}x, then ${fake.lines} lines acknowledged`)
  })

  it('cancel during backoff and an open circuit stops within a second; the account is exact', async () => {
    reset(() => ({ status: 503 }))
    const load = new LoadRun({
      id: 'cancel',
      spec: spec({ trades: 200_000, seed: 'cancel' }),
      sink: { kind: 'influx-v1', url: fake.url, db: 'x', createDb: false, timeoutMs: 5000 },
      pool,
      log: silent,
      options: { ...OPTIONS, retry: { ...OPTIONS.retry, maxDelayMs: 10_000, maxElapsedMs: 120_000 }, breaker: { ...OPTIONS.breaker, cooldownMs: 20_000 } },
    })
    const done = load.run()
    // Two shards, four writes failing: the circuit opens and everyone waits out a 20 s cooldown.
    await until('the circuit to open', () => load.circuit().state === 'open', 30_000, 10)
    const t0 = Date.now()
    load.cancel()
    const r = await done
    expect(Date.now() - t0).toBeLessThan(5000) // not the 20 s cooldown, with room for a busy core
    expect(r.status).toBe('cancelled')
    expect(r.error).toBeUndefined()
    expect(r).toMatchObject({ pointsWritten: 0, pointsPlanned: 200_000 })
    expectAccountBalances(r, { planned: 200_000, inDoubt: 0 })
  })

  it('a paced load measures latency from the intended send time of each batch: a stall shows in the percentiles (coordinated omission)', async () => {
    // 40 batches of 100 at 2,000 points/s (a slot every 50 ms); the fifth request stalls 1 s.
    reset((n) => (n === 4 ? { status: 204, delayMs: 1000 } : { status: 204 }))
    const s = spec({ trades: 4000, seed: 'co', batchSize: 100, ratePerSecond: 2000, symbols: ['AAPL'] })
    const load = new LoadRun({ id: 'co', spec: s, sink: { kind: 'influx-v1', url: fake.url, db: 'x', createDb: false, timeoutMs: 5000 }, pool, log: silent, options: { ...OPTIONS, maxInFlight: 1 } })
    const r = await load.run()
    expect(r.status).toBe('succeeded')
    // One request in flight, so the stall holds back every batch behind it. Measured from the
    // actual send, only the stalled one would be slow (p90 a few ms). From the intended time, every
    // batch whose slot passed during the stall is late too: about 20 of the 40.
    expect(r.writeLatencyMs.count).toBe(40)
    expect(r.writeLatencyMs.max).toBeGreaterThanOrEqual(950)
    expect(r.writeLatencyMs.p90).toBeGreaterThan(300)
    console.info(`paced 2000/s with a 1 s stall: latency p50 ${r.writeLatencyMs.p50} ms, p90 ${r.writeLatencyMs.p90} ms, max ${r.writeLatencyMs.max} ms`)
  })

  it('paces a load to ratePerSecond across all workers: never faster, and close to it', async () => {
    reset(() => ({ status: 204 }))
    const s = spec({ trades: 60_000, seed: 'paced', batchSize: 500, ratePerSecond: 20_000 })
    const load = new LoadRun({ id: 'paced', spec: s, sink: { kind: 'influx-v1', url: fake.url, db: 'x', createDb: false, timeoutMs: 5000 }, pool, log: silent, options: OPTIONS })
    const r = await load.run()
    expect(r.status).toBe('succeeded')
    expect(fake.lines).toBe(60_000)
    // 120 slots of 25 ms: the last batch is sent at 2.975 s.
    const first = fake.requests[0]!.t
    const last = fake.requests[fake.requests.length - 1]!.t
    const rate = (60_000 - 500) / ((last - first) / 1000)
    console.info(`ratePerSecond 20000: measured ${Math.round(rate)} points/s between first and last request`)
    // A busy core only makes a paced load late, never early: the ceiling is tight, the floor holds
    // beside another test. How close it keeps the rate on an idle machine (1 %): bench/pace.mjs.
    expect(rate).toBeLessThan(20_000 * 1.05)
    expect(rate).toBeGreaterThan(20_000 * 0.8)
    // and the load says it kept its rate
    expect(r.attempts[0]!.pace!.targetPointsPerSecond).toBe(20_000)
    expect(r.attempts[0]!.pace!.achievedPointsPerSecond).toBeLessThanOrEqual(20_000)
    expect(r.attempts[0]!.pace!.achievedPointsPerSecond).toBeGreaterThanOrEqual(18_000)
  })

  it('a paced load the database cannot keep up with says the rate it took, not the rate it asked for', async () => {
    // Every write takes 100 ms and a few are in flight at most: the fake takes far less than the
    // 30,000 points/s asked of it, and the writes fall further behind each second.
    reset(() => ({ status: 204, delayMs: 100 }))
    const s = spec({ trades: 60_000, seed: 'slow-paced', batchSize: 500, ratePerSecond: 30_000 })
    const load = new LoadRun({ id: 'slow-paced', spec: s, sink: { kind: 'influx-v1', url: fake.url, db: 'x', createDb: false, timeoutMs: 5000 }, pool, log: silent, options: { ...OPTIONS, adaptiveConcurrency: false } })
    const r = await load.run()
    expect(r.status).toBe('succeeded')
    const p = r.attempts[0]!.pace!
    // the rate the fake took, from its own clock: lines over the span of its requests (+ one answer)
    const span = fake.requests[fake.requests.length - 1]!.t - fake.requests[0]!.t + 100
    const taken = (60_000 / span) * 1000
    console.info(`asked 30,000 points/s of a database taking ${Math.round(taken)}: pace says ${p.achievedPointsPerSecond} taken, writes ${p.lagGrowthMs} ms later at the end`)
    expect(p.achievedPointsPerSecond).toBeLessThan(30_000 * 0.9)
    expect(Math.abs(p.achievedPointsPerSecond - taken) / taken).toBeLessThan(0.15)
    expect(p.lagGrowthMs).toBeGreaterThan(300)
  })
})
