/**
 * A load's control buffer: Int32 slots in one SharedArrayBuffer that the main thread and every
 * worker of the load see. Slot 0 is the stop flag, slot 1 the points in flight, slot 2 abandon.
 */

/**
 * Slot of `control` counting the load's points sent and not yet accounted: a worker adds a batch's
 * lines before it sends them; the main thread subtracts them when the batch's delta (written or
 * failed) arrives. So at every moment the account can count them as in doubt, never as unsent,
 * even in the few ms between an answer and its delta.
 */
export const IN_FLIGHT = 1
/**
 * Slot of `control` set to 1 when the load must not wait for its writes in flight (a second
 * Ctrl-C): workers abandon them at once, counting them failed and in doubt, and report.
 */
export const ABANDON = 2
/** Int32 slots of a load's control buffer: [stop flag, points in flight, abandon]. */
export const CONTROL_SLOTS = 3

/** Values of `control[0]`, a flag every worker of a load reads between batches. */
export const RUN = 0
export const STOP_CANCELLED = 1
export const STOP_FAILED = 2

/**
 * A load's stop flag: `control[0]` in a SharedArrayBuffer seen by the main thread and every worker
 * of the load. Waits (backoffs, an open circuit, rate pacing) wake as soon as it leaves RUN, so a
 * cancelled load stops within the writes in flight instead of sleeping out a 10-second backoff.
 */
export function isStopped(control: Int32Array): boolean {
  return Atomics.load(control, 0) !== RUN
}

/** Sets the flag (the first reason wins) and wakes every waiter. Returns false if already stopped. */
export function signalStop(control: Int32Array, reason: number): boolean {
  const won = Atomics.compareExchange(control, 0, RUN, reason) === RUN
  Atomics.notify(control, 0)
  return won
}

/**
 * Sleeps up to `ms`, waking early when the load stops. Resolves true if the load has stopped.
 * Atomics.waitAsync alone does not keep Node's event loop alive, hence the timer beside it.
 */
export async function sleepUnlessStopped(control: Int32Array, ms: number): Promise<boolean> {
  if (isStopped(control)) return true
  if (ms <= 0) return false
  const wait = Atomics.waitAsync(control, 0, RUN, ms)
  if (wait.async) {
    let timer: NodeJS.Timeout | undefined
    await Promise.race([wait.value, new Promise<void>((r) => (timer = setTimeout(r, ms)))])
    clearTimeout(timer)
  }
  return isStopped(control)
}

/** Tells every worker of the load to abandon its writes in flight (they still report). */
export function signalAbandon(control: Int32Array): void {
  Atomics.store(control, ABANDON, 1)
  Atomics.notify(control, ABANDON)
}

/**
 * A promise that resolves once the load says to abandon writes in flight, for writes to race
 * against; `dispose()` ends the watch when the shard is done (the promise then never settles).
 */
export function whenAbandoned(control: Int32Array): { abandoned: Promise<void>; dispose(): void } {
  let disposed = false
  const abandoned = new Promise<void>((resolve) => {
    void (async () => {
      while (!disposed) {
        if (Atomics.load(control, ABANDON) !== 0) return resolve()
        const w = Atomics.waitAsync(control, ABANDON, 0, 1000)
        if (w.async) await w.value
      }
    })()
  })
  return { abandoned, dispose: () => (disposed = true) }
}
