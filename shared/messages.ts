/**
 * Everything that crosses the boundary between the main thread and the shard workers. Plain,
 * structured-cloneable data only; both sides import their types from here.
 */
import type { MessagePort } from 'node:worker_threads'
import type { ErrorInfo } from '../src/model/errors.js'
import type { LoadSpec } from '../src/model/request.js'
import type { Range } from './ranges.js'
import type { BreakerSettings } from './breaker.js'
import type { ConcurrencySettings } from './concurrency.js'
import type { RetryPolicy } from './retryPolicy.js'
import type { WorkerSinkTarget } from '../src/sink/target.js'


/**
 * The part of the load spec a worker needs to regenerate any shard on its own: everything but the
 * ISO echo of the range (workers use fromMs/toMs).
 */
export type ShardSpec = Omit<LoadSpec, 'from' | 'to'>

export function toShardSpec(spec: LoadSpec): ShardSpec {
  const { from: _from, to: _to, ...rest } = spec
  return rest
}

export interface ShardTask {
  shard: number
  shardCount: number
  spec: ShardSpec
  sink: WorkerSinkTarget
  /** batches a worker may have sent and not yet had acknowledged */
  maxInFlight: number
  retry: RetryPolicy
  /** shared with the main thread and every worker of the load: [0] = RUN | STOP_*, [1] = points in flight */
  control: Int32Array
  /**
   * the sink's circuit breaker (shared/breaker.ts), shared by every worker and load on it; its
   * buffer also holds the sink's write concurrency limit (shared/concurrency.ts)
   */
  breaker: { buffer: SharedArrayBuffer; settings: BreakerSettings }
  concurrency: ConcurrencySettings
  /** the load's send schedule when it runs at a target rate (shared/pacer.ts) */
  pace?: { buffer: SharedArrayBuffer; ratePerSecond: number }
  /** line ranges of this shard the database already acknowledged (a resumed load): not sent again */
  skip?: Range[]
  /** line ranges earlier runs sent and never had acknowledged: in doubt until sent again */
  doubt?: Range[]
  /** progress deltas go here; transferred with the task */
  port?: MessagePort
  /** post deltas merged at most this often (default 50 ms); 0: one per batch (debug logs want them) */
  progressEveryMs?: number
}

/** Generate and encode a small load and throw it away: compiles the hot code before the first shard. */
export interface WarmTask {
  spec: ShardSpec
}

/** Regenerate one shard into candles of `intervalMs` (optionally only some symbol indexes). */
export interface CandlesTask {
  spec: ShardSpec
  shard: number
  intervalMs: number
  only?: number[]
}

/** One shard's candles: per symbol index, flattened [startMs, open, high, low, close, volume, trades]*. */
export interface ShardCandles {
  shard: number
  symbols: { j: number; flat: number[] }[]
}

/** What changed since the previous delta. Applied to live progress and metrics. */
export interface ProgressDelta {
  shard: number
  written: number
  failed: number
  bytes: number
  batches: number
  retries: number
  splits: number
  /**
   * line ranges of the shard the database acknowledged in this delta: the coordinator's load store
   * records them as they come, so a crash loses at most a moment of acknowledgements
   */
  acked: Range[]
  /** one entry per failed attempt */
  errors: { kind: 'retryable' | 'permanent' | 'rejected'; status: number | undefined }[]
  /**
   * batch write latencies in seconds (successful batches), from the intended send time: when the
   * load is paced, a batch that waited for a stalled server counts its wait (coordinated omission)
   */
  latencies: number[]
  /** seconds spent generating and encoding each batch */
  encodeSeconds: number[]
}

/** Last message a worker posts on a task's port: every delta has been sent. */
export const END_OF_PROGRESS = 'end'
export type PortMessage = ProgressDelta | typeof END_OF_PROGRESS

export type ShardStatus = 'completed' | 'stopped' | 'failed'

/**
 * The authoritative account of one shard. Deltas are for live display; when a shard finishes, this
 * replaces whatever its deltas added up to, so the load's account is exact even if a delta is late.
 */
export interface ShardResult {
  shard: number
  status: ShardStatus
  planned: number
  written: number
  failed: number
  bytes: number
  batches: number
  retries: number
  /** batches split in two after a 413 (body too large) */
  splits: number
  /**
   * Line offsets within the shard the database acknowledged, as ranges. What makes resume exact:
   * a resumed shard skips them, and `written` is their total (plus lines a partial write kept).
   */
  acked: Range[]
  /**
   * Line ranges sent by this or an earlier run and never acknowledged: the database may hold them
   * or not. Resume sends them again (the same points: a rewrite). Absent in older account files.
   */
  doubt?: Range[]
  /** points in `doubt` from earlier runs that this run did not send again (counted apart from `failed`) */
  inDoubt?: number
  error?: ErrorInfo
}
