import { describe, expect, it } from 'vitest'
import { MAX_SAMPLES, mergeSamples, Timeline } from '../src/load/timeline.js'
import type { TimelineSample } from '../src/model/timeline.js'
import { LoadRun } from '../src/load/run.js'
import { ShardPool } from '../workers/pool.js'
import { silent, spec } from './harness/load.js'

const sample = (t: number, over: Partial<TimelineSample> = {}): TimelineSample => ({
  t,
  dt: 1,
  written: t * 1000,
  pps: 1000,
  p50: 10,
  p90: 20,
  p99: 30,
  batches: 2,
  retries: 0,
  errorsRetryable: 0,
  errorsPermanent: 0,
  splits: 0,
  inFlight: 5000,
  circuit: 0,
  limit: 4,
  ...over,
})

describe('a load timeline', () => {
  it('stays bounded over a 1-hour load: between half and all of MAX_SAMPLES, spanning all of it, with the counts kept', () => {
    const tl = new Timeline()
    let retries = 0
    for (let t = 1; t <= 3600; t++) {
      const r = t % 97 === 0 ? 3 : 0
      retries += r
      tl.add(sample(t, { retries: r, p99: t === 1234 ? 900 : 30, circuit: t === 2000 ? 2 : 0, limit: t === 2500 ? 1 : 4 }))
    }
    const v = tl.view()
    expect(v.samples.length).toBeLessThanOrEqual(MAX_SAMPLES)
    expect(v.samples.length).toBeGreaterThanOrEqual(MAX_SAMPLES / 2)
    expect(v.resolutionSeconds).toBe(8)
    expect(v.samples.at(-1)!.t).toBe(3600)
    expect(v.samples.reduce((n, s) => n + s.dt, 0)).toBe(3600)
    expect(v.samples.reduce((n, s) => n + s.retries, 0)).toBe(retries)
    // a spike, an open circuit and a dip of the limit survive the downsampling
    expect(Math.max(...v.samples.map((s) => s.p99 ?? 0))).toBe(900)
    expect(Math.max(...v.samples.map((s) => s.circuit))).toBe(2)
    expect(Math.min(...v.samples.map((s) => s.limit))).toBe(1)
    const bytes = JSON.stringify(v).length
    console.log(`timeline of a 1-hour load: ${v.samples.length} samples at ${v.resolutionSeconds} s, ${bytes.toLocaleString('en-US')} bytes as JSON`)
    expect(bytes).toBeLessThan(150_000)
  })

  it('merges two intervals: rates weighted by time, p99 the higher, levels the worst', () => {
    const m = mergeSamples(sample(1, { pps: 1000, p50: 10, batches: 1 }), sample(3, { dt: 2, pps: 4000, p50: 40, batches: 3, p99: 10, circuit: 1, inFlight: 9, limit: 2 }))
    expect(m).toMatchObject({ t: 3, dt: 3, pps: 3000, p50: 32.5, p99: 30, batches: 4, circuit: 1, inFlight: 5000, limit: 2 })
    expect(mergeSamples(sample(1, { p50: null, p90: null, p99: null, batches: 0 }), sample(2)).p50).toBe(10)
  })

  it("a run's short last interval is folded into the sample before it: no spike, no count lost", () => {
    const tl = new Timeline()
    tl.add(sample(1))
    tl.add(sample(2))
    tl.addTail(sample(2.06, { dt: 0.06, pps: 900_000, batches: 3, retries: 1 }))
    const v = tl.view().samples
    expect(v).toHaveLength(2)
    expect(v[1]).toMatchObject({ t: 2.06, dt: 1.06, batches: 5, retries: 1 })
    expect(v[1]!.pps).toBe(Math.round((1000 * 1 + 900_000 * 0.06) / 1.06))
  })

  it('a real load samples itself: written grows to the plan, the samples cover the load', async () => {
    const s = spec({ trades: 3_000_000, seed: 'timeline', from: '2024-01-01T00:00:00Z', to: '2024-01-03T00:00:00Z' })
    const pool = new ShardPool(2)
    try {
      const load = new LoadRun({ id: 't', spec: s, sink: { kind: 'null' }, pool, log: silent })
      const result = await load.run()
      const v = load.timeline.view()
      expect(v.samples.length).toBeGreaterThanOrEqual(1)
      expect(v.samples.at(-1)!.written).toBe(result.pointsWritten)
      expect(v.samples.reduce((n, x) => n + x.batches, 0)).toBe(result.batchesWritten)
      expect(v.samples.at(-1)!.t).toBeCloseTo(result.durationMs / 1000, 0)
    } finally {
      await pool.close()
    }
  })
})
