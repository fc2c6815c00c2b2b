/**
 * Piscina worker entry: one task = one shard. The task is plain data; the worker builds its own
 * sink (HTTP client), generator and encoder from it.
 */
import { shardCandles, type ShardCandles } from '../src/candles/expected.js'
import { executeShard } from '../src/load/shard.js'
import { openSink } from '../src/sink/open.js'
import type { Sink } from '../src/sink/target.js'
import { END_OF_PROGRESS, type CandlesTask, type ShardResult, type ShardTask } from './messages.js'

/**
 * InfluxDB sinks are kept for the life of the worker thread, keyed by their target, so shards that
 * follow each other reuse the same keep-alive connections instead of opening new ones. Entries are
 * per thread (each worker has its own module instance) and few (one per distinct target).
 */
const influxSinks = new Map<string, Promise<Sink>>()

async function sinkFor(task: ShardTask): Promise<{ sink: Sink; owned: boolean }> {
  const target = task.sink
  if (target.kind !== 'influx-v1' && target.kind !== 'influx-v2') {
    return { sink: await openSink(target, task.maxInFlight), owned: true }
  }
  const key = `${JSON.stringify(target)}#${task.maxInFlight}`
  let sink = influxSinks.get(key)
  if (!sink) {
    sink = openSink(target, task.maxInFlight)
    influxSinks.set(key, sink)
  }
  return { sink: await sink, owned: false }
}

export default async function runShard(task: ShardTask): Promise<ShardResult> {
  const { port, ...rest } = task
  const { sink, owned } = await sinkFor(task)
  try {
    return await executeShard(rest, sink, (delta) => port?.postMessage(delta))
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
