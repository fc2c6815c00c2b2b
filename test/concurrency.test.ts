import { describe, expect, it } from 'vitest'
import { CircuitBreaker, DEFAULT_BREAKER } from '../shared/breaker.js'
import { WriteConcurrency } from '../shared/concurrency.js'
import { WriteError } from '../src/errors.js'

function limitAt(now: { t: number }, max = 8) {
  return WriteConcurrency.of(CircuitBreaker.create(DEFAULT_BREAKER), { max, adaptive: true, decreaseEveryMs: 100 }, () => now.t)
}

describe('the adaptive write concurrency limit (AIMD in shared memory)', () => {
  it('halves on overload at most once per window, raises by one per round of successes, up to max', () => {
    const now = { t: 1000 }
    const c = limitAt(now)
    expect(c.stats()).toMatchObject({ limit: 8, max: 8, degradedMs: 0 })
    c.overloaded()
    c.overloaded() // the same burst of failures: one signal
    expect(c.stats().limit).toBe(4)
    now.t += 100
    c.overloaded()
    now.t += 100
    c.overloaded()
    now.t += 100
    c.overloaded()
    expect(c.stats()).toMatchObject({ limit: 1, lowest: 1 })
    for (let i = 0; i < 1; i++) c.succeeded()
    expect(c.stats().limit).toBe(2)
    for (let i = 0; i < 2; i++) c.succeeded()
    expect(c.stats().limit).toBe(3)
    for (const n of [3, 4, 5, 6, 7]) for (let i = 0; i < n; i++) c.succeeded()
    now.t += 500
    expect(c.stats()).toMatchObject({ limit: 8, lowest: 1, degradedMs: 300 })
    c.succeeded()
    expect(c.stats().limit).toBe(8)
  })

  it('a token per request: the limit holds writers back until one is released', async () => {
    const now = { t: 1000 }
    const c = limitAt(now, 2)
    expect(await c.acquire(() => false)).toBe(false)
    expect(await c.acquire(() => false)).toBe(false)
    let third = false
    const waiting = c.acquire(() => false).then(() => (third = true))
    await new Promise((r) => setTimeout(r, 20))
    expect(third).toBe(false)
    c.release()
    await waiting
    expect(c.stats().inUse).toBe(2)
    // a stopped load does not wait for a token
    expect(await c.acquire(() => true)).toBe(true)
  })

  it('off: never waits, never moves', async () => {
    const c = WriteConcurrency.of(CircuitBreaker.create(DEFAULT_BREAKER), { max: 1, adaptive: false, decreaseEveryMs: 100 })
    for (let i = 0; i < 5; i++) expect(await c.acquire(() => false)).toBe(false)
    c.overloaded()
    expect(c.stats()).toMatchObject({ limit: 1, inUse: 0 })
  })

  it('overload is 429, 503, a timeout and influxd 500s for a full cache; not refusals, 502 or permanent errors', () => {
    expect(new WriteError('x', { status: 429 }).overloaded()).toBe(true)
    expect(new WriteError('x', { status: 503 }).overloaded()).toBe(true)
    expect(new WriteError('no answer', { timedOut: true }).overloaded()).toBe(true)
    expect(new WriteError('InfluxDB answered 500: engine: cache-max-memory-size exceeded: (8000000/7998000)', { status: 500 }).overloaded()).toBe(true)
    expect(new WriteError('InfluxDB answered 500: timeout', { status: 500 }).overloaded()).toBe(true)
    expect(new WriteError('InfluxDB answered 500: something broke', { status: 500 }).overloaded()).toBe(false)
    expect(new WriteError('cannot reach: ECONNREFUSED').overloaded()).toBe(false)
    expect(new WriteError('x', { status: 502 }).overloaded()).toBe(false)
    expect(new WriteError('x', { status: 400 }).overloaded()).toBe(false)
  })
})

describe('the limit in Prometheus', () => {
  it('ohlcv_write_concurrency_limit, _max and ohlcv_write_degraded_seconds_total read the shared memory at scrape time', async () => {
    const { Registry } = await import('prom-client')
    const { Metrics } = await import('../src/metrics/metrics.js')
    const now = { t: 1000 }
    const c = limitAt(now, 8)
    const registry = new Registry()
    const metrics = new Metrics(registry, () => undefined)
    metrics.watch({ circuit: () => ({ state: 'closed', opens: 0, consecutiveFailures: 0 }), pointsInFlight: () => 0, concurrencyStats: () => c.stats() })
    c.overloaded()
    now.t += 1500
    const text = await registry.metrics()
    expect(text).toMatch(/^ohlcv_write_concurrency_limit 4$/m)
    expect(text).toMatch(/^ohlcv_write_concurrency_max 8$/m)
    expect(text).toMatch(/^ohlcv_write_degraded_seconds_total 1\.5$/m)
  })
})
