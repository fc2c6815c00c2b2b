import type { Plan } from '../plan/plan.js'
import { allocColumns, type MarketModel, type TradeColumns } from './trades.js'

interface Series {
  /** symbol index */
  j: number
  count: number
  /** trades of this symbol before the shard (trade ids start at offset + 1) */
  offset: number
  /** the series' trades in [0, count); reused: valid only until the next series is drawn */
  cols: TradeColumns
}

/**
 * The non-empty series of one shard, symbol by symbol, generated into one growing set of columns.
 * What writing a shard, regenerating its candles and the statistical tests all walk through.
 * Symbols in `only` (indexes) limit it; by default every symbol.
 */
export function* shardSeries(
  plan: Plan,
  model: MarketModel,
  shard: number,
  only?: readonly number[],
  scratch: Scratch = { cols: allocColumns(0) },
): Generator<Series> {
  const symbols = only ?? plan.symbols.map((_, j) => j)
  for (const j of symbols) {
    const { count, offset } = plan.seriesCount(j, shard)
    if (count === 0) continue
    if (scratch.cols.capacity < count) scratch.cols = allocColumns(count)
    model.fillSeries(j, shard, count, scratch.cols)
    yield { j, count, offset, cols: scratch.cols }
  }
}

/**
 * The columns a walk generates into, kept by the caller to reuse for the next shard (they grow to
 * the largest series seen): megabytes per shard otherwise, outside V8's heap.
 */
export interface Scratch {
  cols: TradeColumns
}
