/** Candles (OHLCV) as the API and the CLI give them. */

export interface Ohlcv {
  open: number
  high: number
  low: number
  close: number
  /** sum of sizes */
  volume: number
  /** number of trades */
  trades: number
}

/** A candle as the API returns it: prices in currency units, `time` the interval start. */
export interface Candle extends Ohlcv {
  time: string
}
