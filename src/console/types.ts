/**
 * The API's answers as the page reads them (the schemas are in src/api/schemas.ts). The account,
 * attempts and latency summary are the server's own types, from modules that reach no Node code.
 */
export type { Account, Attempt } from '../load/result.js'
export type { LatencySummary as Latency } from '../metrics/latency.js'
import type { Account, Attempt } from '../load/result.js'
import type { LatencySummary as Latency } from '../metrics/latency.js'

export interface ErrorInfo {
  code: string
  message: string
  status?: number
}

export interface LoadResult extends Account {
  status: string
  durationMs: number
  pointsPerSecond: number
  attempts: Attempt[]
  writeLatencyMs: Latency
  error?: ErrorInfo
}

export interface LoadRequest {
  symbols: string[]
  from: string
  to: string
  trades: number
  seed: string | number
  batchSize: number
  ratePerSecond?: number
  distribution: string
  measurement: string
  [k: string]: unknown
}

export interface LoadView {
  id: string
  status: string
  seed: string | number
  shards: number
  request: LoadRequest
  sink: Record<string, string>
  progress: Account & { pointsPerSecond: number; etaSeconds: number | null; pointsInFlight: number; writeLatencyMs: Latency }
  writeConcurrency: { limit: number; max: number; lowest: number; degradedMs: number }
  result?: LoadResult
  error?: ErrorInfo
  circuit: { state: string; opens: number }
  resumes: number
  createdAt: string
  startedAt?: string
  finishedAt?: string
}

export interface LoadSummary {
  id: string
  status: string
  seed: string | number
  request: { from: string; to: string; trades: number; symbolCount: number; symbols: string[]; batchSize: number; measurement: string }
  account: Account
  durationMs?: number
  pointsPerSecond?: number
  writeLatencyP99Ms?: number
  createdAt: string
}

/** The timeline's shapes are the server's own (a module of plain types and pure code). */
export type { TimelineSample as Sample, TimelineView as Timeline } from '../load/timeline.js'
import type { TimelineView } from '../load/timeline.js'

export interface Progress {
  status: string
  pointsPlanned: number
  pointsWritten: number
  pointsFailed: number
  pointsInFlight: number
  percent: number
  pointsPerSecond: number
  etaSeconds: number | null
  shardsDone: number
  shardsTotal: number
  circuit: string
}

/** What a report embeds (GET /loads/:id/report, run --report). */
export interface ReportData {
  generatedAt: string
  view: LoadView
  timeline: TimelineView
  environment: Record<string, string | number>
}
