/**
 * A circuit breaker in shared memory: one per sink, seen by the main thread and every worker
 * writing to that sink, so one thread's failures pause them all. Workers drive it (they see every
 * attempt at once); the main thread only reads it, for `GET /loads/:id`, `/readyz` and metrics.
 *
 * closed    → writes go through; `threshold` retryable failures in a row open it.
 * open      → nobody writes until `cooldownMs` has passed; then one writer takes the probe.
 * half-open → the probe is out; others wait. Its success closes the circuit, its failure reopens it.
 * A probe that never comes back (its thread died) is taken over once `probeTimeoutMs` has passed.
 */
import { opensCircuit, type CircuitState } from './breakerRule.js'

export type { CircuitState }

const CLOSED = 0
const OPEN = 1
const HALF_OPEN = 2
/**
 * Between winning the swap to OPEN and writing the new deadline: readers wait. Without it the
 * deadline had to be written before the swap, whatever its outcome, and a late failure during
 * half-open (its swap from CLOSED fails) cut the probe's deadline short and let a second probe out.
 */
const OPENING = 3

const NAMES: readonly CircuitState[] = ['closed', 'open', 'half-open', 'open']

export interface BreakerSettings {
  /** retryable failures in a row that open the circuit */
  threshold: number
  /** how long it stays open before a probe */
  cooldownMs: number
  /** a probe older than this is presumed lost (request timeout plus a margin) */
  probeTimeoutMs: number
}

export interface BreakerStats {
  state: CircuitState
  /** times it has opened since the sink was first used */
  opens: number
  consecutiveFailures: number
}

type Gate = { pass: true; probe: boolean } | { pass: false; waitMs: number }

// Int32 slots
const STATE = 0
const FAILURES = 1
const OPENS = 2
// BigInt64 slots (byte offset 16): when the open period ends, or when the probe is presumed lost;
// when the sink last acknowledged a write (ms since epoch, 0: never)
const DEADLINE = 0
const ACKNOWLEDGED = 1

/** How often waiters look again while a probe is out. */
const HALF_OPEN_POLL_MS = 50

export class CircuitBreaker {
  static readonly BYTES = 32
  /** the whole per-sink buffer: the breaker, then the write concurrency limit at BYTES (WriteConcurrency.BYTES = 40: concurrency.ts imports this file, not the reverse) */
  static readonly SINK_STATE_BYTES = CircuitBreaker.BYTES + 40
  private readonly i32: Int32Array
  private readonly i64: BigInt64Array

  constructor(
    readonly buffer: SharedArrayBuffer,
    readonly settings: BreakerSettings,
    private readonly now: () => number = Date.now,
  ) {
    this.i32 = new Int32Array(buffer, 0, 4)
    this.i64 = new BigInt64Array(buffer, 16, 2)
  }

  static create(settings: BreakerSettings, now?: () => number): CircuitBreaker {
    return new CircuitBreaker(new SharedArrayBuffer(CircuitBreaker.SINK_STATE_BYTES), settings, now)
  }

  /** May this writer send now? If it may while the circuit is not closed, it carries the probe. */
  gate(): Gate {
    const t = this.now()
    const state = Atomics.load(this.i32, STATE)
    if (state === CLOSED) return { pass: true, probe: false }
    if (state === OPENING) return { pass: false, waitMs: 1 }
    const deadline = Number(Atomics.load(this.i64, DEADLINE))
    if (t < deadline) return { pass: false, waitMs: state === OPEN ? deadline - t : Math.min(HALF_OPEN_POLL_MS, deadline - t) }
    // Open period over (or a probe lost): whoever swaps the state first sends the probe, and only
    // the winner moves the deadline (through OPENING, so nobody reads a stale one meanwhile).
    if (Atomics.compareExchange(this.i32, STATE, state, OPENING) !== state) return { pass: false, waitMs: HALF_OPEN_POLL_MS }
    Atomics.store(this.i64, DEADLINE, BigInt(t + this.settings.probeTimeoutMs))
    Atomics.store(this.i32, STATE, HALF_OPEN)
    return { pass: true, probe: true }
  }

  /** The server answered (even with a permanent error): it is up. */
  succeeded(): void {
    Atomics.store(this.i32, FAILURES, 0)
    if (Atomics.load(this.i32, STATE) !== CLOSED) Atomics.store(this.i32, STATE, CLOSED)
  }

  /** A write was acknowledged: the sink is taking writes (the retry budget runs from here). */
  acknowledged(): void {
    Atomics.store(this.i64, ACKNOWLEDGED, BigInt(this.now()))
  }

  /** When any writer of the sink last had a write acknowledged (ms since epoch), 0 if none has. */
  lastAcknowledgedAt(): number {
    return Number(Atomics.load(this.i64, ACKNOWLEDGED))
  }

  /** A retryable failure (refused, reset, timeout, 429, 5xx). */
  failed(probe: boolean): void {
    const inARow = Atomics.add(this.i32, FAILURES, 1) + 1
    if (opensCircuit(inARow, probe, this.settings.threshold)) this.open(probe ? HALF_OPEN : CLOSED)
  }

  private open(from: number): void {
    // Only the writer whose swap wins sets the cooldown: a failure that lost the race (the circuit
    // already open, or half-open with a probe out) leaves the deadline alone.
    if (Atomics.compareExchange(this.i32, STATE, from, OPENING) !== from) return
    Atomics.store(this.i64, DEADLINE, BigInt(this.now() + this.settings.cooldownMs))
    Atomics.store(this.i32, STATE, OPEN)
    if (from === CLOSED) Atomics.add(this.i32, OPENS, 1)
  }

  stats(): BreakerStats {
    return {
      state: NAMES[Atomics.load(this.i32, STATE)] ?? 'closed',
      opens: Atomics.load(this.i32, OPENS),
      consecutiveFailures: Atomics.load(this.i32, FAILURES),
    }
  }
}

export const DEFAULT_BREAKER: BreakerSettings = { threshold: 5, cooldownMs: 2000, probeTimeoutMs: 32_000 }
