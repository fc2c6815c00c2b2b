import type { Plan } from '../plan/plan.js'
import { tickDecimals } from '../request/normalize.js'
import type { LoadSpec, SymbolParamsSpec } from '../request/schema.js'
import { burstProfile, fillArrivals, fillArrivalsFromProfile } from './arrivals.js'
import { exp } from './exp.js'
import { EdgePath } from './path.js'
import { CARRY, HAS_SPARE, S0, S1, S2, SPARE, stream } from './rng.js'
import { SessionCalendar, type Profile } from './session.js'
import { EXCHANGE_SHARES, type MarketModel, type TradeColumns } from './trades.js'

const MS_PER_YEAR = 365.25 * 24 * 3600 * 1000
const NS_PER_YEAR = MS_PER_YEAR * 1e6

export type MarketInput = Pick<LoadSpec, 'seed' | 'symbols' | 'fromMs' | 'toMs' | 'distribution' | 'market' | 'session'>

/** A symbol's start price, volatility and drift: from the request where given, else from the seed. */
export function symbolParams(spec: Pick<LoadSpec, 'seed' | 'market'>, symbol: string): SymbolParamsSpec {
  const u = stream(spec.seed, symbol, 'profile')
  const drawn = {
    price: Math.exp(Math.log(20) + u.next() * Math.log(25)), // 20..500, log-uniform
    volatility: 0.15 + 0.45 * u.next(), // 15%..60% a year
    drift: -0.05 + 0.2 * u.next(), // -5%..+15% a year
  }
  return { ...drawn, ...spec.market.symbols[symbol] }
}

/**
 * Geometric Brownian motion per symbol: log S(t) = log S0 + (μ − σ²/2)·t + σ·W(t), t in years
 * since the load's start, rounded to the tick. W at shard edges comes from EdgePath; inside a shard
 * each trade is a Brownian-bridge step towards the next edge, so the path is continuous across
 * shards and identical whatever the shard a worker happens to run.
 *
 * Sizes: heavy-tailed, mostly round lots (100 × log-normal), some odd lots, rare blocks (~10,000
 * shares). Sides follow the tick rule loosely: an uptick is a buy 70% of the time. Exchanges by
 * fixed market shares.
 */
export class GbmModel implements MarketModel {
  readonly tickDecimals: number
  private readonly tickUnits: number
  private readonly tick: number
  private readonly calendar: SessionCalendar | undefined
  private readonly paths = new Map<number, EdgePath>()
  private readonly params = new Map<number, SymbolParamsSpec>()
  private profileFor: { shard: number; profile: Profile | null } | undefined

  constructor(
    private readonly spec: MarketInput,
    private readonly plan: Plan,
  ) {
    this.tick = spec.market.tickSize
    this.tickDecimals = tickDecimals(this.tick)
    this.tickUnits = Math.round(this.tick * 10 ** this.tickDecimals)
    if (spec.distribution === 'intraday') this.calendar = new SessionCalendar(spec.session)
  }

  /** Time of shard edge k in years since the load's start (edge shardCount is `to`). */
  private edgeYears = (k: number): number =>
    ((k >= this.plan.shardCount ? this.spec.toMs : this.plan.shardBounds(k)[0]) - this.spec.fromMs) / MS_PER_YEAR

  private path(j: number): EdgePath {
    let p = this.paths.get(j)
    if (!p) {
      p = new EdgePath(this.spec.seed, this.spec.symbols[j]!, this.plan.shardCount, this.edgeYears)
      this.paths.set(j, p)
    }
    return p
  }

  paramsOf(j: number): SymbolParamsSpec {
    let p = this.params.get(j)
    if (!p) {
      p = symbolParams(this.spec, this.spec.symbols[j]!)
      this.params.set(j, p)
    }
    return p
  }

  /** The intraday profile is the same for every symbol of a shard: built once. */
  private sessionProfile(shard: number, startMs: number, endMs: number): Profile | null {
    if (this.profileFor?.shard !== shard) this.profileFor = { shard, profile: this.calendar!.profile(startMs, endMs) }
    return this.profileFor.profile
  }

  fillSeries(j: number, shard: number, count: number, out: TradeColumns): void {
    if (count > out.capacity) throw new RangeError(`columns hold ${out.capacity}, series needs ${count}`)
    if (count === 0) return
    const symbol = this.spec.symbols[j]!
    const [startMs, endMs] = this.plan.shardBounds(shard)
    const widthNs = (endMs - startMs) * 1e6
    const u = stream(this.spec.seed, symbol, shard)

    switch (this.spec.distribution) {
      case 'uniform':
        fillArrivals(out.timeNs, count, widthNs, true, u)
        break
      case 'poisson':
        fillArrivals(out.timeNs, count, widthNs, false, u)
        break
      case 'intraday': {
        const profile = this.sessionProfile(shard, startMs, endMs)
        if (!profile) throw new RangeError(`shard ${shard} has trades but no session time`)
        fillArrivalsFromProfile(out.timeNs, count, widthNs, profile, u)
        break
      }
      case 'bursty':
        fillArrivalsFromProfile(out.timeNs, count, widthNs, burstProfile(widthNs, u), u)
        break
    }

    const { price, volatility: sigma, drift: mu } = this.paramsOf(j)
    const path = this.path(j)
    const wEnd = path.at(shard + 1)
    const t0 = (startMs - this.spec.fromMs) / MS_PER_YEAR
    const tauEnd = widthNs / NS_PER_YEAR
    const params: TradeParams = { wEnd, t0, tauEnd, logS0: Math.log(price), drift: mu - (sigma * sigma) / 2, sigma, tick: this.tick, tickUnits: this.tickUnits }
    const walk = new Float64Array([path.at(shard), 0, 0])
    for (let from = 0; from < count; from += CHUNK) fillTrades(out, from, Math.min(count, from + CHUNK), u.state, walk, params)
  }
}

/**
 * Trades a call of fillTrades fills: a short loop, so that V8 optimises the function as a whole
 * after a few calls. One long loop per series runs in on-stack-replaced code instead, which keeps
 * its doubles boxed: ~140 bytes of garbage per trade and a slower loop.
 */
const CHUNK = 1024

/**
 * Prices, sizes, sides and exchanges of trades [from, to), arrival times given. Per trade, in this
 * order of draws: a normal for the bridge step, the size (a uniform for its kind, then a uniform
 * or a normal), a uniform for the side, one for the exchange.
 *
 * The hot loop of generation. Alea is stepped inline with its state in locals (loaded from and
 * stored back to the stream's state, see Draws), the polar normals too, and side and exchange are
 * picked without branches: the numbers are exactly those of `u.next()` and polar Box–Muller
 * normals taken in that order, in about 60% of the time. `ALEA_STEP` below is Alea's step,
 * spelled out where a draw is taken. `walk` carries W, τ and the last price across calls.
 */
function fillTrades(out: TradeColumns, from: number, to: number, st: Float64Array, walk: Float64Array, p: TradeParams): void {
  const { timeNs, priceUnits, size, side, exchange } = out
  const { wEnd, t0, tauEnd, logS0, drift, sigma, tick, tickUnits } = p
  let s0 = st[S0]!
  let s1 = st[S1]!
  let s2 = st[S2]!
  let c = st[CARRY]!
  let spare = st[SPARE]!
  let hasSpare = st[HAS_SPARE] === 1
  let t = 0 // ALEA_STEP: t = 2091639 * s0 + c * 2^-32; s0 = s1; s1 = s2; c = t | 0; s2 = t - c
  let x = 0
  let y = 0
  let q = 0
  let w = walk[0]!
  let tau = walk[1]!
  let prevUnits = walk[2]!
  // in locals: V8 cannot keep typed-array loads out of a loop that stores to other typed arrays
  const cut1 = EXCHANGE_CUTS[0]!
  const cut2 = EXCHANGE_CUTS[1]!
  const cut3 = EXCHANGE_CUTS[2]!
  const cut4 = EXCHANGE_CUTS[3]!
  for (let k = from; k < to; k++) {
    // Draws, in this order: a standard normal for the bridge; the size's kind; for a round lot or
    // a block, a second normal (polar Box–Muller, spare kept; one code path for both normals).
    let z = 0
    let z2 = 0
    let kind = 0
    for (let n = 0; n < 2; n++) {
      if (n === 1) {
        t = 2091639 * s0 + c * 2.3283064365386963e-10; s0 = s1; s1 = s2; c = t | 0; s2 = t - c
        kind = s2
        if (kind < 0.12) break
      }
      let g: number
      if (hasSpare) {
        hasSpare = false
        g = spare
      } else {
        do {
          t = 2091639 * s0 + c * 2.3283064365386963e-10; s0 = s1; s1 = s2; c = t | 0; s2 = t - c
          x = 2 * s2 - 1
          t = 2091639 * s0 + c * 2.3283064365386963e-10; s0 = s1; s1 = s2; c = t | 0; s2 = t - c
          y = 2 * s2 - 1
          q = x * x + y * y
        } while (q >= 1 || q === 0)
        const f = Math.sqrt((-2 * Math.log(q)) / q)
        spare = y * f
        hasSpare = true
        g = x * f
      }
      if (n === 0) z = g
      else z2 = g
    }
    // shard-local time keeps nanosecond steps visible (t0 + tau alone would round them away)
    const next = timeNs[k]! / NS_PER_YEAR
    // Brownian-bridge step pinned at (tauEnd, wEnd): the law of W(next) given W(tau) and W(tauEnd).
    // Written out here: a call that is not inlined passes its doubles boxed.
    const span = tauEnd - tau
    if (span <= 0) w = wEnd
    else {
      const dt = next - tau
      w = w + (dt / span) * (wEnd - w) + Math.sqrt(Math.max(0, (dt * (tauEnd - next)) / span)) * z
    }
    tau = next
    const units = Math.max(1, Math.round(exp(logS0 + drift * (t0 + tau) + sigma * w) / tick)) * tickUnits
    priceUnits[k] = units

    // Size: odd lots 12% (a uniform), round lots 87.5% (100 × log-normal lots), blocks 0.5%
    // (~10,000 shares).
    if (kind < 0.12) {
      t = 2091639 * s0 + c * 2.3283064365386963e-10; s0 = s1; s1 = s2; c = t | 0; s2 = t - c
      size[k] = 1 + Math.floor(s2 * 99)
    } else {
      size[k] = kind < 0.995 ? 100 * Math.max(1, Math.round(exp(0.4 + 0.8 * z2))) : 100 * Math.max(50, Math.round(exp(LOG_100 + 0.7 * z2)))
    }

    // Side by the tick rule: a buy with 0.7 after an uptick, 0.3 after a downtick, else 0.5.
    if (k === 0) prevUnits = units // the first trade has no tick to follow
    const move = +(units > prevUnits) - +(units < prevUnits)
    prevUnits = units
    t = 2091639 * s0 + c * 2.3283064365386963e-10; s0 = s1; s1 = s2; c = t | 0; s2 = t - c
    side[k] = +(s2 >= P_BUY[1 + move]!)

    // Exchange: the first whose cumulative share exceeds the draw.
    t = 2091639 * s0 + c * 2.3283064365386963e-10; s0 = s1; s1 = s2; c = t | 0; s2 = t - c
    exchange[k] = +(s2 >= cut1) + +(s2 >= cut2) + +(s2 >= cut3) + +(s2 >= cut4)
  }
  st[S0] = s0
  st[S1] = s1
  st[S2] = s2
  st[CARRY] = c
  st[SPARE] = spare
  st[HAS_SPARE] = hasSpare ? 1 : 0
  walk[0] = w
  walk[1] = tau
  walk[2] = prevUnits
}

interface TradeParams {
  /** W at the shard's end edge */
  wEnd: number
  /** shard start in years since the load's start; shard width in years */
  t0: number
  tauEnd: number
  logS0: number
  /** μ − σ²/2 */
  drift: number
  sigma: number
  tick: number
  /** tick in units of 10^-tickDecimals */
  tickUnits: number
}

const LOG_100 = Math.log(100)
/** P(buy) after a downtick, no move, an uptick */
const P_BUY = new Float64Array([0.3, 0.5, 0.7])
/** Cumulative exchange shares, summed in order as a linear scan would: the same cut points. */
const EXCHANGE_CUTS = new Float64Array(EXCHANGE_SHARES.length - 1)
for (let e = 0, acc = 0; e < EXCHANGE_CUTS.length; e++) EXCHANGE_CUTS[e] = acc += EXCHANGE_SHARES[e]!
