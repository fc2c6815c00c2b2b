/**
 * The sink's circuit breaker rule, as pure functions: what an attempt tells the breaker, when a
 * failure opens the circuit, and what "open" means to a reader. The breaker (breaker.ts) keeps the
 * state in shared memory; workers (retry.ts), the coordinator's readiness and the timeline all ask here.
 */

/** The sink's circuit, as the breaker keeps it and the API and metrics show it. */
export type CircuitState = 'closed' | 'open' | 'half-open'

/** How one write attempt ended. */
export type AttemptOutcome =
  /** the database acknowledged it */
  | 'acknowledged'
  /** the server answered with an error a retry cannot fix (400, 401, 404, 413...) */
  | 'rejected'
  /** refused, reset, timed out, 429, 5xx: may succeed on retry */
  | 'retryable'
  /** abandoned because the load stopped: never reached an answer */
  | 'stopped'

/**
 * What an attempt says about the server: `up` (it answered, even with a permanent error),
 * `failing` (a retryable failure), or nothing (abandoned: it says nothing about the server).
 */
export function breakerSignal(outcome: AttemptOutcome): 'up' | 'failing' | 'none' {
  switch (outcome) {
    case 'acknowledged':
    case 'rejected':
      return 'up'
    case 'retryable':
      return 'failing'
    case 'stopped':
      return 'none'
  }
}

/** Whether a retryable failure opens the circuit: a failed probe always; else `threshold` in a row. */
export function opensCircuit(failuresInARow: number, probe: boolean, threshold: number): boolean {
  return probe || failuresInARow >= threshold
}

/** Whether the circuit refuses writes now: open (half-open has a probe out and is not counted open). */
export function circuitIsOpen(state: CircuitState): boolean {
  return state === 'open'
}

/** The circuit as a level for charts: 0 closed, 1 half-open, 2 open (worse is higher). */
export function circuitLevel(state: CircuitState): 0 | 1 | 2 {
  return state === 'open' ? 2 : state === 'half-open' ? 1 : 0
}
