import { GbmModel } from '../../src/market/gbm.js'
import { shardSeries } from '../../src/market/series.js'
import type { TradeColumns } from '../../src/market/trades.js'
import { planLoad, type Plan } from '../../src/plan/plan.js'
import type { LoadSpec } from '../../src/model/request.js'

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
  for (let i = 0; i < plan.shardCount; i++) {
    const [startMs] = plan.shardBounds(i)
    for (const { j, count, cols } of shardSeries(plan, model, i)) visit(j, i, cols, count, startMs)
  }
  return plan
}
