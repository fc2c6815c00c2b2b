import { CONTROL_SLOTS, IN_FLIGHT, isStopped, RUN, signalAbandon, signalStop, STOP_CANCELLED, STOP_FAILED } from '../../shared/control.js'

/** Why a load was told to stop: the reason of its AbortSignal. */
export type StopReason = 'cancelled' | 'failed'

/**
 * How a load stops. On the main thread an AbortSignal is the one way to say stop (as piscina's
 * `run({ signal })`); workers cannot hold a signal, so the signal's abort listener, and nothing
 * else here, sets the shared-memory stop flag they read (shared/control.ts). A worker whose write
 * failed for good sets that flag itself, to stop its siblings at once; `stopped()` carries such a
 * stop over into the signal, so the main thread still asks only the signal.
 */
export class LoadStopper {
  /** shared with every worker running a shard of this load: [0] = RUN | STOP_CANCELLED | STOP_FAILED */
  readonly control = new Int32Array(new SharedArrayBuffer(4 * CONTROL_SLOTS))
  private controller = this.arm()

  /** Aborted once this run of the load must stop; a new one for each run. */
  get signal(): AbortSignal {
    return this.controller.signal
  }

  /** Says stop, for `reason`; the first reason wins. */
  stop(reason: StopReason): void {
    this.controller.abort(reason)
  }

  /** Whether this run has been told to stop (by the main thread, or by a worker's failed write). */
  stopped(): boolean {
    if (!this.controller.signal.aborted && isStopped(this.control)) this.stop(this.flagReason())
    return this.controller.signal.aborted
  }

  /** After stop: workers do not wait for their writes in flight; those end failed (in doubt) at once. */
  abandon(): void {
    this.stop('cancelled')
    signalAbandon(this.control)
  }

  /** How the run stopped, as the workers saw it (the flag's first reason); undefined if it was not stopped. */
  outcome(): StopReason | undefined {
    return isStopped(this.control) ? this.flagReason() : undefined
  }

  /**
   * For the next run (a resume): a fresh signal and flag. Every worker of the last run has ended:
   * what is still counted in flight was lost with a dead thread, and its shard is rerun.
   */
  rearm(): void {
    this.controller = this.arm()
    Atomics.store(this.control, 0, RUN)
    Atomics.store(this.control, IN_FLIGHT, 0)
  }

  private arm(): AbortController {
    const controller = new AbortController()
    controller.signal.addEventListener('abort', () => signalStop(this.control, controller.signal.reason === 'failed' ? STOP_FAILED : STOP_CANCELLED), { once: true })
    return controller
  }

  private flagReason(): StopReason {
    return Atomics.load(this.control, 0) === STOP_FAILED ? 'failed' : 'cancelled'
  }
}

/** Calls `onAbort` when `signal` aborts (at once if it has); returns what stops following it. */
export function followSignal(signal: AbortSignal | undefined, onAbort: () => void): () => void {
  if (!signal) return () => {}
  if (signal.aborted) onAbort()
  else signal.addEventListener('abort', onAbort, { once: true })
  return () => signal.removeEventListener('abort', onAbort)
}
