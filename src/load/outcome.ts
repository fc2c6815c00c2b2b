import type { ErrorInfo } from '../model/errors.js'
import type { Account, Attempt, LatencySummary, LoadConcurrency, LoadResult, PaceKept } from '../model/account.js'
import type { LoadStatus } from '../model/status.js'
import type { StopReason } from './stop.js'

/** Where a run of a load began: what its attempt is measured from. */
export interface AttemptBase {
  /** performance.now() at its start */
  t0: number
  startedAt: string
  written: number
  retries: number
  opens: number
}

/** A run beginning at `t0` (performance.now()), with the load's account and its breaker's opens as they are. */
export function attemptBase(t0: number, account: Account, opens: number): AttemptBase {
  return { t0, startedAt: new Date().toISOString(), written: account.pointsWritten, retries: account.retries, opens }
}

/** The run begun at `b`, `elapsedMs` later, as an attempt: what it wrote, retried and opened since. */
export function attemptSince(b: AttemptBase, elapsedMs: number, now: { account: Account; opens: number }, degradedMs = 0, pace?: PaceKept): Attempt {
  return {
    startedAt: b.startedAt,
    durationMs: Math.round(elapsedMs),
    pointsWritten: now.account.pointsWritten - b.written,
    retries: now.account.retries - b.retries,
    circuitOpens: now.opens - b.opens,
    degradedMs,
    ...(pace ? { pace } : {}),
  }
}

/** How a run ended: an error, or a worker's stop for one, fails it; a stop otherwise cancels it. */
export function endStatus(error: ErrorInfo | undefined, stop: StopReason | undefined): LoadStatus {
  return error || stop === 'failed' ? 'failed' : stop === 'cancelled' ? 'cancelled' : 'succeeded'
}

/** What a load's result is made of. */
interface ResultParts {
  status: LoadStatus
  account: Account
  /** every attempt so far: the earlier runs of a load resumed from its account file or store included */
  attempts: readonly Attempt[]
  writeLatencyMs: LatencySummary
  writeConcurrency: LoadConcurrency
  error: ErrorInfo | undefined
}

/** The result of a load as it stands: its status and account, over every attempt so far. */
export function loadResult(p: ResultParts): LoadResult {
  const durationMs = p.attempts.reduce((t, a) => t + a.durationMs, 0)
  return {
    status: p.status,
    ...p.account,
    durationMs,
    pointsPerSecond: durationMs > 0 ? Math.round(p.account.pointsWritten / (durationMs / 1000)) : 0,
    attempts: [...p.attempts],
    writeLatencyMs: p.writeLatencyMs,
    writeConcurrency: p.writeConcurrency,
    ...(p.error ? { error: p.error } : {}),
  }
}

/** The write concurrency of a load its process's end cut short: its lowest limit is not known, its degraded time is its attempts'. */
export function cutShortConcurrency(max: number, attempts: readonly Attempt[]): LoadConcurrency {
  return { max, lowest: max, degradedMs: attempts.reduce((t, a) => t + a.degradedMs, 0) }
}
