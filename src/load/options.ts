import { DEFAULT_BREAKER, type BreakerSettings } from '../../shared/breaker.js'
import { DEFAULT_DECREASE_EVERY_MS, type ConcurrencySettings } from '../../shared/concurrency.js'
import { DEFAULT_RETRY, type RetryPolicy } from '../../shared/retryPolicy.js'

export interface LoadOptions {
  /** batches each worker may have in flight (default 2: one on the wire, one being acknowledged) */
  maxInFlight: number
  retry: RetryPolicy
  breaker: BreakerSettings
  /**
   * lower the writes in flight of all workers together while the server signals overload, raise
   * them again while it keeps up (default true; false: always pool size x maxInFlight)
   */
  adaptiveConcurrency?: boolean
}

export const DEFAULT_LOAD_OPTIONS: LoadOptions = { maxInFlight: 2, retry: DEFAULT_RETRY, breaker: DEFAULT_BREAKER, adaptiveConcurrency: true }

/** The sink's write concurrency settings for loads run on `pool` with `options`. */
export function concurrencySettings(options: LoadOptions, poolSize: number): ConcurrencySettings {
  return { max: poolSize * options.maxInFlight, adaptive: options.adaptiveConcurrency ?? true, decreaseEveryMs: DEFAULT_DECREASE_EVERY_MS }
}
