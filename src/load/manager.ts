import { randomUUID } from 'node:crypto'
import type { Logger } from 'pino'
import type { LoadSummary } from '../model/summary.js'
import { verifyLoad, type VerifyReport } from '../candles/verify.js'
import { LoadDamagedError, LoadFinishedError, LoadNotFoundError, LoadNotResumableError, LoadRunningError, ShuttingDownError, TooManyLoadsError } from '../errors.js'
import { describeSink } from '../sink/target.js'
import { v3BatchWarning } from '../influx/v3.js'
import { LoadStore } from '../store/loadStore.js'
import { LoadPersistence, type HistoryQuery } from './persistence.js'
import { moreThanDatasetHint } from './overlap.js'
import type { TimelineView } from '../model/timeline.js'
import type { Metrics } from '../metrics/metrics.js'
import type { LoadSpec } from '../model/request.js'
import { CircuitBreaker, type BreakerStats } from '../../shared/breaker.js'
import type { SinkConfig } from '../sink/target.js'
import type { ShardPool } from '../../workers/pool.js'
import { WriteConcurrency, type ConcurrencyStats } from '../../shared/concurrency.js'
import { concurrencySettings, DEFAULT_LOAD_OPTIONS, LoadRun, type LoadOptions } from './run.js'
import { checkTradesLimit, DEFAULT_LIMITS, type LoadLimits } from './limits.js'

/** Finished loads kept in memory (the store keeps every one); the least recent are dropped first. */
const MAX_FINISHED_LOADS = 200
/** Loads the store keeps by default (LOAD_HISTORY): the oldest finished ones are removed beyond it. */
const DEFAULT_LOAD_HISTORY = 1000
/** How often running loads' progress is written to the store: what a crash may lose at most. */
const CHECKPOINT_EVERY_MS = 200

interface ManagerInit {
  pool: ShardPool
  sink: SinkConfig
  log: Logger
  metrics?: Metrics
  options?: LoadOptions
  limits?: LoadLimits
  /** where loads are kept across restarts (default: an in-memory store, gone with the process) */
  store?: LoadStore
  /** loads the store keeps at most (default DEFAULT_LOAD_HISTORY) */
  history?: number
}

/**
 * The coordinator's loads: starts them in the background, finds, lists, cancels and resumes them,
 * and keeps each in the load store as it goes (persistence.ts: a load outlives the process). It
 * owns the sink's circuit breaker, so every load on the sink sees the same state.
 */
export class LoadManager {
  readonly breaker: CircuitBreaker
  readonly concurrency: WriteConcurrency
  readonly store: LoadStore
  /** loads of this process, and stored ones looked at lately */
  private readonly loads = new Map<string, LoadRun>()
  private readonly running = new Map<LoadRun, Promise<unknown>>()
  private readonly options: LoadOptions
  private readonly limits: LoadLimits
  private readonly history: number
  private readonly persistence: LoadPersistence
  private draining = false
  private busy: (() => Error | undefined) | undefined

  constructor(private readonly init: ManagerInit) {
    this.options = init.options ?? DEFAULT_LOAD_OPTIONS
    this.limits = init.limits ?? DEFAULT_LIMITS
    this.history = init.history ?? DEFAULT_LOAD_HISTORY
    this.breaker = CircuitBreaker.create(this.options.breaker)
    this.concurrency = WriteConcurrency.of(this.breaker, concurrencySettings(this.options, init.pool.size))
    this.store = init.store ?? LoadStore.open(':memory:')
    this.persistence = new LoadPersistence(this.store, describeSink(init.sink), init.log, this.history)
    this.persistence.recover(this.newRun)
    this.trim()
    this.persistence.checkpointEvery(CHECKPOINT_EVERY_MS, () => this.running.keys())
  }

  /**
   * Earlier loads in the store whose measurement and range this one's overlap on this coordinator's
   * sink, each as one warning line (overlap.ts): verify of either would count both.
   */
  overlaps(spec: LoadSpec): string[] {
    return this.persistence.overlaps(spec)
  }

  start(spec: LoadSpec): LoadRun {
    checkTradesLimit(spec, this.limits.maxTradesPerLoad)
    this.admit()
    const load = this.newRun(randomUUID(), spec)
    if (this.init.sink.kind === 'influx-v3') {
      const warning = v3BatchWarning(spec)
      if (warning) this.init.log.warn({ loadId: load.id, batchSize: spec.batchSize }, warning)
    }
    this.persistence.insert(load)
    this.loads.set(load.id, load)
    this.track(load, load.run())
    return load
  }

  /** Re-runs the incomplete shards of a failed, cancelled or interrupted load, under the same id. */
  resume(id: string): LoadRun {
    const load = this.get(id)
    const why = load.notResumable()
    if (why) throw new LoadNotResumableError(why)
    this.persistence.checkResumable(id)
    this.admit()
    this.track(load, load.resume())
    this.persistence.save(load)
    return load
  }

  /** A load of this process, or one from the store (a former process's, or forgotten from memory). */
  get(id: string): LoadRun {
    const known = this.loads.get(id)
    if (known) {
      // most recently used last: forgetOld() drops the least recent
      this.loads.delete(id)
      this.loads.set(id, known)
      return known
    }
    const stored = this.store.get(id)
    if (!stored) throw new LoadNotFoundError(id)
    const load = this.persistence.restore(stored, this.newRun)
    this.loads.set(id, load)
    this.forgetOld()
    return load
  }

  /** Where a stored load wrote (secrets masked); this coordinator's sink for others. */
  sinkOf(load: LoadRun): Record<string, string> {
    return this.persistence.sinkOf(load)
  }

  /** Loads in memory: this process's, and stored ones looked at lately. GET /loads reads history(). */
  list(): LoadRun[] {
    return [...this.loads.values()]
  }

  /**
   * A page of the store's history, newest first, each load in brief (live ones as they are now).
   * `before` must name a stored load.
   */
  historyPage(q: HistoryQuery): { loads: LoadSummary[]; more: boolean } {
    return this.persistence.page(q, (id) => this.loads.get(id))
  }

  /** Removes a finished load from the store and memory (DELETE /loads/:id?forget=true). */
  forget(id: string): void {
    let load: LoadRun
    try {
      load = this.get(id)
    } catch (e) {
      // a damaged record is never running here (it cannot be read to run): removing it is the way out
      if (!(e instanceof LoadDamagedError)) throw e
      this.store.forget(id)
      return
    }
    if (!load.finished) throw new LoadRunningError(id, 'forget')
    this.loads.delete(id)
    this.store.forget(id)
  }

  /** the pool, options and metrics loads run with (a capacity search runs with them too) */
  get shardPool(): ShardPool {
    return this.init.pool
  }

  get loadOptions(): LoadOptions {
    return this.options
  }

  get metrics(): Metrics | undefined {
    return this.init.metrics
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

  /**
   * Asks a load to stop. Idempotent: asked again while it stops, or once a cancel has stopped it,
   * the answer is the same load (a client retrying its DELETE after a lost answer must not read a
   * conflict); only a load that ended otherwise (succeeded, failed) is a conflict.
   */
  cancel(id: string): LoadRun {
    const load = this.get(id)
    if (!load.cancel() && load.status !== 'cancelled') throw new LoadFinishedError(id, load.status)
    return load
  }

  /** Regenerates a finished load from its seed and compares it with the database. */
  async verify(id: string, interval: { text: string; ms: number }): Promise<VerifyReport> {
    const load = this.get(id)
    if (!load.finished) throw new LoadRunningError(id)
    this.persistence.checkSameSink(id, 'verify')
    const report = await verifyLoad(load.spec, this.init.sink, this.init.pool, interval)
    if (report.pointsFound <= report.pointsExpected) return report
    // More points than the dataset has: another load (or dataset) wrote into the range; name them.
    return { ...report, hint: moreThanDatasetHint(id, report.pointsFound - report.pointsExpected, this.overlaps(load.spec)) }
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

  /** Stops writing to the store and closes it (after stopAll(): every account is final). */
  close(): void {
    this.persistence.close()
  }

  /** A LoadRun on this coordinator's sink, pool and breaker (a new load, or one from the store). */
  private readonly newRun = (id: string, spec: LoadSpec, createdAt?: Date, timeline?: TimelineView): LoadRun => {
    const load: LoadRun = new LoadRun({
      id,
      spec,
      sink: this.init.sink,
      pool: this.init.pool,
      log: this.init.log.child({ loadId: id }),
      ...(this.init.metrics ? { metrics: this.init.metrics } : {}),
      options: this.options,
      breaker: this.breaker,
      ...(createdAt ? { createdAt } : {}),
      ...(timeline ? { timeline } : {}),
      // A shard handed to a worker is on disk before its first write can be acknowledged: after a
      // crash its lines count in doubt, not unsent.
      onShardsStarting: () => this.persistence.save(load, true),
    })
    return load
  }

  private trim(): void {
    for (const id of this.store.trim(this.history)) {
      const load = this.loads.get(id)
      if (load?.finished) this.loads.delete(id)
    }
  }

  /**
   * Refuses loads while `busy()` names what holds the coordinator (a capacity search: a load would
   * share its pool and sink and skew its steps).
   */
  holdLoadsWhile(busy: () => Error | undefined): void {
    this.busy = busy
  }

  private admit(): void {
    if (this.draining) throw new ShuttingDownError()
    const held = this.busy?.()
    if (held) throw held
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
      this.persistence.save(load)
      try {
        this.trim()
      } catch (err) {
        this.init.log.error({ err, store: this.store.path }, 'cannot trim the load store')
      }
      this.forgetOld()
    })
    this.running.set(load, p)
  }

  private forgetOld(): void {
    const finished = [...this.loads.values()].filter((l) => l.finished && !this.running.has(l))
    for (const l of finished.slice(0, Math.max(0, finished.length - MAX_FINISHED_LOADS))) this.loads.delete(l.id)
  }
}
