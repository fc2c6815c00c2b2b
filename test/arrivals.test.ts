import { describe, expect, it } from 'vitest'
import { fillArrivals } from '../src/market/arrivals.js'
import { stream } from '../src/market/rng.js'

function check(out: Float64Array, n: number, width: number) {
  for (let k = 0; k < n; k++) {
    expect(Number.isInteger(out[k])).toBe(true)
    expect(out[k]).toBeGreaterThanOrEqual(0)
    expect(out[k]).toBeLessThan(width)
    if (k > 0) expect(out[k]!).toBeGreaterThan(out[k - 1]!)
  }
}

describe('arrivals', () => {
  it.each(['uniform', 'poisson'] as const)('%s: strictly increasing integers inside the shard', (d) => {
    const evenly = d === 'uniform'
    for (const [n, width] of [[1, 1], [5, 5], [1000, 1000], [1000, 86_400e9], [50_000, 604_800e9]] as const) {
      const out = new Float64Array(n)
      fillArrivals(out, n, width, evenly, stream('arrivals', d, n))
      check(out, n, width)
    }
  })

  it('poisson gaps look exponential (mean ≈ sd), uniform gaps are constant', () => {
    const n = 100_000
    const width = 86_400e9
    const out = new Float64Array(n)
    fillArrivals(out, n, width, false, stream('gaps'))
    const gaps = Array.from({ length: n - 1 }, (_, k) => out[k + 1]! - out[k]!)
    const mean = gaps.reduce((a, b) => a + b, 0) / gaps.length
    const sd = Math.sqrt(gaps.reduce((a, g) => a + (g - mean) ** 2, 0) / gaps.length)
    expect(mean).toBeCloseTo(width / n, -6)
    expect(sd / mean).toBeGreaterThan(0.95)
    expect(sd / mean).toBeLessThan(1.05)
    fillArrivals(out, n, width, true, stream('gaps'))
    const ug = new Set(Array.from({ length: n - 1 }, (_, k) => Math.round((out[k + 1]! - out[k]!) / 1000)))
    expect(ug.size).toBeLessThanOrEqual(2)
  })

  it('refuses more arrivals than nanoseconds', () => {
    expect(() => fillArrivals(new Float64Array(3), 3, 2, true, stream('x'))).toThrow(RangeError)
  })
})
