import seedrandom from 'seedrandom'
import { describe, expect, it } from 'vitest'
import { exp } from '../src/market/exp.js'
import { CUT, roundLots } from '../src/market/lots.js'
import { stream } from '../src/market/rng.js'
import { exponential, normal } from '../src/market/ziggurat.js'
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
    const gaps = times.slice(1).map((t, k) => t - times[k]!)
    const mean = gaps.reduce((a, b) => a + b, 0) / gaps.length
    expect(ksDistance(gaps, (g) => 1 - Math.exp(-g / mean))).toBeLessThan(1.63 / Math.sqrt(gaps.length))
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
  it('are seedrandom’s tychei, draw for draw', () => {
    for (const name of ['gold/AAPL/0', 'x', 'bench/BRK.B/12345', '日本/1']) {
      const ours = stream(...(name.split('/') as [string, ...string[]]))
      const theirs = seedrandom.tychei(name)
      for (let k = 0; k < 10_000; k++) expect(ours.next()).toBe(theirs())
      const words = seedrandom.tychei(name)
      const again = stream(...(name.split('/') as [string, ...string[]]))
      for (let k = 0; k < 10_000; k++) expect(again.int32()).toBe(words.int32())
    }
  })
})

/** Φ, the standard normal CDF (Abramowitz & Stegun 7.1.26: error below 1.5e-7, far under the KS bound). */
function phi(x: number): number {
  const z = Math.abs(x) / Math.SQRT2
  const t = 1 / (1 + 0.3275911 * z)
  const erf = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-z * z)
  return x >= 0 ? (1 + erf) / 2 : (1 - erf) / 2
}

/** Kolmogorov–Smirnov distance of a sample from a CDF. */
function ksDistance(xs: number[], cdf: (x: number) => number): number {
  const sorted = [...xs].sort((a, b) => a - b)
  let d = 0
  sorted.forEach((x, k) => {
    const f = cdf(x)
    d = Math.max(d, Math.abs(f - k / sorted.length), Math.abs(f - (k + 1) / sorted.length))
  })
  return d
}

describe('ziggurat samplers', () => {
  const N = 400_000
  it('normal: passes Kolmogorov–Smirnov at 1%, moments of N(0, 1), tails at their rate, both signs', () => {
    const u = stream('zig-normal')
    const xs = Array.from({ length: N }, () => normal(u))
    expect(ksDistance(xs, phi)).toBeLessThan(1.63 / Math.sqrt(N))
    const mean = xs.reduce((a, b) => a + b, 0) / N
    const m2 = xs.reduce((a, x) => a + (x - mean) ** 2, 0) / N
    const m4 = xs.reduce((a, x) => a + (x - mean) ** 4, 0) / N
    expect(Math.abs(mean)).toBeLessThan(4 / Math.sqrt(N))
    expect(m2).toBeCloseTo(1, 2)
    expect(m4 / (m2 * m2)).toBeCloseTo(3, 1) // kurtosis
    // beyond the base layer's edge (3.654): the tail sampler; expected 2·(1 − Φ(3.654))·N ≈ 103
    const tail = xs.filter((x) => Math.abs(x) > 3.6541528853610088)
    expect(tail.length).toBeGreaterThan(60)
    expect(tail.length).toBeLessThan(150)
    expect(tail.some((x) => x > 0) && tail.some((x) => x < 0)).toBe(true)
    // the upper half of one layer [x_{i-1}, x_i] goes through the wedge test: 1.0 ≤ |x| ≤ 1.2 at its rate
    const band = xs.filter((x) => Math.abs(x) >= 1 && Math.abs(x) <= 1.2).length / N
    const p = 2 * (phi(1.2) - phi(1))
    expect(Math.abs(band - p)).toBeLessThan(4 * Math.sqrt((p * (1 - p)) / N))
  })

  it('exponential: passes Kolmogorov–Smirnov at 1%, mean 1, tail at its rate', () => {
    const u = stream('zig-exp')
    const xs = Array.from({ length: N }, () => exponential(u))
    expect(ksDistance(xs, (x) => 1 - Math.exp(-x))).toBeLessThan(1.63 / Math.sqrt(N))
    expect(xs.reduce((a, b) => a + b, 0) / N).toBeCloseTo(1, 2)
    expect(xs.every((x) => x >= 0)).toBe(true)
    // beyond 7.697 (the tail sampler): expected e^-7.697·N ≈ 181
    const tail = xs.filter((x) => x > 7.697117470131487).length
    expect(tail).toBeGreaterThan(130)
    expect(tail).toBeLessThan(240)
  })
})

describe('round lots', () => {
  it('follow max(1, round(e^(0.4 + 0.8·Z))) lot by lot, and the guide finds what a plain search finds', () => {
    const u = stream('lots')
    const N = 1_000_000
    const counts = new Map<number, number>()
    for (let k = 0; k < N; k++) {
      const v = u.int32() >>> 0
      const m = roundLots(v)
      if (k < 20_000) {
        let plain = 1
        while (v >= CUT[plain]!) plain++
        expect(m).toBe(plain)
      }
      counts.set(m, (counts.get(m) ?? 0) + 1)
    }
    // P(m ≤ M) = Φ((ln(M + ½) − 0.4) / 0.8), with Φ from the test's own approximation
    const cdf = (M: number): number => (M < 1 ? 0 : phi((Math.log(M + 0.5) - 0.4) / 0.8))
    for (const m of [1, 2, 3, 5, 8, 13, 21]) {
      const p = cdf(m) - cdf(m - 1)
      expect(Math.abs((counts.get(m) ?? 0) / N - p)).toBeLessThan(4 * Math.sqrt((p * (1 - p)) / N) + 2e-7)
    }
    const heavy = [...counts].filter(([m]) => m > 30).reduce((a, [, c]) => a + c, 0) / N
    expect(Math.abs(heavy - (1 - cdf(30)))).toBeLessThan(4 * Math.sqrt(((1 - cdf(30)) * cdf(30)) / N))
    // the last lot count takes the top of the range; nothing is ever out of it
    expect(roundLots(0)).toBe(1)
    expect(roundLots(2 ** 32 - 1)).toBe(CUT.length - 1)
    expect(CUT.length - 1).toBeGreaterThan(200)
  })
})

describe('exp', () => {
  it('is within 2 ulp of Math.exp over prices’ and sizes’ range, and Math.exp beyond it', () => {
    const f = new Float64Array(2)
    const bits = new BigInt64Array(f.buffer)
    const ulps = (a: number, b: number): number => {
      f[0] = a
      f[1] = b
      return Math.abs(Number(bits[0]! - bits[1]!))
    }
    const u = stream('exp-check')
    const ranges: [number, number][] = [[-1, 1], [-8, 8], [-1e-7, 1e-7], [2, 25], [-700, 700]]
    let worst = 0
    for (const [a, b] of ranges) {
      for (let k = 0; k < 300_000; k++) {
        const x = a + (b - a) * u.next()
        worst = Math.max(worst, ulps(exp(x), Math.exp(x)))
      }
    }
    expect(worst).toBeLessThanOrEqual(2)
    for (const x of [0, -0, 1, -1, 699.9, -699.9]) expect(ulps(exp(x), Math.exp(x))).toBeLessThanOrEqual(2)
    for (const x of [700, -700, 709.79, -745.2, Infinity, -Infinity, NaN]) expect(Object.is(exp(x), Math.exp(x))).toBe(true)
  })
})
