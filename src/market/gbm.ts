import type { Plan } from '../plan/plan.js'
import { tickDecimals } from '../request/normalize.js'
import type { LoadSpec, SymbolParamsSpec } from '../request/schema.js'
import { burstProfile, fillArrivals, fillArrivalsFromProfile } from './arrivals.js'
import { bridgeStep, EdgePath } from './path.js'
import { Normal, stream } from './rng.js'
import { SessionCalendar, type Profile } from './session.js'
import { EXCHANGE_SHARES, type MarketModel, type TradeColumns } from './trades.js'

const MS_PER_YEAR = 365.25 * 24 * 3600 * 1000
const NS_PER_YEAR = MS_PER_YEAR * 1e6

export type MarketInput = Pick<LoadSpec, 'seed' | 'symbols' | 'fromMs' | 'toMs' | 'distribution' | 'market' | 'session'>

/** A symbol's start price, volatility and drift: from the request where given, else from the seed. */
export function symbolParams(spec: Pick<LoadSpec, 'seed' | 'market'>, symbol: string): SymbolParamsSpec {
  const u = stream(spec.seed, symbol, 'profile')
  const drawn = {
    price: Math.exp(Math.log(20) + u() * Math.log(25)), // 20..500, log-uniform
    volatility: 0.15 + 0.45 * u(), // 15%..60% a year
    drift: -0.05 + 0.2 * u(), // -5%..+15% a year
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
    let w = path.at(shard)
    const t0 = (startMs - this.spec.fromMs) / MS_PER_YEAR
    const tauEnd = widthNs / NS_PER_YEAR
    const logS0 = Math.log(price)
    const drift = mu - (sigma * sigma) / 2
    const z = new Normal(u)
    const tick = this.tick
    const tickUnits = this.tickUnits
    let tau = 0
    let prevUnits = -1
    for (let k = 0; k < count; k++) {
      // shard-local time keeps nanosecond steps visible (t0 + tau alone would round them away)
      const next = out.timeNs[k]! / NS_PER_YEAR
      w = bridgeStep(tau, w, next, tauEnd, wEnd, z.next())
      tau = next
      const units = Math.max(1, Math.round(Math.exp(logS0 + drift * (t0 + tau) + sigma * w) / tick)) * tickUnits
      out.priceUnits[k] = units
      out.size[k] = tradeSize(u, z)
      const pBuy = prevUnits < 0 || units === prevUnits ? 0.5 : units > prevUnits ? 0.7 : 0.3
      out.side[k] = u() < pBuy ? 0 : 1
      prevUnits = units
      const r = u()
      let e = 0
      let acc = EXCHANGE_SHARES[0]
      while (r >= acc && e < EXCHANGE_SHARES.length - 1) acc += EXCHANGE_SHARES[++e]!
      out.exchange[k] = e
    }
  }
}

/** Odd lots 12%, round lots 87.5% (100 × log-normal lots), blocks 0.5% (~10,000 shares). */
function tradeSize(u: () => number, z: Normal): number {
  const r = u()
  if (r < 0.12) return 1 + Math.floor(u() * 99)
  if (r < 0.995) return 100 * Math.max(1, Math.round(Math.exp(0.4 + 0.8 * z.next())))
  return 100 * Math.max(50, Math.round(Math.exp(Math.log(100) + 0.7 * z.next())))
}
