import seedrandom from 'seedrandom'
import { describe, expect, it } from 'vitest'
import { exp } from '../src/market/exp.js'
import { stream } from '../src/market/rng.js'
import { SessionCalendar } from '../src/market/session.js'
import { generate } from './harness/generate.js'
import { spec } from './harness/load.js'

const MS_PER_YEAR = 365.25 * 86_400_000

function sd(xs: number[]): number {
  const m = xs.reduce((a, b) => a + b, 0) / xs.length
  return Math.sqrt(xs.reduce((a, x) => a + (x - m) ** 2, 0) / (xs.length - 1))
}

describe('prices: geometric Brownian motion, continuous across shards', () => {
  it('a log-return across a shard edge is distributed like any other of the same time step', () => {
    const symbols = Array.from({ length: 100 }, (_, k) => `S${k}`)
    const s = spec({
      symbols,
      trades: 4_000_000,
      from: '2024-04-01T00:00:00Z',
      to: '2024-04-02T00:00:00Z',
      distribution: 'uniform',
      seed: 'edges',
      market: { tickSize: 0.0001, symbols: Object.fromEntries(symbols.map((x) => [x, { price: 1000, volatility: 0.3, drift: 0 }])) },
    })
    const last = new Map<number, { t: number; p: number; shard: number }>()
    const inside: number[] = []
    const across: number[] = []
    const plan = generate(s, (j, shard, cols, count, startMs) => {
      let prev = last.get(j)
      for (let k = 0; k < count; k++) {
        const t = startMs * 1e6 + cols.timeNs[k]!
        const p = cols.priceUnits[k]!
        if (prev) {
          // standardise by the time step: r / sqrt(dt) has the same law everywhere under GBM
          const z = Math.log(p / prev.p) / Math.sqrt((t - prev.t) / 1e6 / MS_PER_YEAR)
          ;(prev.shard === shard ? inside : across).push(z)
        }
        prev = { t, p, shard }
      }
      last.set(j, prev!)
    })
    expect(plan.shardCount).toBe(40)
    expect(across.length).toBe(100 * 39)
    const ratio = sd(across) / sd(inside)
    expect(ratio).toBeGreaterThan(0.95)
    expect(ratio).toBeLessThan(1.05)
    expect(sd(inside)).toBeGreaterThan(0.3 * 0.97)
    expect(sd(inside)).toBeLessThan(0.3 * 1.03)
    const meanAcross = across.reduce((a, b) => a + b, 0) / across.length
    expect(Math.abs(meanAcross)).toBeLessThan((4 * 0.3) / Math.sqrt(across.length))
  })

  it('the sample volatility of 1-minute returns over a month is the configured one', () => {
    const s = spec({
      symbols: ['AAPL'],
      trades: 1_500_000,
      from: '2024-01-01T00:00:00Z',
      to: '2024-01-31T00:00:00Z',
      distribution: 'poisson',
      seed: 'vol',
      market: { symbols: { AAPL: { price: 190, volatility: 0.25, drift: 0 } } },
    })
    const closes = new Map<number, number>()
    generate(s, (_j, _i, cols, count, startMs) => {
      for (let k = 0; k < count; k++) closes.set(Math.floor((startMs + cols.timeNs[k]! / 1e6) / 60_000), cols.priceUnits[k]!)
    })
    const minutes = [...closes.keys()].sort((a, b) => a - b)
    const returns: number[] = []
    for (let k = 1; k < minutes.length; k++) {
      if (minutes[k]! - minutes[k - 1]! === 1) returns.push(Math.log(closes.get(minutes[k]!)! / closes.get(minutes[k - 1]!)!))
    }
    expect(returns.length).toBeGreaterThan(40_000)
    const annual = sd(returns) * Math.sqrt(MS_PER_YEAR / 60_000)
    expect(annual).toBeGreaterThan(0.25 * 0.97)
    expect(annual).toBeLessThan(0.25 * 1.03)
  })
})

describe('arrivals', () => {
  it('intraday: only inside the session (DST-aware), U-shaped: open and close busier than midday', () => {
    // A week in July (EDT, session 13:30-20:00 UTC) with a weekend in it.
    const s = spec({ symbols: Array.from({ length: 20 }, (_, k) => `T${k}`), trades: 400_000, from: '2024-07-05T00:00:00Z', to: '2024-07-09T00:00:00Z', distribution: 'intraday', seed: 'day' })
    const cal = new SessionCalendar(s.session)
    // sessions open and close on whole minutes: check each minute once
    const minuteInSession = new Map<number, boolean>()
    const inSession = (ms: number) => {
      const m = Math.floor(ms / 60_000)
      let v = minuteInSession.get(m)
      if (v === undefined) minuteInSession.set(m, (v = cal.inSession(m * 60_000) && cal.inSession(m * 60_000 + 59_999)))
      return v
    }
    let outside = 0
    const byHalfHour = new Map<string, number>()
    const byDay = new Map<number, number>()
    generate(s, (_j, _i, cols, count, startMs) => {
      for (let k = 0; k < count; k++) {
        const ms = startMs + Math.floor(cols.timeNs[k]! / 1e6)
        if (!inSession(ms)) outside++
        const d = new Date(ms)
        byDay.set(d.getUTCDay(), (byDay.get(d.getUTCDay()) ?? 0) + 1)
        const slot = `${d.getUTCHours()}:${d.getUTCMinutes() < 30 ? '00' : '30'}`
        byHalfHour.set(slot, (byHalfHour.get(slot) ?? 0) + 1)
      }
    })
    expect(outside).toBe(0)
    expect([...byDay.keys()].sort()).toEqual([1, 5]) // Friday and Monday only
    const open = byHalfHour.get('13:30')!
    const close = byHalfHour.get('19:30')!
    const midday = byHalfHour.get('16:30')!
    expect(open).toBeGreaterThan(2.5 * midday)
    expect(close).toBeGreaterThan(2.5 * midday)
    expect(byHalfHour.has('13:00')).toBe(false)
    expect(byHalfHour.has('20:00')).toBe(false)
    // In January (EST) the same local session is an hour later in UTC.
    const jan = new SessionCalendar(s.session).bounds(Math.floor(Date.parse('2024-01-10T00:00:00Z') / 86_400_000))
    expect(new Date(jan[0]).toISOString()).toBe('2024-01-10T14:30:00.000Z')
    expect(new Date(jan[1]).toISOString()).toBe('2024-01-10T21:00:00.000Z')
  })

  it('poisson: inter-arrival times are exponential (Kolmogorov-Smirnov at 1%)', () => {
    const s = spec({ symbols: ['P'], trades: 50_000, from: '2024-02-01T00:00:00Z', to: '2024-02-02T00:00:00Z', distribution: 'poisson', seed: 'ks' })
    const times: number[] = []
    generate(s, (_j, _i, cols, count, startMs) => {
      for (let k = 0; k < count; k++) times.push(startMs * 1e6 + cols.timeNs[k]!)
    })
    const gaps = times.slice(1).map((t, k) => t - times[k]!).sort((a, b) => a - b)
    const mean = gaps.reduce((a, b) => a + b, 0) / gaps.length
    let d = 0
    gaps.forEach((g, k) => {
      const f = 1 - Math.exp(-g / mean)
      d = Math.max(d, Math.abs(f - k / gaps.length), Math.abs(f - (k + 1) / gaps.length))
    })
    expect(d).toBeLessThan(1.63 / Math.sqrt(gaps.length))
  })

  it('bursty: per-second counts are over-dispersed; poisson ones are not', () => {
    const dispersion = (distribution: 'bursty' | 'poisson') => {
      const s = spec({ symbols: ['B'], trades: 200_000, from: '2024-02-01T00:00:00Z', to: '2024-02-02T00:00:00Z', distribution, seed: 'burst' })
      const perSecond = new Float64Array(86_400)
      generate(s, (_j, _i, cols, count, startMs) => {
        for (let k = 0; k < count; k++) perSecond[Math.floor((startMs - s.fromMs + cols.timeNs[k]! / 1e6) / 1000)]!++
      })
      const xs = [...perSecond]
      const m = xs.reduce((a, b) => a + b, 0) / xs.length
      return sd(xs) ** 2 / m
    }
    expect(dispersion('bursty')).toBeGreaterThan(5)
    const p = dispersion('poisson')
    expect(p).toBeGreaterThan(0.9)
    expect(p).toBeLessThan(1.1)
  })

  it('weights: symbol shares follow the weights and the total stays exact', () => {
    const s = spec({ symbols: ['BIG', 'MID', 'A', 'B'], weights: { BIG: 10, MID: 3 }, trades: 1_000_003, seed: 'w', distribution: 'uniform' })
    const counts = [0, 0, 0, 0]
    generate(s, (j, _i, _c, count) => (counts[j]! += count))
    expect(counts.reduce((a, b) => a + b, 0)).toBe(1_000_003)
    expect(counts[0]! / counts[2]!).toBeCloseTo(10, 2)
    expect(counts[1]! / counts[3]!).toBeCloseTo(3, 2)
  })
})

describe('sizes and sides', () => {
  it('sizes are heavy-tailed round lots with some odd lots and rare blocks; both sides trade', () => {
    const s = spec({ symbols: ['Z'], trades: 200_000, seed: 'sizes' })
    const sizes: number[] = []
    let buys = 0
    generate(s, (_j, _i, cols, count) => {
      for (let k = 0; k < count; k++) {
        sizes.push(cols.size[k]!)
        if (cols.side[k] === 0) buys++
      }
    })
    const roundLots = sizes.filter((x) => x % 100 === 0).length / sizes.length
    expect(roundLots).toBeGreaterThan(0.8)
    expect(roundLots).toBeLessThan(0.95)
    expect(sizes.filter((x) => x >= 5000).length / sizes.length).toBeGreaterThan(0.003)
    sizes.sort((a, b) => a - b)
    expect(sizes.at(-1)! / sizes[sizes.length >> 1]!).toBeGreaterThan(50)
    expect(buys / sizes.length).toBeGreaterThan(0.45)
    expect(buys / sizes.length).toBeLessThan(0.55)
  })
})

describe('seeded streams', () => {
  it('are seedrandom’s Alea, draw for draw', () => {
    for (const name of ['gold/AAPL/0', 'x', 'bench/BRK.B/12345', '日本/1']) {
      const ours = stream(...(name.split('/') as [string, ...string[]]))
      const theirs = seedrandom.alea(name)
      for (let k = 0; k < 10_000; k++) expect(ours.next()).toBe(theirs())
    }
  })
})

describe('exp', () => {
  it('is Math.exp bit for bit, on its main path and off it', () => {
    const u = stream('exp-check')
    const ranges: [number, number][] = [[-1, 1], [-8, 8], [-0.7, 0.7], [0.3, 1.1], [-1.1, -0.3], [2, 7], [-720, 720], [-1e-7, 1e-7]]
    for (const [a, b] of ranges) {
      for (let k = 0; k < 200_000; k++) {
        const x = a + (b - a) * u.next()
        if (!Object.is(exp(x), Math.exp(x))) expect.fail(`exp(${x}) = ${exp(x)}, Math.exp: ${Math.exp(x)}`)
      }
    }
    for (const x of [0, -0, 1, -1, 2, Math.LN2 / 2, Math.LN2 * 1.5, 709.78, 709.79, -745.2, -745.1, 1e-300, Infinity, -Infinity, NaN, Number.MIN_VALUE]) {
      expect(Object.is(exp(x), Math.exp(x))).toBe(true)
    }
  })
})
