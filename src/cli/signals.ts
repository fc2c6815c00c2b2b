import { EXIT_LOAD_FAILED } from './exit.js'

/** What a command does on each signal: the first rung on the first, and so on; the last repeats. */
type SignalLadder = readonly ((signal: NodeJS.Signals) => void)[]

/**
 * Climbs `ladder` one rung per signal, whichever of `signals` it is (SIGHUP: an ssh session
 * dropping), so that a second Ctrl-C means "now" even after a SIGTERM. Returns the unregistration.
 */
export function onSignals(ladder: SignalLadder, signals: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP']): () => void {
  let received = 0
  const handler = (signal: NodeJS.Signals) => {
    const rung = ladder[Math.min(received, ladder.length - 1)]
    received++
    rung?.(signal)
  }
  for (const s of signals) process.on(s, handler)
  return () => {
    for (const s of signals) process.off(s, handler)
  }
}

/** An error's message and where it came from, in one line (no stack trace for users). */
export function crashMessage(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err)
}

/**
 * A bug must not end the process silently or with only a stack trace: on an uncaught exception or
 * unhandled rejection, `stop` says what it can (the account so far) and stops the workers, then
 * the process exits 1; if stopping hangs, it exits after 5 s anyway. Returns the unregistration.
 */
export function onCrash(stop: (err: unknown) => Promise<void>, exitWhenStopped = true): { off(): void; crashed(): boolean } {
  let crashed = false
  const handler = (err: unknown) => {
    if (crashed) return
    crashed = true
    setTimeout(() => process.exit(EXIT_LOAD_FAILED), 5000).unref()
    stop(err).then(
      () => exitWhenStopped && process.exit(EXIT_LOAD_FAILED),
      () => process.exit(EXIT_LOAD_FAILED),
    )
  }
  process.on('uncaughtException', handler)
  process.on('unhandledRejection', handler)
  return {
    off() {
      process.off('uncaughtException', handler)
      process.off('unhandledRejection', handler)
    },
    crashed: () => crashed,
  }
}
