import { randomInt } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import { WriteError } from '../errors.js'

export interface RetryPolicy {
  /** attempts in all, the first one included */
  maxAttempts: number
  /** first backoff ceiling; doubles per attempt (full jitter: a random delay up to it) */
  baseDelayMs: number
  /** cap of any single delay, Retry-After included */
  maxDelayMs: number
}

export const DEFAULT_RETRY: RetryPolicy = { maxAttempts: 5, baseDelayMs: 250, maxDelayMs: 10_000 }

/** Backoff before attempt `attempt + 1`: full jitter, but never sooner than the server asked. */
export function retryDelay(
  policy: RetryPolicy,
  attempt: number,
  err: WriteError,
  jitter: (min: number, maxExclusive: number) => number = randomInt,
): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1))
  const jittered = jitter(0, Math.max(1, Math.floor(ceiling)) + 1)
  return Math.min(policy.maxDelayMs, Math.max(jittered, err.retryAfterMs ?? 0))
}

/**
 * Runs `attempt` until it succeeds, fails permanently, runs out of attempts, or `stopped()` turns
 * true (a cancelled load does not wait out backoffs). The last error is rethrown.
 */
export async function withRetry(
  attempt: () => Promise<void>,
  policy: RetryPolicy,
  hooks: { stopped: () => boolean; onRetry: (err: WriteError) => void },
): Promise<void> {
  for (let n = 1; ; n++) {
    try {
      await attempt()
      return
    } catch (e) {
      const err = e instanceof WriteError ? e : new WriteError(String((e as Error).message ?? e), { cause: e })
      if (!err.canRetry() || n >= policy.maxAttempts || hooks.stopped()) throw err
      hooks.onRetry(err)
      await sleep(retryDelay(policy, n, err))
      if (hooks.stopped()) throw err
    }
  }
}
