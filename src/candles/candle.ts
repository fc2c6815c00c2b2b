import { InvalidRequestError } from '../errors.js'
import { parseInstant } from '../request/normalize.js'
import type { Candle, Ohlcv } from '../model/candle.js'

/**
 * A candle held exactly: prices as integer units of 10^-decimals, so expected and stored candles
 * compare without floating-point doubt.
 */
export interface ExactCandle extends Ohlcv {
  startMs: number
}

const UNIT_MS = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const
const MIN_INTERVAL_MS = 1000
const MAX_INTERVAL_MS = 86_400_000

/** "1s", "5m", "1h", "1d" → milliseconds; 1 s .. 1 d. */
export function parseInterval(field: string, value: string): number {
  const m = /^([1-9][0-9]{0,5})(s|m|h|d)$/.exec(value)
  const ms = m ? Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS] : NaN
  if (!(ms >= MIN_INTERVAL_MS && ms <= MAX_INTERVAL_MS)) {
    throw new InvalidRequestError(field, `must be a duration from 1s to 1d like 30s, 1m, 15m, 1h, 1d (got ${JSON.stringify(value)})`)
  }
  return ms
}

/** Candles one GET /candles may return: its answer is one JSON array in memory. The CLI streams any number. */
const MAX_CANDLES = 100_000

/** Resolves from/to/interval of a candle query, with the same messages as the CLI; at most `maxCandles` intervals. */
export function candleRange(q: { from: string; to: string; interval?: string }, maxCandles = MAX_CANDLES) {
  const fromMs = parseInstant('from', q.from)
  const toMs = parseInstant('to', q.to)
  if (fromMs >= toMs) throw new InvalidRequestError('from', 'must be before to')
  const intervalMs = parseInterval('interval', q.interval ?? '1m')
  if ((toMs - fromMs) / intervalMs > maxCandles) {
    throw new InvalidRequestError('interval', `more than ${maxCandles} candles: use a coarser interval or a shorter range (the CLI's candles command takes any number)`)
  }
  return { fromMs, toMs, intervalMs }
}

export function toCandle(c: ExactCandle, decimals: number): Candle {
  const f = 10 ** decimals
  return {
    time: new Date(c.startMs).toISOString(),
    open: c.open / f,
    high: c.high / f,
    low: c.low / f,
    close: c.close / f,
    volume: c.volume,
    trades: c.trades,
  }
}

/** Folds one trade into a candle map (trades arrive in time order per symbol). */
export function addTrade(map: Map<number, ExactCandle>, intervalMs: number, ms: number, price: number, size: number): void {
  const start = Math.floor(ms / intervalMs) * intervalMs
  const c = map.get(start)
  if (!c) {
    map.set(start, { startMs: start, open: price, high: price, low: price, close: price, volume: size, trades: 1 })
    return
  }
  if (price > c.high) c.high = price
  if (price < c.low) c.low = price
  c.close = price
  c.volume += size
  c.trades++
}

/** Merges candles of the same bucket from consecutive shards: `later` comes after `earlier` in time. */
export function mergeCandle(earlier: ExactCandle, later: ExactCandle): ExactCandle {
  return {
    startMs: earlier.startMs,
    open: earlier.open,
    high: Math.max(earlier.high, later.high),
    low: Math.min(earlier.low, later.low),
    close: later.close,
    volume: earlier.volume + later.volume,
    trades: earlier.trades + later.trades,
  }
}
