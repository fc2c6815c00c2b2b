/**
 * Piscina worker entry: one task = one shard. The task is plain data; the worker builds its own
 * sink (HTTP client), generator and encoder from it.
 */
import { shardCandles, type ShardCandles } from '../src/candles/expected.js'
import { executeShard, workerShared, type WorkerShared } from '../src/load/shard.js'
import { openSink } from '../src/sink/open.js'
import type { Sink } from '../src/sink/target.js'
import { END_OF_PROGRESS, type CandlesTask, type ShardResult, type ShardTask } from './messages.js'

/**
 * InfluxDB sinks are kept for the life of the worker thread, keyed by their target, so shards that
 * follow each other reuse the same keep-alive connections instead of opening new ones. Entries are
 * per thread (each worker has its own module instance) and few (one per distinct target).
 */
const influxSinks = new Map<string, { sink: Promise<Sink>; shared: WorkerShared }>()

/**
 * The sink a shard writes to, and what it shares with the other shard the worker may be running
 * (the pool runs two per worker: see workers/pool.ts): write slots and spare bodies. They go with
 * the sink: one target, one `maxInFlight` budget per worker.
 */
async function sinkFor(task: ShardTask): Promise<{ sink: Sink; shared: WorkerShared; owned: boolean }> {
  const target = task.sink
  if (target.kind !== 'influx-v1' && target.kind !== 'influx-v2') {
    return { sink: await openSink(target, task.maxInFlight), shared: sparesFor(task.maxInFlight), owned: true }
  }
  const key = `${JSON.stringify(target)}#${task.maxInFlight}`
  let entry = influxSinks.get(key)
  if (!entry) {
    entry = { sink: openSink(target, task.maxInFlight), shared: workerShared(task.maxInFlight) }
    influxSinks.set(key, entry)
  }
  return { sink: await entry.sink, shared: entry.shared, owned: false }
}

/** File and null sinks are per shard; their shards still share the worker's slots and bodies. */
const localShared = new Map<number, WorkerShared>()
function sparesFor(maxInFlight: number): WorkerShared {
  let shared = localShared.get(maxInFlight)
  if (!shared) {
    shared = workerShared(maxInFlight)
    localShared.set(maxInFlight, shared)
  }
  return shared
}

export default async function runShard(task: ShardTask): Promise<ShardResult> {
  const { port, ...rest } = task
  const { sink, shared, owned } = await sinkFor(task)
  try {
    return await executeShard(rest, sink, (delta) => port?.postMessage(delta), shared)
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
