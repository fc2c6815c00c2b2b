/** A load's account, its attempts and its result: plain data the store keeps and the API shows. */
import type { ErrorInfo } from './errors.js'
import type { LoadStatus } from './status.js'

/** Batch write latency in milliseconds (an HDR histogram's summary). */
export interface LatencySummary {
  /** batches measured */
  count: number
  p50: number
  p90: number
  p99: number
  max: number
}

/** How a paced run kept its rate. */
export interface PaceKept {
  targetPointsPerSecond: number
  /** the rate the database took: the target stretched by how much the writes fell behind */
  achievedPointsPerSecond: number
  /** how much later a batch was answered at the end of the schedule than at its start (ms, ≥ 0) */
  lagGrowthMs: number
}

/**
 * A load's account. Always exact: pointsPlanned = pointsWritten + pointsFailed + pointsInDoubt +
 * pointsUnsent, where written means acknowledged by the database, failed means sent by this run
 * and rejected (or given up on), in doubt means sent and not answered yet, or sent by an earlier
 * run of a resumed load and not sent again since, and unsent means never sent. So at every moment
 * written <= what the database holds <= written + failed + in doubt.
 */
export interface Account {
  pointsPlanned: number
  pointsWritten: number
  pointsFailed: number
  /** sent and not answered (in flight), or sent by an earlier run, unanswered, and not sent again */
  pointsInDoubt: number
  pointsUnsent: number
  bytesWritten: number
  batchesWritten: number
  retries: number
  /** batches split in two after the server answered 413 (body too large) */
  batchesSplit: number
  /** shards whose every point the database has acknowledged */
  shardsDone: number
  shardsTotal: number
}

/** One run of a load: the first, or a resume. */
export interface Attempt {
  startedAt: string
  durationMs: number
  /** points this attempt got acknowledged */
  pointsWritten: number
  retries: number
  /** times the sink's circuit opened during it */
  circuitOpens: number
  /** ms it ran with the write concurrency below max */
  degradedMs: number
  /** a paced run (ratePerSecond): whether it kept its rate */
  pace?: PaceKept
}

/** The sink's write concurrency over a load (all its attempts). */
export interface LoadConcurrency {
  /** requests allowed on the wire when the server keeps up */
  max: number
  /** the lowest the limit went while this load ran */
  lowest: number
  /** ms this load ran with the limit below max (the server signalled overload) */
  degradedMs: number
}

/** A finished load's outcome. */
export interface LoadResult extends Account {
  status: LoadStatus
  /** over every attempt (a resumed load's earlier ones too) */
  durationMs: number
  /** points written over every attempt / durationMs */
  pointsPerSecond: number
  /** each run of the load, the last one last */
  attempts: Attempt[]
  /** batch write latency over the whole load, in milliseconds (HDR histogram) */
  writeLatencyMs: LatencySummary
  /** the sink's write concurrency over this load (all its attempts): how long it ran degraded */
  writeConcurrency: LoadConcurrency
  error?: ErrorInfo
}
