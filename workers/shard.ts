/**
 * Piscina worker entry: one task = one shard. The task is plain data; the worker builds its own
 * sink (HTTP client), generator and encoder from it.
 */
import { shardCandles } from './candles.js'
import { DeltaBuffer } from './deltas.js'
import { executeShard, workerShared, type WorkerShared } from './executeShard.js'
import { openSink } from './sinks.js'
import type { Sink } from '../src/sink/target.js'
import { encodeLoad } from './encodeLoad.js'
import { END_OF_PROGRESS, type CandlesTask, type ShardCandles, type ShardResult, type ShardTask, type WarmTask } from '../shared/messages.js'

/**
 * InfluxDB sinks are kept for the life of the worker thread, keyed by their target, so shards that
 * follow each other reuse the same keep-alive connections instead of opening new ones. Entries are
 * per thread (each worker has its own module instance) and few (one per distinct target).
 */
const influxSinks = new Map<string, Promise<Sink>>()

/**
 * What a shard shares with the other shard the worker may be running (the pool runs two per
 * worker: see workers/pool.ts): write slots and spare buffers. One per InfluxDB target and
 * `maxInFlight` (one in-flight budget per worker and sink); file and null sinks, opened per shard,
 * share one per `maxInFlight`.
 */
const sharedState = new Map<string, WorkerShared>()

function sharedFor(key: string, maxInFlight: number): WorkerShared {
  let shared = sharedState.get(key)
  if (!shared) {
    shared = workerShared(maxInFlight)
    sharedState.set(key, shared)
  }
  return shared
}

async function sinkFor(task: ShardTask): Promise<{ sink: Sink; shared: WorkerShared; owned: boolean }> {
  const target = task.sink
  if (target.kind === 'null' || target.kind === 'file-part') {
    return { sink: await openSink(target, task.maxInFlight), shared: sharedFor(`local#${task.maxInFlight}`, task.maxInFlight), owned: true }
  }
  const key = `${JSON.stringify(target)}#${task.maxInFlight}`
  let sink = influxSinks.get(key)
  if (!sink) {
    sink = openSink(target, task.maxInFlight)
    influxSinks.set(key, sink)
  }
  return { sink: await sink, shared: sharedFor(key, task.maxInFlight), owned: false }
}

export default async function runShard(task: ShardTask): Promise<ShardResult> {
  const { port, progressEveryMs, ...rest } = task
  const { sink, shared, owned } = await sinkFor(task)
  const deltas = new DeltaBuffer((delta) => port?.postMessage(delta), progressEveryMs)
  try {
    return await executeShard(rest, sink, (delta) => deltas.add(delta), shared)
  } finally {
    if (owned) await sink.close()
    deltas.flush()
    port?.postMessage(END_OF_PROGRESS)
    port?.close()
  }
}

/**
 * Named task `warm`: generates and encodes a small load and throws the bytes away, so that V8 has
 * compiled the generator and encoder before the first real shard (cold, they run ~10x
 * slower: the first shards of a load would pay for it, at the database's expense). Returns the
 * trades made.
 */
export function warm(task: WarmTask): number {
  return encodeLoad(task.spec, () => {})
}

/** Named task `candles`: regenerate one shard and fold it into candles (verification, expected candles). */
export function candles(task: CandlesTask): ShardCandles {
  return shardCandles(task.spec, task.shard, task.intervalMs, task.only)
}
