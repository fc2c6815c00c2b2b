/** Exchanges a trade can print on (MIC codes), and their shares of trades. */
export const EXCHANGES = ['XNAS', 'XNYS', 'ARCX', 'BATS', 'IEXG'] as const
export const EXCHANGE_SHARES = [0.3, 0.25, 0.15, 0.2, 0.1] as const

/**
 * One series' trades for one shard, column by column. Columns rather than objects: the encoder
 * reads them in a tight loop and nothing is allocated per trade.
 */
export interface TradeColumns {
  capacity: number
  /** nanoseconds from the shard start, strictly increasing, exact integers */
  timeNs: Float64Array
  /** price as an integer number of 10^-tickDecimals units (190.12 with 2 decimals → 19012) */
  priceUnits: Float64Array
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
    priceUnits: new Float64Array(capacity),
    size: new Float64Array(capacity),
    side: new Uint8Array(capacity),
    exchange: new Uint8Array(capacity),
  }
}

/**
 * The generator interface: a model fills `out[0..count)` with symbol j's trades in shard i and is
 * deterministic in its inputs. The load path depends only on this.
 */
export interface MarketModel {
  /** decimals prices are written with: price = priceUnits / 10^tickDecimals */
  readonly tickDecimals: number
  fillSeries(j: number, shard: number, count: number, out: TradeColumns): void
}
