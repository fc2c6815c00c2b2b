import type { Logger } from 'pino'
import { toErrorInfo } from '../errors.js'
import type { ErrorCode, ErrorInfo } from '../model/errors.js'
import { owns, type Partition } from '../partition/partition.js'
import type { LoadSpec } from '../model/request.js'
import { prepareSink } from '../sink/prepare.js'
import type { SinkConfig } from '../sink/target.js'
import type { CircuitBreaker } from '../../shared/breaker.js'
import type { WriteConcurrency } from '../../shared/concurrency.js'
import { IN_FLIGHT } from '../../shared/control.js'
import { toShardSpec, type ProgressDelta, type ShardResult } from '../../shared/messages.js'
import { Pacer } from '../../shared/pacer.js'
import { TASKS_PER_WORKER, type ShardPool } from '../../workers/pool.js'
import type { Tally } from './account.js'
import { runBounded } from './bounded.js'
import type { LoadOptions } from './options.js'
import type { LoadStopper } from './stop.js'

/** What one run's dispatch needs: the load's plan and sink, its pool, tally and stop, and whom to tell. */
interface Dispatch {
  spec: LoadSpec
  sink: SinkConfig
  shardCount: number
  partition: Partition
  pool: ShardPool
  options: LoadOptions
  breaker: CircuitBreaker
  concurrency: WriteConcurrency
  tally: Tally
  stopper: LoadStopper
  log: Logger
  /** a paced run starts its schedule: `points` to send at `ratePerSecond`, from `now` */
  onPaced: (ratePerSecond: number, points: number, now: number) => void
  /** each progress delta, once the tally has it (measuring, metrics) */
  onDelta: (d: ProgressDelta) => void
  /** the load failed: a shard, the pool or the sink; the first error is the load's */
  onFailure: (err: ErrorInfo) => void
  /** shards are about to be handed to the pool, after the tally knows them (the store records them) */
  onShardsStarting?: (() => void) | undefined
}

/**
 * Hands `shards` to the pool, a window at a time, until they have all run or the load is told to
 * stop; every shard's progress and result go into the tally. Failures go to `onFailure`, never
 * out of here, except the sink's own preparation or finish failing.
 */
export async function dispatchShards(d: Dispatch, shards: number[]): Promise<void> {
  // Nothing to run: an InfluxDB is left alone, but a file sink still makes its (empty) output.
  if (shards.length === 0 && d.sink.kind !== 'file') return
  const { tally, stopper } = d
  const prepared = await prepareSink(d.sink, d.shardCount, (shard) => owns(d.partition, shard))
  const shardSpec = toShardSpec(d.spec)
  const breaker = { buffer: d.breaker.buffer, settings: d.breaker.settings }
  const pacer = d.spec.ratePerSecond !== undefined ? Pacer.create(d.spec.ratePerSecond) : undefined
  const pace = pacer ? { buffer: pacer.buffer, ratePerSecond: pacer.ratePerSecond } : undefined
  if (pacer) {
    const account = tally.account(Atomics.load(stopper.control, IN_FLIGHT))
    d.onPaced(pacer.ratePerSecond, account.pointsPlanned - account.pointsWritten, performance.now())
  }
  const debug = () => d.log.isLevelEnabled('debug')
  const progress = (delta: ProgressDelta): void => {
    // Same turn of the event loop: the points move from in doubt (in flight) to written or failed at once.
    Atomics.sub(stopper.control, IN_FLIGHT, delta.written + delta.failed)
    tally.applyDelta(delta)
    d.onDelta(delta)
    // Per-batch lines only at debug: a load writes thousands of batches.
    if (debug() && delta.batches > 0) {
      d.log.debug({ shard: delta.shard, points: delta.written, bytes: delta.bytes, retries: delta.retries, latencyMs: (delta.latencies[0] ?? 0) * 1000 }, 'batch written')
    }
  }
  const finished = (r: ShardResult, before: ShardResult | undefined): void => {
    // Work done by earlier runs of a resumed shard stays in the totals.
    if (before) {
      r.bytes += before.bytes
      r.batches += before.batches
      r.retries += before.retries
      r.splits += before.splits
    }
    tally.applyResult(r)
    if (r.status === 'failed') d.onFailure(r.error ?? { code: 'OHLCV_WRITE_FAILED' satisfies ErrorCode, message: `shard ${r.shard} failed` })
  }
  const fail = (e: unknown) => d.onFailure(toErrorInfo(e))
  // Shards are marked started a window ahead (what the pool holds at once): one store write per
  // window, not per shard (a write per shard cost ~1.7% of the null sink's points/s on 2 cores).
  // After a crash a marked shard that never ran counts in doubt, never the other way round.
  const window = d.pool.size * TASKS_PER_WORKER
  let marked = 0
  let handedOut = 0
  const task = (i: number): Promise<void> => {
    const shard = shards[i]!
    const before = tally.result(shard)
    handedOut = i + 1
    if (i >= marked) {
      marked = Math.min(shards.length, i + window)
      for (let k = i; k < marked; k++) tally.started(shards[k]!)
      d.onShardsStarting?.()
    }
    return d.pool
      .run(
        {
          shard,
          shardCount: d.shardCount,
          spec: shardSpec,
          sink: prepared.targetFor(shard),
          maxInFlight: d.options.maxInFlight,
          retry: d.options.retry,
          control: stopper.control,
          breaker,
          concurrency: d.concurrency.settings,
          ...(pace ? { pace } : {}),
          ...(before ? { skip: before.acked, ...(before.doubt?.length ? { doubt: before.doubt } : {}) } : {}),
          ...(debug() ? { progressEveryMs: 0 } : {}),
        },
        progress,
      )
      .then((r) => finished(r, before), fail)
      .then(() => prepared.shardDone(shard))
      .catch(fail)
  }
  try {
    await runBounded(shards.length, window, task, () => stopper.stopped())
  } finally {
    // marked, never handed out (the load stopped first): back to what they were
    for (let k = handedOut; k < marked; k++) tally.unstart(shards[k]!)
    await prepared.finish()
  }
}
