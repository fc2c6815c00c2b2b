import { GbmModel } from '../../src/market/gbm.js'
import { allocColumns, type TradeColumns } from '../../src/market/trades.js'
import { planLoad, type Plan } from '../../src/plan/plan.js'
import type { LoadSpec } from '../../src/request/schema.js'

/**
 * Generates a whole dataset in-process, series by series, the way workers do, handing each
 * (symbol, shard) block to `visit`. For statistical tests: no pool, no encoding.
 */
export function generate(
  spec: LoadSpec,
  visit: (j: number, shard: number, cols: TradeColumns, count: number, shardStartMs: number) => void,
): Plan {
  const plan = planLoad(spec)
  const model = new GbmModel(spec, plan)
  let cols = allocColumns(0)
  for (let i = 0; i < plan.shardCount; i++) {
    const [startMs] = plan.shardBounds(i)
    for (let j = 0; j < spec.symbols.length; j++) {
      const { count } = plan.seriesCount(j, i)
      if (count > cols.capacity) cols = allocColumns(count)
      model.fillSeries(j, i, count, cols)
      visit(j, i, cols, count, startMs)
    }
  }
  return plan
}
