import type { LoadRun } from '../load/run.js'
import type { LoadSummary } from './schemas.js'

/** Where a load's actions live (HAL-ish `links` in every answer about it). */
export function links(id: string) {
  return { self: `/loads/${id}`, cancel: `/loads/${id}`, resume: `/loads/${id}/resume`, verify: `/loads/${id}/verify`, events: `/loads/${id}/events` }
}

/** A load as a list shows it: a few hundred bytes whatever its symbol count. */
export function loadSummary(load: LoadRun): LoadSummary {
  const { spec } = load
  const result = load.getResult()
  return {
    id: load.id,
    status: load.status,
    seed: spec.seed,
    shards: load.shardCount,
    request: {
      from: spec.from,
      to: spec.to,
      trades: spec.trades,
      symbolCount: spec.symbols.length,
      symbols: spec.symbols.slice(0, 10),
      distribution: spec.distribution,
      batchSize: spec.batchSize,
      measurement: spec.measurement,
      ...(spec.ratePerSecond !== undefined ? { ratePerSecond: spec.ratePerSecond } : {}),
    },
    account: load.account(),
    ...(result ? { durationMs: result.durationMs, pointsPerSecond: result.pointsPerSecond, writeLatencyP99Ms: result.writeLatencyMs.p99 } : {}),
    ...(load.error ? { error: load.error } : {}),
    resumes: load.resumes,
    createdAt: load.createdAt.toISOString(),
    ...(load.startedAt ? { startedAt: load.startedAt.toISOString() } : {}),
    ...(load.finishedAt ? { finishedAt: load.finishedAt.toISOString() } : {}),
    links: links(load.id),
  }
}

