import type { ErrorInfo } from './errors.js'

/** A capacity search's steps as the API, the CLI and the console show them. */

/** What a step measured, for its verdict. */
export interface StepMeasure {
  targetPointsPerSecond: number
  achievedPointsPerSecond: number
  p50Ms: number
  p90Ms: number
  p99Ms: number
  /** failed write attempts (retried or not) */
  errors: number
  /** write attempts in all */
  attempts: number
  /** share of the machine's CPU the client used over the step, 0..1 */
  clientCpu: number
  /** share of the machine's CPU every process used over the step (the client, a local database, neighbours), 0..1 */
  hostCpu: number
  /** the step's load failed (gave up on a batch) */
  failed: boolean
  /** why it failed, when it did */
  failure?: string
}

/** A step's verdict. */
export interface Verdict {
  passed: boolean
  reasons: string[]
  /**
   * when the rate was not reached: who could not keep up. `host`: the machine the client runs on
   * had no CPU left and the client was not the one using it (a database on the same machine, or
   * neighbours): the rate is this machine's, not the database's own.
   */
  limitedBy?: 'generator' | 'host' | 'database'
}

export interface CapacityStep extends StepMeasure, Verdict {
  phase: 'exponential' | 'binary' | 'confirm'
  errorRate: number
  /** the step's own slice of the dataset: `verify` with these and the seed checks it */
  request: { from: string; to: string; trades: number; ratePerSecond: number }
}

/** A slice of market time a search wrote: a warm-up or a judged step, in the order written. */
export interface CapacitySlice {
  kind: 'warmup' | 'step'
  from: string
  to: string
  trades: number
}

/** A search as GET /capacity/:id answers it (the console reads it as this). */
export interface CapacitySearchView {
  id: string
  status: 'running' | 'done' | 'failed' | 'cancelled'
  createdAt: string
  options: object
  /** the step running now */
  currentTargetPointsPerSecond?: number
  steps: CapacityStep[]
  /** once done: the rate found (null: none), whether it held twice, and why the search ended */
  sustainablePointsPerSecond?: number | null
  confirmed?: boolean
  ended?: 'converged' | 'start-rate-failed' | 'deadline' | 'max-rate'
  seed?: string | number
  /** the request every slice was written with */
  load?: Record<string, unknown>
  slices?: CapacitySlice[]
  error?: ErrorInfo
  links: { self: string; events: string; chart: string; verify: string }
}

/** POST /capacity/:id/verify: every slice of the search, with its own verify report. */
export interface CapacityVerified {
  ok: boolean
  seed: string | number
  pointsExpected: number
  pointsFound: number
  differencesTotal: number
  slices: (CapacitySlice & { report: { ok: boolean; pointsFound: number; differencesTotal: number } })[]
}
