import type { LoadSpec } from '../request/schema.js'
import { before, share } from './split.js'

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

export interface Plan {
  shardCount: number
  trades: number
  symbols: readonly string[]
}

/**
 * The plan is a pure function of the load spec: the shard count comes from the trade count and the
 * time range, never from the pool size, so any pool produces the same shards. Nothing per shard
 * or per symbol is built up front; `shardBounds` and `seriesCount` compute any piece on demand.
 */
export function planLoad(spec: Pick<LoadSpec, 'trades' | 'symbols' | 'fromMs' | 'toMs'>): Plan {
  const rangeMs = spec.toMs - spec.fromMs
  const byTrades = Math.ceil(spec.trades / TARGET_TRADES_PER_SHARD)
  const byTime = Math.ceil(rangeMs / MAX_SHARD_MS)
  // Every shard spans at least 1 ms so that shard edges are distinct instants.
  const shardCount = Math.min(Math.max(byTrades, byTime, 1), rangeMs)
  return { shardCount, trades: spec.trades, symbols: spec.symbols }
}

/** [startMs, endMs) of shard `i`: the range cut into `shardCount` near-equal whole milliseconds. */
export function shardBounds(fromMs: number, toMs: number, shardCount: number, i: number): [number, number] {
  const range = toMs - fromMs
  return [fromMs + before(range, shardCount, i), fromMs + before(range, shardCount, i + 1)]
}

/** Trades of symbol `j` over the whole load. */
export function symbolTotal(plan: Plan, j: number): number {
  return share(plan.trades, plan.symbols.length, j)
}

/**
 * Trades of symbol `j` in shard `i`, and how many of that symbol's trades come before the shard
 * (trade ids are 1..N per symbol, consecutive across shards).
 */
export function seriesCount(plan: Plan, j: number, i: number): { count: number; offset: number } {
  const total = symbolTotal(plan, j)
  return { count: share(total, plan.shardCount, i), offset: before(total, plan.shardCount, i) }
}
