/**
 * Piscina worker entry: one task = one shard. The task is plain data; the worker builds its own
 * sink (HTTP client), generator and encoder from it.
 */
import { shardCandles, type ShardCandles } from '../src/candles/expected.js'
import { executeShard } from '../src/load/shard.js'
import { WriteSlots } from '../src/load/slots.js'
import { openSink } from '../src/sink/open.js'
import type { Sink } from '../src/sink/target.js'
import { END_OF_PROGRESS, type CandlesTask, type ShardResult, type ShardTask } from './messages.js'

/**
 * InfluxDB sinks are kept for the life of the worker thread, keyed by their target, so shards that
 * follow each other reuse the same keep-alive connections instead of opening new ones. Entries are
 * per thread (each worker has its own module instance) and few (one per distinct target).
 */
const influxSinks = new Map<string, { sink: Promise<Sink>; slots: WriteSlots }>()

/**
 * The sink a shard writes to, and the write slots it shares with the other shard the worker may
 * be running (the pool runs two per worker: see workers/pool.ts). The slots go with the sink: one
 * target, one `maxInFlight` budget per worker.
 */
async function sinkFor(task: ShardTask): Promise<{ sink: Sink; slots: WriteSlots; owned: boolean }> {
  const target = task.sink
  if (target.kind !== 'influx-v1' && target.kind !== 'influx-v2') {
    return { sink: await openSink(target, task.maxInFlight), slots: new WriteSlots(task.maxInFlight), owned: true }
  }
  const key = `${JSON.stringify(target)}#${task.maxInFlight}`
  let entry = influxSinks.get(key)
  if (!entry) {
    entry = { sink: openSink(target, task.maxInFlight), slots: new WriteSlots(task.maxInFlight) }
    influxSinks.set(key, entry)
  }
  return { sink: await entry.sink, slots: entry.slots, owned: false }
}

export default async function runShard(task: ShardTask): Promise<ShardResult> {
  const { port, ...rest } = task
  const { sink, slots, owned } = await sinkFor(task)
  try {
    return await executeShard(rest, sink, (delta) => port?.postMessage(delta), slots)
  } finally {
    if (owned) await sink.close()
    port?.postMessage(END_OF_PROGRESS)
    port?.close()
  }
}

/** Named task `candles`: regenerate one shard and fold it into candles (verification, expected candles). */
export function candles(task: CandlesTask): ShardCandles {
  return shardCandles(task.spec, task.shard, task.intervalMs, task.only)
}
