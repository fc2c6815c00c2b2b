import { describe, expect, it } from 'vitest'
import { MAX_SHARD_MS, MAX_SHARD_MS_MANY_SYMBOLS, planLoad, TARGET_TRADES_PER_SHARD } from '../src/plan/plan.js'
import { sameDataset } from '../src/market/dataset.js'
import { before, share } from '../src/plan/split.js'
import { stream } from '../src/market/rng.js'

describe('exact split', () => {
  it('parts sum to the total and differ by at most one', () => {
    for (const [total, parts] of [[10, 3], [1, 7], [0, 4], [1_000_003, 97], [7, 7]] as const) {
      const got = Array.from({ length: parts }, (_, i) => share(total, parts, i))
      expect(got.reduce((a, b) => a + b, 0)).toBe(total)
      expect(Math.max(...got) - Math.min(...got)).toBeLessThanOrEqual(1)
    }
  })

  it('stays exact past 2^53 (BigInt path)', () => {
    const total = 9_999_999_967
    const parts = 1_000_003
    expect(total * (parts - 1)).toBeGreaterThan(Number.MAX_SAFE_INTEGER)
    expect(before(total, parts, parts)).toBe(total)
    const i = 765_432
    expect(before(total, parts, i)).toBe(Number((BigInt(total) * BigInt(i)) / BigInt(parts)))
    expect(share(total, parts, i)).toBe(before(total, parts, i + 1) - before(total, parts, i))
  })
})

describe('plan', () => {
  const day = { fromMs: Date.parse('2024-03-01T00:00:00Z'), toMs: Date.parse('2024-03-02T00:00:00Z') }

  it('sizes shards from trades and range only', () => {
    expect(planLoad({ ...day, trades: 1, symbols: ['A'] }).shardCount).toBe(1)
    expect(planLoad({ ...day, trades: 1_000_000, symbols: ['A'] }).shardCount).toBe(1_000_000 / TARGET_TRADES_PER_SHARD)
    const tenYears = { fromMs: Date.parse('2015-01-01T00:00:00Z'), toMs: Date.parse('2025-01-01T00:00:00Z') }
    const p = planLoad({ ...tenYears, trades: 10, symbols: ['A'] })
    expect(p.shardCount).toBe(Math.ceil((tenYears.toMs - tenYears.fromMs) / MAX_SHARD_MS))
    // a 3 ms range cannot have more than 3 shards, whatever the trade count
    expect(planLoad({ fromMs: 0, toMs: 3, trades: 1_000_000, symbols: ['A'] }).shardCount).toBe(3)
  })

  it('shards tile the range exactly, without gaps or overlaps', () => {
    const plan = planLoad({ ...day, trades: 3_700_000, symbols: ['A'] })
    const n = plan.shardCount
    expect(n).toBe(37)
    let edge = day.fromMs
    for (let i = 0; i < n; i++) {
      const [a, b] = plan.shardBounds(i)
      expect(a).toBe(edge)
      expect(b).toBeGreaterThan(a)
      edge = b
    }
    expect(edge).toBe(day.toMs)
  })

  it('per-series counts add up to the load, and trade ids run 1..N per symbol', () => {
    const symbols = ['AAPL', 'MSFT', 'X']
    const plan = planLoad({ ...day, trades: 1_234_567, symbols })
    let all = 0
    for (let j = 0; j < symbols.length; j++) {
      let offset = 0
      for (let i = 0; i < plan.shardCount; i++) {
        const s = plan.seriesCount(j, i)
        expect(s.offset).toBe(offset)
        offset += s.count
      }
      expect(offset).toBe(plan.symbolTotal(j))
      all += offset
    }
    expect(all).toBe(1_234_567)
  })

  it('every series fits its shard with unique nanosecond timestamps (random plans at the density limit)', () => {
    const u = stream('plan-property')
    for (let t = 0; t < 300; t++) {
      const fromMs = Math.floor(u.next() * 1e12)
      const rangeMs = 1 + Math.floor(u.next() ** 4 * 30 * 86_400_000)
      const symbols = Array.from({ length: 1 + Math.floor(u.next() * 5) }, (_, k) => `S${k}`)
      // the densest load normalizeRequest accepts: one trade per 4 ns per symbol
      const trades = Math.max(1, Math.min(1e10, Math.floor((rangeMs * 1e6 * symbols.length) / 4 * u.next())))
      const plan = planLoad({ fromMs, toMs: fromMs + rangeMs, trades, symbols })
      for (const i of [0, plan.shardCount - 1, Math.floor(plan.shardCount / 2)]) {
        const [a, b] = plan.shardBounds(i)
        for (let j = 0; j < symbols.length; j++) {
          expect(plan.seriesCount(j, i).count).toBeLessThanOrEqual((b - a) * 1e6)
        }
      }
    }
  })
})

describe('dataset format 3: many symbols, longer series', () => {
  const year = { fromMs: Date.parse('2023-01-01T00:00:00Z'), toMs: Date.parse('2024-01-01T00:00:00Z') }
  const names = (n: number) => Array.from({ length: n }, (_, i) => `S${i}`)

  it('up to 1,000 symbols the layout is format 2\'s: 100,000 trades a shard', () => {
    for (const n of [1, 5, 999, 1000]) expect(planLoad({ ...year, trades: 20_000_000, symbols: names(n) }).shardCount).toBe(200)
    expect(sameDataset(2, 1000)).toBe(true)
    expect(sameDataset(2, 1001)).toBe(false)
    expect(sameDataset(1, 5)).toBe(false)
  })

  it('beyond, a shard holds at least 100 trades a symbol (time permitting: a shard spans at most 12 days)', () => {
    const plan = planLoad({ ...year, trades: 50_000_000, symbols: names(10_000) })
    expect(plan.shardCount).toBe(50) // 1,000,000 trades a shard: 100 a series
    // fewer trades: the 12-day cap sets the count (31 shards of 69 trades a series)
    expect(planLoad({ ...year, trades: 20_000_000, symbols: names(10_000) }).shardCount).toBe(Math.ceil((year.toMs - year.fromMs) / MAX_SHARD_MS_MANY_SYMBOLS))
    expect(MAX_SHARD_MS_MANY_SYMBOLS * 1e6).toBeLessThan(2 ** 50) // every offset in the encoder's exact range
    expect(planLoad({ ...year, trades: 50_000_000, symbols: names(1000) }).shardCount).toBe(500) // 1,000 symbols: format 2's layout
    let least = Infinity
    for (let i = 0; i < plan.shardCount; i++) least = Math.min(least, plan.seriesCount(0, i).count)
    expect(least).toBeGreaterThanOrEqual(90)
    const day = { fromMs: Date.parse('2024-01-02T00:00:00Z'), toMs: Date.parse('2024-01-03T00:00:00Z') }
    expect(planLoad({ ...day, trades: 20_000_000, symbols: names(2000) }).shardCount).toBe(100) // 200,000 a shard
  })
})
