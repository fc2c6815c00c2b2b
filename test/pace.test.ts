import { describe, expect, it } from 'vitest'
import { PaceWindows } from '../src/load/pace.js'

/**
 * A schedule of `batches` batches of `lines` at `rate`, answered by a database that takes
 * `capacity` points/s (Infinity: all of it) after `baseMs`, with `jitter(i)` ms added to batch i's
 * answer. Feeds PaceWindows as LoadRun does: each latency when its answer arrives.
 */
function play(o: { rate: number; capacity: number; batches: number; lines: number; baseMs: number; jitter?: (i: number) => number }) {
  const w = new PaceWindows(o.rate, o.batches * o.lines, 0)
  let free = 0
  let last = 0
  const latencies: number[] = []
  for (let i = 0; i < o.batches; i++) {
    const intended = (i * o.lines * 1000) / o.rate
    // the database serves one batch at a time, each taking lines / capacity
    const start = Math.max(intended, free)
    free = start + (o.lines * 1000) / o.capacity
    const answered = free + o.baseMs + (o.jitter?.(i) ?? 0)
    const latency = answered - intended
    latencies.push(latency)
    w.record(latency / 1000, answered)
    last = Math.max(last, answered)
  }
  latencies.sort((a, b) => a - b)
  return w.kept(o.batches * o.lines, last, latencies[latencies.length >> 1]!)
}

describe('whether a paced run kept its rate', () => {
  it('a database that keeps up: the target, even when the very last answer is late', () => {
    const base = { rate: 200_000, capacity: Infinity, batches: 120, lines: 5000, baseMs: 20 }
    expect(play(base)).toMatchObject({ achievedPointsPerSecond: 200_000, lagGrowthMs: 0 })
    // judged by the duration, an 80 ms late last answer on a 3 s schedule read 97 %
    expect(play({ ...base, jitter: (i) => (i === 119 ? 80 : 0) }).achievedPointsPerSecond).toBe(200_000)
    // scattered noise of ±10 ms on every answer: still within 1 %
    expect(play({ ...base, jitter: (i) => ((i * 37) % 21) - 10 }).achievedPointsPerSecond).toBeGreaterThanOrEqual(198_000)
  })

  it('a database that keeps up once its queue has filled: the target (a run starts with empty queues)', () => {
    // latency climbs from 20 to 60 ms over the first 20 % of the schedule, then stays there
    const filling = play({ rate: 200_000, capacity: Infinity, batches: 160, lines: 5000, baseMs: 20, jitter: (i) => Math.min(40, i * 1.25) })
    expect(filling).toMatchObject({ achievedPointsPerSecond: 200_000, lagGrowthMs: 0 })
  })

  it('a database slower than the rate: what it took, within a few percent', () => {
    for (const [rate, capacity] of [[200_000, 180_000], [200_000, 196_000], [100_000, 50_000]] as const) {
      const got = play({ rate, capacity, batches: 120, lines: 5000, baseMs: 20 }).achievedPointsPerSecond
      expect(Math.abs(got - capacity) / capacity).toBeLessThan(0.03)
      expect(got).toBeLessThan(rate * 0.99)
    }
  })

  it('too few batches to compare: the duration less one median write', () => {
    // 4 batches, every quarter holds one: 20,000 points over 100 ms + a 50 ms write
    const w = new PaceWindows(200_000, 20_000, 0)
    for (let i = 0; i < 4; i++) w.record(0.05, i * 25 + 50)
    expect(w.kept(20_000, 150, 50)).toMatchObject({ achievedPointsPerSecond: 200_000, lagGrowthMs: 0 })
    expect(w.kept(20_000, 250, 50).achievedPointsPerSecond).toBe(100_000)
  })
})
