import { GbmModel } from '../src/market/gbm.js'
import { shardSeries } from '../src/market/series.js'
import { planLoad } from '../src/plan/plan.js'
import type { ShardCandles, ShardSpec } from '../shared/messages.js'
import { addTrade, type ExactCandle } from '../src/candles/candle.js'

/**
 * Regenerates one shard from its seed and folds it into candles, without encoding or writing:
 * what the database should hold, computed independently of it. Pure; runs in a worker.
 */
export function shardCandles(spec: ShardSpec, shard: number, intervalMs: number, only?: number[]): ShardCandles {
  const plan = planLoad(spec)
  const model = new GbmModel(spec, plan)
  const [startMs] = plan.shardBounds(shard)
  const out: ShardCandles = { shard, symbols: [] }
  for (const { j, count, cols } of shardSeries(plan, model, shard, only)) {
    const map = new Map<number, ExactCandle>()
    for (let k = 0; k < count; k++) {
      addTrade(map, intervalMs, startMs + Math.floor(cols.timeNs[k]! / 1e6), cols.priceUnits[k]!, cols.size[k]!)
    }
    const flat: number[] = []
    for (const c of map.values()) flat.push(c.startMs, c.open, c.high, c.low, c.close, c.volume, c.trades)
    out.symbols.push({ j, flat })
  }
  return out
}
