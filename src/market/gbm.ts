import type { Plan } from '../plan/plan.js'
import { tickDecimals } from '../model/tick.js'
import type { LoadSpec, SymbolParamsSpec } from '../model/request.js'
import { burstProfile, fillArrivals, fillArrivalsFromProfile } from './arrivals.js'
import { exp } from './exp.js'
import { EdgePath } from './path.js'
import { A, B, C, D, stream } from './rng.js'
import { SessionCalendar, type Profile } from './session.js'
import { EXCHANGE_SHARES, type MarketModel, type TradeColumns } from './trades.js'
import { CUT as LOT_CUT, GUIDE as LOT_GUIDE, GUIDE_SHIFT } from './lots.js'
import { KN, normalOf, normalSlow, WN } from './ziggurat.js'

const MS_PER_YEAR = 365.25 * 24 * 3600 * 1000
const NS_PER_YEAR = MS_PER_YEAR * 1e6
const YEARS_PER_NS = 1 / NS_PER_YEAR

type MarketInput = Pick<LoadSpec, 'seed' | 'symbols' | 'fromMs' | 'toMs' | 'distribution' | 'market' | 'session'>

/** A symbol's start price, volatility and drift: from the request where given, else from the seed. */
function symbolParams(spec: Pick<LoadSpec, 'seed' | 'market'>, symbol: string): SymbolParamsSpec {
  const u = stream(spec.seed, symbol, 'profile')
  const drawn = {
    price: Math.exp(Math.log(20) + u.next() * Math.log(25)), // 20..500, log-uniform
    volatility: 0.15 + 0.45 * u.next(), // 15%..60% a year
    drift: -0.05 + 0.2 * u.next(), // -5%..+15% a year
  }
  return { ...drawn, ...spec.market.symbols[symbol] }
}

/** What a load's symbol parameters depend on: shards of one load share them (GbmModel's sharedParams). */
export function loadParamsKey(spec: Pick<LoadSpec, 'seed' | 'symbols' | 'market'>): string {
  return `${typeof spec.seed}:${String(spec.seed)}\u0000${JSON.stringify(spec.market.symbols)}\u0000${spec.symbols.join(',')}`
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
  private profileFor: { shard: number; profile: Profile | null } | undefined
  private readonly tradeParams: TradeParams
  private readonly walk = new Float64Array(3)

  constructor(
    private readonly spec: MarketInput,
    private readonly plan: Plan,
    /**
     * each symbol's parameters by index, kept across the models of one load (a worker's shards):
     * with 10,000 symbols a shard's model drew 10,000 of them, garbage by the next shard. The
     * caller keys it by everything they depend on: seed, symbols and market (see loadParamsKey).
     */
    private readonly sharedParams: (SymbolParamsSpec | undefined)[] = [],
  ) {
    this.tick = spec.market.tickSize
    this.tickDecimals = tickDecimals(this.tick)
    this.tickUnits = Math.round(this.tick * 10 ** this.tickDecimals)
    if (spec.distribution === 'intraday') this.calendar = new SessionCalendar(spec.session)
    this.tradeParams = { wEnd: 0, t0: 0, tauEnd: 0, logS0: 0, drift: 0, sigma: 0, perTick: 1 / this.tick, tickUnits: this.tickUnits }
  }

  /** Time of shard edge k in years since the load's start (edge shardCount is `to`). */
  private edgeYears = (k: number): number =>
    ((k >= this.plan.shardCount ? this.spec.toMs : this.plan.shardBounds(k)[0]) - this.spec.fromMs) / MS_PER_YEAR

  paramsOf(j: number): SymbolParamsSpec {
    let p = this.sharedParams[j]
    if (!p) {
      p = symbolParams(this.spec, this.spec.symbols[j]!)
      this.sharedParams[j] = p
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
    // Not kept per symbol: a shard asks each path for two edges, and 10,000 paths held for the
    // shard's length were megabytes of a worker's 64 MB heap.
    const path = new EdgePath(this.spec.seed, symbol, this.plan.shardCount, this.edgeYears)
    // One params object and one walk per model, refilled per series: with 10,000 symbols a series
    // is a few dozen trades, and their garbage was a tenth of a worker's time.
    const params = this.tradeParams
    params.wEnd = path.at(shard + 1)
    params.t0 = (startMs - this.spec.fromMs) / MS_PER_YEAR
    params.tauEnd = widthNs * YEARS_PER_NS
    params.logS0 = Math.log(price)
    params.drift = mu - (sigma * sigma) / 2
    params.sigma = sigma
    const walk = this.walk
    walk[0] = path.at(shard)
    walk[1] = 0
    walk[2] = 0
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
 * Prices, sizes, sides and exchanges of trades [from, to), arrival times given. Per trade, four
 * 32-bit words are drawn, in this order: the bridge step's normal; the size's kind; the size (an
 * odd lot's shares, a round lot's lots through lots.ts, or a block's normal); the side (high 16
 * bits) and the exchange (low 16 bits). Then any draws the normals' slow paths need, the bridge's
 * first.
 *
 * The hot loop of generation. Tyche-i is stepped inline with its state in locals (loaded from and
 * stored back to the stream's state, see Draws), the bridge normal's ziggurat fast path too (see
 * ziggurat.ts), and side and exchange are picked without branches. `walk` carries W, τ and the
 * last price across calls.
 */
function fillTrades(out: TradeColumns, from: number, to: number, st: Int32Array, walk: Float64Array, p: TradeParams): void {
  const { timeNs, priceUnits, size, side, exchange } = out
  const { wEnd, t0, tauEnd, logS0, drift, sigma, perTick, tickUnits } = p
  let a = st[A]!
  let b = st[B]!
  let c = st[C]!
  let d = st[D]!
  let w = walk[0]!
  let tau = walk[1]!
  let prevUnits = walk[2]!
  // in locals: V8 cannot keep typed-array loads out of a loop that stores to other typed arrays
  const cut1 = EXCHANGE_CUTS[0]!
  const cut2 = EXCHANGE_CUTS[1]!
  const cut3 = EXCHANGE_CUTS[2]!
  const cut4 = EXCHANGE_CUTS[3]!
  for (let k = from; k < to; k++) {
    let r0 = 0
    let r1 = 0
    let r2 = 0
    let r3 = 0
    // Tyche-i's step (Draws#int32) four times; a loop, not four copies: V8 allocates it better
    for (let n = 0; n < 4; n++) {
      b = (b << 25) ^ (b >>> 7) ^ c; c = (c - d) | 0; d = (d << 24) ^ (d >>> 8) ^ a; a = (a - b) | 0
      b = (b << 20) ^ (b >>> 12) ^ c; c = (c - d) | 0; d = (d << 16) ^ (c >>> 16) ^ a; a = (a - b) | 0
      if (n === 0) r0 = a
      else if (n === 1) r1 = a
      else if (n === 2) r2 = a
      else r3 = a
    }
    // The bridge step's normal, from r0.
    let z: number
    const i = r0 & 255
    const j = r0 >> 8
    if (Math.abs(j) < KN[i]!) z = j * WN[i]!
    else {
      st[A] = a; st[B] = b; st[C] = c; st[D] = d
      z = normalSlow(st, i, j)
      a = st[A]!; b = st[B]!; c = st[C]!; d = st[D]!
    }
    // shard-local time keeps nanosecond steps visible (t0 + tau alone would round them away)
    const next = timeNs[k]! * YEARS_PER_NS
    // Brownian-bridge step pinned at (tauEnd, wEnd): the law of W(next) given W(tau) and W(tauEnd).
    // Written out here: a call that is not inlined passes its doubles boxed.
    const span = tauEnd - tau
    if (span <= 0) w = wEnd
    else {
      const dt = next - tau
      const inv = 1 / span
      w = w + dt * inv * (wEnd - w) + Math.sqrt(Math.max(0, dt * (tauEnd - next) * inv)) * z
    }
    tau = next
    const units = Math.max(1, Math.round(exp(logS0 + drift * (t0 + tau) + sigma * w) * perTick)) * tickUnits
    priceUnits[k] = units

    // Size: odd lots 12% (uniform 1..99), round lots 87.5% (100 × log-normal lots), blocks 0.5%
    // (~10,000 shares).
    const kind = (r1 >>> 0) / 0x100000000
    const v = r2 >>> 0
    if (kind < 0.12) size[k] = 1 + Math.floor((v * 99) / 0x100000000)
    else if (kind < 0.995) {
      let m = LOT_GUIDE[v >>> GUIDE_SHIFT]!
      while (v >= LOT_CUT[m]!) m++
      size[k] = 100 * m
    } else {
      st[A] = a; st[B] = b; st[C] = c; st[D] = d
      size[k] = 100 * Math.max(50, Math.round(exp(LOG_100 + 0.7 * normalOf(st, r2))))
      a = st[A]!; b = st[B]!; c = st[C]!; d = st[D]!
    }

    // Side by the tick rule: a buy with 0.7 after an uptick, 0.3 after a downtick, else 0.5.
    if (k === 0) prevUnits = units // the first trade has no tick to follow
    const move = +(units > prevUnits) - +(units < prevUnits)
    prevUnits = units
    side[k] = +(r3 >>> 16 >= P_BUY[1 + move]!)

    // Exchange: the first whose cumulative share exceeds the draw.
    const e = r3 & 0xffff
    exchange[k] = +(e >= cut1) + +(e >= cut2) + +(e >= cut3) + +(e >= cut4)
  }
  st[A] = a
  st[B] = b
  st[C] = c
  st[D] = d
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
  /** 1 / tick: the loop multiplies */
  perTick: number
  /** tick in units of 10^-tickDecimals */
  tickUnits: number
}

const LOG_100 = Math.log(100)
/** P(buy) after a downtick, no move, an uptick; in 16-bit units, as the side's draw */
const P_BUY = new Int32Array([0.3, 0.5, 0.7].map((p) => Math.round(p * 0x10000)))
/** Cumulative exchange shares in 16-bit units, as the exchange's draw. */
const EXCHANGE_CUTS = new Int32Array(EXCHANGE_SHARES.length - 1)
for (let e = 0, acc = 0; e < EXCHANGE_CUTS.length; e++) EXCHANGE_CUTS[e] = Math.round((acc += EXCHANGE_SHARES[e]!) * 0x10000)
