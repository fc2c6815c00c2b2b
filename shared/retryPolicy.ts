/** How a worker retries a batch: part of every shard task, and set by the main thread's config. */
export interface RetryPolicy {
  /**
   * attempts per batch while the circuit is closed, the first one included; Infinity (the
   * default): as many as the time budget allows, so an overloaded server is ridden out
   */
  maxAttempts: number
  /** first backoff ceiling; doubles per attempt (full jitter: a random delay up to it) */
  baseDelayMs: number
  /** cap of a jittered delay (a server's Retry-After is honoured beyond it, within the budget) */
  maxDelayMs: number
  /** time budget per batch: attempts, backoffs and waits on an open circuit together */
  maxElapsedMs: number
}

export const DEFAULT_RETRY: RetryPolicy = { maxAttempts: Infinity, baseDelayMs: 250, maxDelayMs: 10_000, maxElapsedMs: 60_000 }
