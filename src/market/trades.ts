import type { Distribution } from '../request/schema.js'

/** Exchanges a trade can print on (MIC codes). The `exchange` tag takes one of these. */
export const EXCHANGES = ['XNAS', 'XNYS', 'ARCX', 'BATS', 'IEXG'] as const

/**
 * One series' trades for one shard, column by column. Columns rather than objects: the encoder
 * reads them in a tight loop and nothing is allocated per trade.
 */
export interface TradeColumns {
  capacity: number
  /** nanoseconds from the shard start, strictly increasing, exact integers */
  timeNs: Float64Array
  /** price in ticks (integer) */
  priceTicks: Float64Array
  /** shares (integer ≥ 1) */
  size: Float64Array
  /** 0 = buy, 1 = sell */
  side: Uint8Array
  /** index into EXCHANGES */
  exchange: Uint8Array
}

export function allocColumns(capacity: number): TradeColumns {
  return {
    capacity,
    timeNs: new Float64Array(capacity),
    priceTicks: new Float64Array(capacity),
    size: new Float64Array(capacity),
    side: new Uint8Array(capacity),
    exchange: new Uint8Array(capacity),
  }
}

/** What a market model needs to fill one (symbol, shard) series. Plain data. */
export interface SeriesRequest {
  seed: string | number
  symbol: string
  shard: number
  count: number
  widthNs: number
  distribution: Distribution
}

/**
 * The generator interface: a model fills `out[0..count)` for one series and is deterministic in
 * its inputs. The core path depends only on this, so the market model can change freely.
 */
export interface MarketModel {
  /** decimals of the tick size: prices are written as priceTicks / 10^tickDecimals */
  readonly tickDecimals: number
  fillSeries(req: SeriesRequest, out: TradeColumns): void
}
