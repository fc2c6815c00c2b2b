import { randomUUID } from 'node:crypto'
import type { Logger } from 'pino'
import { verifyLoad, type VerifyReport } from '../candles/verify.js'
import { LoadFinishedError, LoadNotFoundError, LoadNotResumableError, LoadRunningError, ShuttingDownError, TooManyLoadsError } from '../errors.js'
import type { Metrics } from '../metrics/metrics.js'
import type { LoadSpec } from '../request/schema.js'
import { CircuitBreaker, type BreakerStats } from '../../shared/breaker.js'
import type { SinkConfig } from '../sink/target.js'
import type { ShardPool } from '../../workers/pool.js'
import { WriteConcurrency, type ConcurrencyStats } from '../../shared/concurrency.js'
import { concurrencySettings, DEFAULT_LOAD_OPTIONS, LoadRun, type LoadOptions } from './run.js'
import { checkTradesLimit, DEFAULT_LIMITS, type LoadLimits } from './limits.js'

/** Finished loads kept for GET /loads; the oldest are forgotten first, so memory stays bounded. */
export const MAX_FINISHED_LOADS = 200

export interface ManagerInit {
  pool: ShardPool
  sink: SinkConfig
  log: Logger
  metrics?: Metrics
  options?: LoadOptions
  limits?: LoadLimits
}

/**
 * The coordinator's loads: starts them in the background, finds, lists, cancels and resumes them.
 * It owns the sink's circuit breaker, so every load on the sink sees the same state.
 */
export class LoadManager {
  readonly breaker: CircuitBreaker
  readonly concurrency: WriteConcurrency
  private readonly loads = new Map<string, LoadRun>()
  private readonly running = new Map<LoadRun, Promise<unknown>>()
  private readonly options: LoadOptions
  private readonly limits: LoadLimits
  private draining = false

  constructor(private readonly init: ManagerInit) {
    this.options = init.options ?? DEFAULT_LOAD_OPTIONS
    this.limits = init.limits ?? DEFAULT_LIMITS
    this.breaker = CircuitBreaker.create(this.options.breaker)
    this.concurrency = WriteConcurrency.of(this.breaker, concurrencySettings(this.options, init.pool.size))
  }

  start(spec: LoadSpec): LoadRun {
    checkTradesLimit(spec, this.limits.maxTradesPerLoad)
    this.admit()
    const id = randomUUID()
    const load = new LoadRun({
      id,
      spec,
      sink: this.init.sink,
      pool: this.init.pool,
      log: this.init.log.child({ loadId: id }),
      ...(this.init.metrics ? { metrics: this.init.metrics } : {}),
      options: this.options,
      breaker: this.breaker,
    })
    this.loads.set(id, load)
    this.track(load, load.run())
    return load
  }

  /** Re-runs the incomplete shards of a failed or cancelled load, under the same id. */
  resume(id: string): LoadRun {
    const load = this.get(id)
    const why = load.notResumable()
    if (why) throw new LoadNotResumableError(why)
    this.admit()
    this.track(load, load.resume())
    return load
  }

  get(id: string): LoadRun {
    const load = this.loads.get(id)
    if (!load) throw new LoadNotFoundError(id)
    return load
  }

  list(): LoadRun[] {
    return [...this.loads.values()]
  }

  get runningCount(): number {
    return this.running.size
  }

  get isDraining(): boolean {
    return this.draining
  }

  circuit(): BreakerStats {
    return this.breaker.stats()
  }

  concurrencyStats(): ConcurrencyStats {
    return this.concurrency.stats()
  }

  /** Points in flight over all running loads (for the gauge). */
  pointsInFlight(): number {
    let n = 0
    for (const load of this.running.keys()) n += load.pointsInFlight()
    return n
  }

  cancel(id: string): LoadRun {
    const load = this.get(id)
    if (!load.cancel()) throw new LoadFinishedError(id, load.status)
    return load
  }

  /** Regenerates a finished load from its seed and compares it with the database. */
  async verify(id: string, interval: { text: string; ms: number }): Promise<VerifyReport> {
    const load = this.get(id)
    if (!load.finished) throw new LoadRunningError(id)
    return verifyLoad(load.spec, this.init.sink, this.init.pool, interval)
  }

  /** Takes no new loads from now on (graceful shutdown). */
  drain(): void {
    this.draining = true
  }

  /** Resolves when every running load has finished, or after `ms`; true if they all finished. */
  async waitForRunning(ms: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined
    const timeout = new Promise<false>((r) => (timer = setTimeout(() => r(false), ms)))
    const all = Promise.allSettled([...this.running.values()]).then(() => true as const)
    const done = await Promise.race([all, timeout])
    clearTimeout(timer)
    return done
  }

  /** Cancels everything and waits until every load has its final account. */
  async stopAll(): Promise<void> {
    this.draining = true
    for (const load of this.running.keys()) load.cancel()
    await Promise.allSettled([...this.running.values()])
  }

  private admit(): void {
    if (this.draining) throw new ShuttingDownError()
    if (this.running.size >= this.limits.maxConcurrentLoads) {
      // A hint, not a promise: the soonest ETA among running loads, within [1 s, 10 min].
      const etas = [...this.running.keys()].map((l) => l.rate().etaSeconds).filter((e): e is number => e !== null)
      const soonest = etas.length > 0 ? Math.min(...etas) : 5
      throw new TooManyLoadsError(this.limits.maxConcurrentLoads, Math.min(600, Math.max(1, soonest)))
    }
  }

  private track(load: LoadRun, run: Promise<unknown>): void {
    const p = run.finally(() => {
      this.running.delete(load)
      this.forgetOld()
    })
    this.running.set(load, p)
  }

  private forgetOld(): void {
    const finished = [...this.loads.values()].filter((l) => l.finished)
    for (const l of finished.slice(0, Math.max(0, finished.length - MAX_FINISHED_LOADS))) this.loads.delete(l.id)
  }
}
