import { InvalidRequestError } from '../errors.js'
import type { LoadSpec } from '../model/request.js'

/**
 * What one coordinator or run allows. Apart from the manager so that config.ts (every command
 * reads it) does not load the manager, and with it verification and the InfluxDB 2.x client.
 */
export interface LoadLimits {
  /** loads queued or running at once; more get 429 */
  maxConcurrentLoads: number
  /** trades in one load; more get 400 */
  maxTradesPerLoad: number
}

export const DEFAULT_LIMITS: LoadLimits = { maxConcurrentLoads: 4, maxTradesPerLoad: 10_000_000_000 }

/** Refuses a load bigger than the configured limit, naming the field and the setting. */
export function checkTradesLimit(spec: LoadSpec, max: number): void {
  if (spec.trades > max) {
    throw new InvalidRequestError('trades', `must be at most ${max.toLocaleString('en-US')} on this coordinator (MAX_TRADES_PER_LOAD)`)
  }
}
