import { fillArrivals } from './arrivals.js'
import { Normal, stream } from './rng.js'
import { EXCHANGES, type MarketModel, type SeriesRequest, type TradeColumns } from './trades.js'

const NS_PER_YEAR = 365.25 * 24 * 3600 * 1e9

export interface RandomWalkOptions {
  /** annualised volatility of log-price */
  volatility: number
  /** decimals of the tick size (2 → 0.01) */
  tickDecimals: number
}

export const DEFAULT_RANDOM_WALK: RandomWalkOptions = { volatility: 0.3, tickDecimals: 2 }

/**
 * A simple model: each symbol gets a start price from its seed (20..500), the log-price walks
 * with volatility scaled by the time between trades, sizes are log-normal shares, sides and
 * exchanges uniform. Each shard restarts the walk from the symbol's start price; the continuous
 * market model (Brownian bridge between shard edges) replaces this behind the same interface.
 */
export class RandomWalkModel implements MarketModel {
  readonly tickDecimals: number
  private readonly sigmaPerSqrtNs: number
  private readonly ticksPerUnit: number

  constructor(opts: RandomWalkOptions = DEFAULT_RANDOM_WALK) {
    this.tickDecimals = opts.tickDecimals
    this.ticksPerUnit = 10 ** opts.tickDecimals
    this.sigmaPerSqrtNs = opts.volatility / Math.sqrt(NS_PER_YEAR)
  }

  startPrice(seed: string | number, symbol: string): number {
    const u = stream(seed, symbol, 'profile')
    return Math.exp(Math.log(20) + u() * Math.log(25))
  }

  fillSeries(req: SeriesRequest, out: TradeColumns): void {
    const n = req.count
    if (n > out.capacity) throw new RangeError(`columns hold ${out.capacity}, series needs ${n}`)
    const u = stream(req.seed, req.symbol, req.shard)
    fillArrivals(out.timeNs, n, req.widthNs, req.distribution, u)
    const z = new Normal(u)
    const sigma = this.sigmaPerSqrtNs
    const tpu = this.ticksPerUnit
    const exchanges = EXCHANGES.length
    let logPrice = Math.log(this.startPrice(req.seed, req.symbol))
    let prev = 0
    for (let k = 0; k < n; k++) {
      const t = out.timeNs[k]!
      logPrice += sigma * Math.sqrt(t - prev) * z.next()
      prev = t
      out.priceTicks[k] = Math.max(1, Math.round(Math.exp(logPrice) * tpu))
      out.size[k] = Math.max(1, Math.round(Math.exp(4.2 + 1.1 * z.next())))
      out.side[k] = u() < 0.5 ? 0 : 1
      out.exchange[k] = Math.floor(u() * exchanges)
    }
  }
}
