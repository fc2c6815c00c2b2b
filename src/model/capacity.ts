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
