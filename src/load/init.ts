import type { Logger } from 'pino'
import type { Metrics } from '../metrics/metrics.js'
import type { LoadSpec } from '../model/request.js'
import { partitionTrades, WHOLE, type Partition } from '../partition/partition.js'
import { planLoad } from '../plan/plan.js'
import type { SinkConfig } from '../sink/target.js'
import type { TimelineView } from '../model/timeline.js'
import type { CircuitBreaker } from '../../shared/breaker.js'
import type { ShardPool } from '../../workers/pool.js'
import { Tally } from './account.js'
import type { LoadOptions } from './options.js'

// What a LoadRun is made with and what its run() takes; its plan as this process runs it.

export interface LoadRunInit {
  id: string
  spec: LoadSpec
  sink: SinkConfig
  pool: ShardPool
  log: Logger
  metrics?: Metrics
  options?: LoadOptions
  /** the sink's breaker when several loads share the sink (the coordinator); else one of its own */
  breaker?: CircuitBreaker
  /** run only this partition's shards (scale-out); default the whole load */
  partition?: Partition
  /** when the load was first posted (a load restored from the store keeps its own) */
  createdAt?: Date
  /** its timeline so far (a load restored from the store) */
  timeline?: TimelineView
  /**
   * called when shards are about to be handed to the pool, after the tally knows them (the load
   * store records them at once, before any of their writes can be acknowledged)
   */
  onShardsStarting?: () => void
}

export interface RunOptions {
  /** aborting it cancels the load (as cancel() does): queued shards are dropped, running ones stop after their writes in flight */
  signal?: AbortSignal | undefined
}

/** The load's plan as this process runs it: its shards, the partition of them it owns, and a tally of that partition's trades. */
export function planRun(spec: LoadSpec, partition: Partition = WHOLE): { shardCount: number; partition: Partition; tally: Tally } {
  const plan = planLoad(spec)
  return { shardCount: plan.shardCount, partition, tally: new Tally(partitionTrades(plan, partition), plan.shardCount, partition) }
}
