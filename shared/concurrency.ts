/**
 * The sink's write concurrency limit, adapted to what the server sustains (AIMD, as TCP does with
 * its window): every worker of every load on the sink takes a token per request on the wire, so
 * the limit holds across threads. It lives in shared memory beside the circuit breaker (one buffer
 * per sink: CircuitBreaker.SINK_STATE_BYTES, WriteConcurrency.of); workers drive it, the main thread only reads it.
 *
 * - An overload answer (429, 503, influxd's full cache, a timeout) halves the limit, at most once
 *   per `decreaseEveryMs`: the writes already in flight when the server tipped over all fail
 *   together, and they are one signal, not eight.
 * - Successes raise it by one per `limit` successes (about one per round of requests), up to `max`.
 * - While it is below `max` the sink runs degraded; the time it spent so is summed, so a load can
 *   say how long it ran degraded (its end reading minus its start reading).
 *
 * The breaker handles a server that is down; this handles one that is up and drowning.
 */
import { CircuitBreaker } from './breaker.js'

export interface ConcurrencySettings {
  /** requests on the wire at once when the server keeps up: the pool size times MAX_IN_FLIGHT */
  max: number
  /** adapt at all; false: always `max` (the hammering a user may want to measure) */
  adaptive: boolean
  /** at most one decrease per this many ms */
  decreaseEveryMs: number
}

export const DEFAULT_DECREASE_EVERY_MS = 250

// Int32 slots
const LIMIT = 0
const IN_USE = 1
const SUCCESSES = 2
const LOWEST = 3
// BigInt64 slots (byte offset 16): ms since epoch, or ms summed
const LAST_DECREASE = 0
const DEGRADED_SINCE = 1
const DEGRADED_TOTAL = 2

/** How often a writer waiting for a token looks at the stop flag. */
const WAIT_POLL_MS = 50

export interface ConcurrencyStats {
  /** requests allowed on the wire now */
  limit: number
  max: number
  /** requests on the wire now */
  inUse: number
  /** the lowest the limit has been */
  lowest: number
  /** ms the sink has run below `max` since it was first used */
  degradedMs: number
}

export class WriteConcurrency {
  static readonly BYTES = 40

  /** The limit of the sink whose breaker this is: it lives in the same buffer, after the breaker. */
  static of(breaker: { buffer: SharedArrayBuffer }, settings: ConcurrencySettings, now?: () => number): WriteConcurrency {
    return new WriteConcurrency(breaker.buffer, CircuitBreaker.BYTES, settings, now)
  }

  private readonly i32: Int32Array
  private readonly i64: BigInt64Array

  constructor(
    readonly buffer: SharedArrayBuffer,
    readonly offset: number,
    readonly settings: ConcurrencySettings,
    private readonly now: () => number = Date.now,
  ) {
    this.i32 = new Int32Array(buffer, offset, 4)
    this.i64 = new BigInt64Array(buffer, offset + 16, 3)
    // A fresh buffer is all zeros: the first user starts it at max (idempotent for the others).
    Atomics.compareExchange(this.i32, LIMIT, 0, settings.max)
    Atomics.compareExchange(this.i32, LOWEST, 0, settings.max)
  }

  /**
   * Takes a token; resolves false once taken, true if `stopped()` said so first. Waits on the
   * in-use counter with Atomics.waitAsync, woken by a release in any thread.
   */
  async acquire(stopped: () => boolean): Promise<boolean> {
    if (!this.settings.adaptive) return false
    for (;;) {
      const used = Atomics.load(this.i32, IN_USE)
      if (used < Atomics.load(this.i32, LIMIT)) {
        if (Atomics.compareExchange(this.i32, IN_USE, used, used + 1) === used) return false
        continue
      }
      if (stopped()) return true
      const w = Atomics.waitAsync(this.i32, IN_USE, used, WAIT_POLL_MS)
      if (w.async) await w.value
    }
  }

  release(): void {
    if (!this.settings.adaptive) return
    Atomics.sub(this.i32, IN_USE, 1)
    Atomics.notify(this.i32, IN_USE, 1)
  }

  /** A write succeeded: one more step towards raising the limit. */
  succeeded(): void {
    if (!this.settings.adaptive) return
    const limit = Atomics.load(this.i32, LIMIT)
    if (limit >= this.settings.max) return
    if (Atomics.add(this.i32, SUCCESSES, 1) + 1 < limit) return
    Atomics.store(this.i32, SUCCESSES, 0)
    if (Atomics.compareExchange(this.i32, LIMIT, limit, limit + 1) !== limit) return
    // A raised limit may let a waiter through.
    Atomics.notify(this.i32, IN_USE)
    if (limit + 1 >= this.settings.max) this.endDegraded()
  }

  /** The server said it is overloaded: halve the limit, unless another writer just did. */
  overloaded(): void {
    if (!this.settings.adaptive) return
    const t = this.now()
    const last = Atomics.load(this.i64, LAST_DECREASE)
    if (t - Number(last) < this.settings.decreaseEveryMs) return
    if (Atomics.compareExchange(this.i64, LAST_DECREASE, last, BigInt(t)) !== last) return
    const limit = Atomics.load(this.i32, LIMIT)
    const lower = Math.max(1, Math.floor(limit / 2))
    Atomics.store(this.i32, SUCCESSES, 0)
    if (lower === limit || Atomics.compareExchange(this.i32, LIMIT, limit, lower) !== limit) return
    if (lower < Atomics.load(this.i32, LOWEST)) Atomics.store(this.i32, LOWEST, lower)
    Atomics.compareExchange(this.i64, DEGRADED_SINCE, 0n, BigInt(t))
  }

  private endDegraded(): void {
    const since = Atomics.exchange(this.i64, DEGRADED_SINCE, 0n)
    if (since !== 0n) Atomics.add(this.i64, DEGRADED_TOTAL, BigInt(Math.max(0, this.now() - Number(since))))
  }

  stats(): ConcurrencyStats {
    const since = Number(Atomics.load(this.i64, DEGRADED_SINCE))
    return {
      limit: Atomics.load(this.i32, LIMIT),
      max: this.settings.max,
      inUse: Atomics.load(this.i32, IN_USE),
      lowest: Atomics.load(this.i32, LOWEST),
      degradedMs: Number(Atomics.load(this.i64, DEGRADED_TOTAL)) + (since === 0 ? 0 : Math.max(0, this.now() - since)),
    }
  }
}
