import { Body, TradeEncoder } from '../src/lineprotocol/encoder.js'
import { GbmModel } from '../src/market/gbm.js'
import { shardSeries } from '../src/market/series.js'
import { EXCHANGES } from '../src/market/trades.js'
import { planLoad } from '../src/plan/plan.js'
import type { ShardSpec } from '../shared/messages.js'

/**
 * Every line of a load, shard by shard in order, in bodies of `spec.batchSize` lines handed to
 * `onBody` (valid until it returns: the body is reused): the bytes a file sink would hold, with no
 * sink, no pool and no I/O. For warming a worker up and for checking a dataset's digest. Returns
 * the lines made.
 */
export function encodeLoad(spec: ShardSpec, onBody: (body: Body) => void): number {
  const plan = planLoad(spec)
  const model = new GbmModel(spec, plan)
  const encoder = new TradeEncoder(spec.measurement, EXCHANGES, model.tickDecimals)
  const body = new Body(spec.batchSize * 120)
  let made = 0
  for (let shard = 0; shard < plan.shardCount; shard++) {
    const [startMs] = plan.shardBounds(shard)
    for (const { j, count, offset, cols } of shardSeries(plan, model, shard)) {
      encoder.useSymbol(spec.symbols[j]!)
      for (let k = 0; k < count; k += spec.batchSize) {
        const to = Math.min(count, k + spec.batchSize)
        encoder.encode(cols, k, to, startMs, offset + 1 + k, body)
        onBody(body)
        body.reset()
      }
      made += count
    }
  }
  return made
}
