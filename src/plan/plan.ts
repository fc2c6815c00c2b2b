import { SessionCalendar } from '../market/session.js'
import type { LoadSpec } from '../model/request.js'
import { before } from './split.js'

/**
 * Shard sizing. Both constants shape the dataset (shard edges decide where arrival streams
 * restart), so changing either changes every seed's output: treat them as part of the format.
 */
export const TARGET_TRADES_PER_SHARD = 100_000
/**
 * A shard spans at most 7 days. Inside a shard, times are nanosecond offsets held in a double;
 * 7 days is 6.05e14 ns, well under 2^53, so every offset is an exact integer.
 */
export const MAX_SHARD_MS = 7 * 24 * 3600 * 1000
/**
 * Dataset format 3: a shard holds at least this many trades per symbol on average. Setting up a
 * series (its stream, its Brownian edges, its encoder state) costs a few microseconds, which a
 * 100,000-trade shard of 10,000 symbols (10 trades a series) paid every few trades. Loads of up
 * to 1,000 symbols keep format 2's layout (100,000 trades a shard), byte for byte.
 */
const MIN_TRADES_PER_SERIES = 100

/** Trades a shard aims at: format 2's target, or more for loads of many symbols (format 3). */
function tradesPerShard(symbols: number): number {
  return Math.max(TARGET_TRADES_PER_SHARD, MIN_TRADES_PER_SERIES * symbols)
}

/**
 * Format 3 lets a shard of a load of more than 1,000 symbols span up to 12 days (1.04e15 ns), so
 * that a long, sparse load still gets long series: 20M trades of 10,000 symbols over a year were
 * 38 trades a series in 7-day shards, 69 in 12-day ones. 12 days keeps every offset under the
 * encoder's exact range (2^50 ns, see EXACT_BELOW in lineprotocol/encoder.ts).
 */
export const MAX_SHARD_MS_MANY_SYMBOLS = 12 * 24 * 3600 * 1000

/** How long a shard may span: format 2's 7 days, or 12 for loads of more than 1,000 symbols. */
function maxShardMs(symbols: number): number {
  return symbols * MIN_TRADES_PER_SERIES > TARGET_TRADES_PER_SHARD ? MAX_SHARD_MS_MANY_SYMBOLS : MAX_SHARD_MS
}

type PlanInput = Pick<LoadSpec, 'trades' | 'symbols' | 'fromMs' | 'toMs'> &
  Partial<Pick<LoadSpec, 'distribution' | 'session' | 'weights'>>

/**
 * The plan is a pure function of the load spec: the shard count comes from the trade count and the
 * time range, never from the pool size, so any pool produces the same shards. Nothing per shard
 * and symbol is built up front: any shard's bounds and any series' count are computed on demand.
 *
 * Counts are exact integer splits of cumulative shares: symbol j gets trades·(W_<j / W) (weights),
 * and its share before shard i is total·(Λ(edge_i) − Λ(from)) / (Λ(to) − Λ(from)), where Λ is the
 * cumulative intensity (time itself for a constant rate; trading sessions for intraday). Floors of
 * a monotone cumulative always sum back to the total exactly.
 */
export class Plan {
  readonly shardCount: number
  readonly trades: number
  readonly symbols: readonly string[]
  private readonly cumWeights: Float64Array | undefined
  private readonly calendar: SessionCalendar | undefined
  private readonly edgeShare = new Map<number, number>()
  private lambda0 = 0
  private lambdaSpan = 1

  constructor(private readonly spec: PlanInput) {
    const rangeMs = spec.toMs - spec.fromMs
    const byTrades = Math.ceil(spec.trades / tradesPerShard(spec.symbols.length))
    const byTime = Math.ceil(rangeMs / maxShardMs(spec.symbols.length))
    // Every shard spans at least 1 ms so that shard edges are distinct instants.
    this.shardCount = Math.min(Math.max(byTrades, byTime, 1), rangeMs)
    this.trades = spec.trades
    this.symbols = spec.symbols
    if (spec.weights) {
      const w = spec.weights
      this.cumWeights = new Float64Array(spec.symbols.length + 1)
      spec.symbols.forEach((s, j) => (this.cumWeights![j + 1] = this.cumWeights![j]! + (w[s] ?? 1)))
    }
    if (spec.distribution === 'intraday' && spec.session) {
      this.calendar = new SessionCalendar(spec.session)
      this.lambda0 = this.calendar.cumulative(spec.fromMs)
      this.lambdaSpan = this.calendar.cumulative(spec.toMs) - this.lambda0
    }
  }

  /** [startMs, endMs) of shard `i`: the range cut into near-equal whole milliseconds. */
  shardBounds(i: number): [number, number] {
    const { fromMs, toMs } = this.spec
    const range = toMs - fromMs
    return [fromMs + before(range, this.shardCount, i), fromMs + before(range, this.shardCount, i + 1)]
  }

  /** Trades before symbol j, summed over symbols 0..j−1. */
  private symbolsBefore(j: number): number {
    const cw = this.cumWeights
    if (!cw) return before(this.trades, this.symbols.length, j)
    if (j >= this.symbols.length) return this.trades
    return Math.floor((this.trades * cw[j]!) / cw[this.symbols.length]!)
  }

  /** Trades of symbol `j` over the whole load. */
  symbolTotal(j: number): number {
    return this.symbolsBefore(j + 1) - this.symbolsBefore(j)
  }

  /** Share of the load's intensity before edge i (intraday only). */
  private shareBefore(i: number): number {
    let s = this.edgeShare.get(i)
    if (s === undefined) {
      s = i >= this.shardCount ? 1 : (this.calendar!.cumulative(this.shardBounds(i)[0]) - this.lambda0) / this.lambdaSpan
      this.edgeShare.set(i, s)
    }
    return s
  }

  private seriesBefore(total: number, i: number): number {
    if (!this.calendar) return before(total, this.shardCount, i)
    return i >= this.shardCount ? total : Math.floor(total * this.shareBefore(i))
  }

  /**
   * Trades of symbol `j` in shard `i`, and how many of its trades come before the shard (trade
   * ids are 1..N per symbol, consecutive across shards).
   */
  seriesCount(j: number, i: number): { count: number; offset: number } {
    const total = this.symbolTotal(j)
    const offset = this.seriesBefore(total, i)
    return { count: this.seriesBefore(total, i + 1) - offset, offset }
  }
}

export function planLoad(spec: PlanInput): Plan {
  return new Plan(spec)
}
