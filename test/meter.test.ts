import { describe, expect, it } from 'vitest'
import { CircuitBreaker } from '../shared/breaker.js'
import { WriteConcurrency } from '../shared/concurrency.js'
import type { ProgressDelta } from '../shared/messages.js'
import { LoadMeter } from '../src/load/meter.js'

function meter(max = 8) {
  let written = 0
  let now = 1_000_000
  const breaker = CircuitBreaker.create({ threshold: 5, cooldownMs: 100, probeTimeoutMs: 1000 }, () => now)
  const concurrency = WriteConcurrency.of(breaker, { max, adaptive: true, decreaseEveryMs: 0 }, () => now)
  const m = new LoadMeter({ written: () => written, planned: () => 10_000, inFlight: () => 0, breaker, concurrency })
  return { m, concurrency, write: (n: number) => (written += n), tick: (ms: number) => (now += ms) }
}

const delta = (over: Partial<ProgressDelta> = {}): ProgressDelta => ({
  shard: 0, written: 0, failed: 0, bytes: 0, batches: 1, retries: 0, splits: 0, acked: [], errors: [], latencies: [0.01], encodeSeconds: [], ...over,
})

describe('LoadMeter: reads are pure, samples are taken by sample(now)', () => {
  it('rate() reads the samples and changes nothing, however often it is asked', () => {
    const { m, write } = meter()
    m.begin(0)
    write(1000)
    const once = m.rate(1000)
    for (let i = 0; i < 50; i++) m.rate(1000)
    expect(m.rate(1000)).toEqual(once)
    expect(once).toEqual({ pointsPerSecond: 1000, etaSeconds: 9 })
  })

  it('the rate is over the last few seconds of samples', () => {
    const { m, write } = meter()
    m.begin(0)
    for (let t = 1000; t <= 10_000; t += 1000) {
      write(t <= 5000 ? 100 : 1000)
      m.sample(t)
    }
    // the samples over the last ~5 s: 1,000 points a second
    expect(m.rate(10_000).pointsPerSecond).toBe(1000)
  })

  it('nothing written yet: no rate and no ETA', () => {
    const { m } = meter()
    expect(m.rate(5)).toEqual({ pointsPerSecond: 0, etaSeconds: null })
    m.begin(0)
    expect(m.rate(0)).toEqual({ pointsPerSecond: 0, etaSeconds: null })
  })

  it('writeConcurrency() reads the lowest limit without keeping it; sampleLimit() keeps it', () => {
    const { m, concurrency, tick } = meter(8)
    m.begin(0)
    concurrency.overloaded()
    expect(m.writeConcurrency()).toMatchObject({ limit: 4, max: 8, lowest: 4 })
    for (let i = 0; i < 40; i++) concurrency.succeeded()
    tick(10)
    expect(concurrency.stats().limit).toBe(8)
    // the sink's all-time lowest fell while this load ran: still seen
    expect(m.writeConcurrency().lowest).toBe(4)
  })

  it('a delta with batches samples the limit: the dip is kept after the load ends', () => {
    const { m, concurrency } = meter(8)
    m.begin(0)
    concurrency.overloaded()
    m.record(delta())
    for (let i = 0; i < 40; i++) concurrency.succeeded()
    m.sample(1000, true)
    const end = m.end(100, 1000)
    expect(end.writeConcurrency.lowest).toBe(4)
    expect(m.writeConcurrency().lowest).toBe(4)
  })

  it('sample(now) closes the interval into the timeline; the last short one folds into the one before', () => {
    const { m, write } = meter()
    m.begin(0)
    m.record(delta({ retries: 2, batches: 3 }))
    write(500)
    m.sample(1000)
    write(50)
    m.sample(1100, true)
    const v = m.timeline.view()
    expect(v.samples).toHaveLength(1)
    expect(v.samples[0]).toMatchObject({ t: 1.1, written: 550, batches: 3, retries: 2 })
  })
})
