import { randomInt } from 'node:crypto'
import { WriteError } from '../src/errors.js'
import type { RetryPolicy } from '../shared/retryPolicy.js'
import type { CircuitBreaker } from '../shared/breaker.js'
import { breakerSignal, type AttemptOutcome } from '../shared/breakerRule.js'
import type { WriteConcurrency } from '../shared/concurrency.js'

/** Backoff before attempt `attempt + 1`: full jitter, but never sooner than the server asked. */
export function retryDelay(
  policy: Pick<RetryPolicy, 'baseDelayMs' | 'maxDelayMs'>,
  attempt: number,
  err: WriteError,
  jitter: (min: number, maxExclusive: number) => number = randomInt,
): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1))
  const jittered = jitter(0, Math.max(1, Math.floor(ceiling)) + 1)
  return Math.max(jittered, err.retryAfterMs ?? 0)
}

/** A batch abandoned because its load was told to stop (cancel, or another shard failed). */
export class WriteStoppedError extends WriteError {
  constructor(last: WriteError | undefined, why?: string) {
    super(why ?? (last ? `stopped while retrying: ${last.message}` : 'stopped before the write was sent'), { cause: last })
  }
  override canRetry(): boolean {
    return false
  }
}

export interface RetryContext {
  /** shared per sink; waits while it is open and counts this writer's outcomes */
  breaker?: CircuitBreaker
  /** shared per sink; a token per request on the wire, fewer while the server is overloaded */
  concurrency?: WriteConcurrency
  /** whether the load has been told to stop (checked while waiting for a token) */
  stopped?: () => boolean
  /** sleeps up to `ms`; resolves true once the load has been told to stop */
  sleep: (ms: number) => Promise<boolean>
  /** a failed attempt that will be retried */
  onRetry: (err: WriteError) => void
  now?: () => number
}

/**
 * Runs `attempt` until it succeeds, fails permanently, or the policy's attempts or time budget run
 * out; the error thrown then says which. While the circuit breaker is open the writer waits instead
 * of sending; a probe it sends on the breaker's behalf does not use up the batch's attempts, so a
 * server restart is ridden out by the time budget, not by luck with attempt counts.
 *
 * The time budget measures how long the database has taken no write, not how long this batch has
 * tried: it runs from this batch's start or from the last write any writer of the sink had
 * acknowledged, whichever is later. A server that drops most writes but stores some (influxd with a
 * full cache: 500s, yet ~9,500 points/s stored) is making progress, and a batch that was unlucky
 * while others got through keeps trying instead of failing a load that was advancing. A server
 * that stops taking writes ends every batch one budget after its last acknowledgement.
 */
export async function withRetry(attempt: () => Promise<void>, policy: RetryPolicy, ctx: RetryContext): Promise<void> {
  const now = ctx.now ?? Date.now
  const started = now()
  /** time spent waiting for a concurrency token: the server was busy with others' writes, not failing ours */
  let queuedMs = 0
  /** how long the sink has gone without acknowledging a write, as far as this batch can tell */
  const stalled = () => {
    const t = now()
    const own = t - started - queuedMs
    const ack = ctx.breaker?.lastAcknowledgedAt() ?? 0
    return ack > started ? Math.min(own, t - ack) : own
  }
  let attempts = 0
  let last: WriteError | undefined
  const outOfTime = (why: string) =>
    new WriteError(`gave up: ${why}, after ${Math.round((now() - started) / 1000)} s on this batch: ${last?.message ?? 'no attempt made'}`, {
      ...(last?.status !== undefined ? { status: last.status } : {}),
      cause: last,
    })
  // A backoff of at most a quarter of the budget: every batch tries a few times in any budget's
  // window, so "no write for the whole budget" means the database refused them all, not that we
  // were asleep (and no batch waits 10 s while others go through).
  const backoff = { ...policy, maxDelayMs: Math.max(1, Math.min(policy.maxDelayMs, policy.maxElapsedMs / 4)) }
  const budget = `the database took no write for the whole retry budget (${policy.maxElapsedMs} ms, --retry-max-ms)`
  for (;;) {
    const gate = ctx.breaker?.gate() ?? { pass: true, probe: false }
    if (!gate.pass) {
      const left = policy.maxElapsedMs - stalled()
      if (left <= 0) throw outOfTime(`circuit open and ${budget}`)
      if (await ctx.sleep(Math.min(gate.waitMs, left))) throw new WriteStoppedError(last)
      continue
    }
    const limit = ctx.concurrency
    if (limit) {
      const t = now()
      const stopped = await limit.acquire(ctx.stopped ?? (() => false))
      queuedMs += now() - t
      if (stopped) throw new WriteStoppedError(last)
    }
    try {
      await attempt()
      limit?.release()
      limit?.succeeded()
      tellBreaker(ctx.breaker, 'acknowledged', gate.probe)
      ctx.breaker?.acknowledged()
      return
    } catch (e) {
      limit?.release()
      const err = e instanceof WriteError ? e : new WriteError(String((e as Error).message ?? e), { cause: e })
      const outcome: AttemptOutcome = err instanceof WriteStoppedError ? 'stopped' : err.canRetry() ? 'retryable' : 'rejected'
      if (outcome !== 'retryable') {
        tellBreaker(ctx.breaker, outcome, gate.probe)
        throw err
      }
      if (err.overloaded()) limit?.overloaded()
      tellBreaker(ctx.breaker, outcome, gate.probe)
      last = err
      if (!gate.probe) attempts++
      if (attempts >= policy.maxAttempts) {
        throw new WriteError(`gave up after ${attempts} attempts: ${err.message}`, {
          ...(err.status !== undefined ? { status: err.status } : {}),
          cause: err,
        })
      }
      ctx.onRetry(err)
      // After a failed probe the breaker is open again and sets the pace; otherwise back off.
      const delay = gate.probe ? 0 : retryDelay(backoff, attempts, err)
      if (stalled() + delay > policy.maxElapsedMs) throw outOfTime(budget)
      if (await ctx.sleep(delay)) throw new WriteStoppedError(last)
    }
  }
}

/** Tells the sink's breaker what an attempt says about the server (the rule: breakerRule.ts). */
function tellBreaker(breaker: CircuitBreaker | undefined, outcome: AttemptOutcome, probe: boolean): void {
  const signal = breakerSignal(outcome)
  if (signal === 'up') breaker?.succeeded()
  else if (signal === 'failing') breaker?.failed(probe)
}
