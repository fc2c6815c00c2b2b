/**
 * What a load's result is made of: its account and its attempts. Types only, with no imports that
 * reach Node: the web console (src/console) takes them as they are.
 */
import type { PaceKept } from './pace.js'

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
