import { randomUUID } from 'node:crypto'
import type { Logger } from 'pino'
import { loadSummary } from '../api/summary.js'
import type { LoadSummary } from '../api/schemas.js'
import { verifyLoad, type VerifyReport } from '../candles/verify.js'
import { InvalidRequestError, LoadDamagedError, LoadFinishedError, LoadNotFoundError, LoadNotResumableError, LoadRunningError, OtherSinkError, ShuttingDownError, StoreError, TooManyLoadsError } from '../errors.js'
import { DATASET_FORMAT } from '../market/dataset.js'
import { planLoad } from '../plan/plan.js'
import { describeSink } from '../sink/target.js'
import { v3BatchWarning } from '../influx/v3.js'
import { overlapWarnings, type EarlierLoad } from './overlap.js'
import { describeBlocker, resumeBlocker } from './resumable.js'
import { LoadStore, type LoadRecord } from '../store/loadStore.js'
import { interruptedShards } from '../store/recover.js'
import type { TimelineView } from './timeline.js'
import type { Metrics } from '../metrics/metrics.js'
import type { LoadSpec } from '../request/schema.js'
import { CircuitBreaker, type BreakerStats } from '../../shared/breaker.js'
import type { SinkConfig } from '../sink/target.js'
import type { ShardPool } from '../../workers/pool.js'
import { WriteConcurrency, type ConcurrencyStats } from '../../shared/concurrency.js'
import { concurrencySettings, DEFAULT_LOAD_OPTIONS, LoadRun, type LoadOptions } from './run.js'
import { checkTradesLimit, DEFAULT_LIMITS, type LoadLimits } from './limits.js'

/** Finished loads kept in memory (the store keeps every one); the least recent are dropped first. */
export const MAX_FINISHED_LOADS = 200
/** Loads the store keeps by default (LOAD_HISTORY): the oldest finished ones are removed beyond it. */
export const DEFAULT_LOAD_HISTORY = 1000
/** How often running loads' progress is written to the store: what a crash may lose at most. */
export const CHECKPOINT_EVERY_MS = 200
/** A running load's timeline is written this often (and when it ends): a few kB, not every checkpoint. */
const TIMELINE_EVERY_MS = 5000

export interface ManagerInit {
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

/** A page of GET /loads. */
export interface HistoryQuery {
  limit: number
  before?: string | undefined
  status?: string | undefined
}

/**
 * The coordinator's loads: starts them in the background, finds, lists, cancels and resumes them,
 * and keeps each in the load store as it goes (a load outlives the process: see recover()). It
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
  private readonly sinkView: Record<string, string>
  private readonly checkpoints: NodeJS.Timeout
  private draining = false
  private busy: (() => Error | undefined) | undefined

  constructor(private readonly init: ManagerInit) {
    this.options = init.options ?? DEFAULT_LOAD_OPTIONS
    this.limits = init.limits ?? DEFAULT_LIMITS
    this.history = init.history ?? DEFAULT_LOAD_HISTORY
    this.breaker = CircuitBreaker.create(this.options.breaker)
    this.concurrency = WriteConcurrency.of(this.breaker, concurrencySettings(this.options, init.pool.size))
    this.store = init.store ?? LoadStore.open(':memory:')
    this.sinkView = describeSink(init.sink)
    this.recover()
    this.trim()
    this.checkpoints = setInterval(() => this.checkpoint(), CHECKPOINT_EVERY_MS)
    this.checkpoints.unref()
  }

  /**
   * Earlier loads in the store whose measurement and range this one's overlap on this coordinator's
   * sink, each as one warning line (overlap.ts): verify of either would count both.
   */
  overlaps(spec: LoadSpec): string[] {
    let listed: ReturnType<LoadStore['page']>
    try {
      listed = this.store.page({ limit: this.history })
    } catch {
      return [] // a store that cannot be read: start() says so, with its own code
    }
    const candidates = (listed ?? []).filter(
      (l) => !l.summary.damaged && l.summary.request.measurement === spec.measurement && Date.parse(l.summary.request.from) < spec.toMs && spec.fromMs < Date.parse(l.summary.request.to),
    )
    const earlier: EarlierLoad[] = []
    for (const c of candidates.slice(0, 20)) {
      let sink: Record<string, string> | undefined
      try {
        sink = this.store.get(c.id)?.sink
      } catch {
        continue // a damaged row: listed as such elsewhere
      }
      if (sink) earlier.push({ id: c.id, status: c.summary.status, seed: c.summary.seed, from: c.summary.request.from, to: c.summary.request.to, measurement: c.summary.request.measurement, sink })
    }
    return overlapWarnings(spec, this.sinkView, earlier)
  }

  start(spec: LoadSpec): LoadRun {
    checkTradesLimit(spec, this.limits.maxTradesPerLoad)
    this.admit()
    const load = this.newRun(randomUUID(), spec)
    if (this.init.sink.kind === 'influx-v3') {
      const warning = v3BatchWarning(spec)
      if (warning) this.init.log.warn({ loadId: load.id, batchSize: spec.batchSize }, warning)
    }
    // recorded before it starts: a store that cannot be written refuses the load, never half-starts it
    try {
      this.store.insert(this.record(load))
    } catch (e) {
      throw new StoreError(this.store.path, `cannot be written (${(e as Error).message}): the load was not started`, false)
    }
    this.loads.set(load.id, load)
    this.track(load, load.run())
    return load
  }

  /** Re-runs the incomplete shards of a failed, cancelled or interrupted load, under the same id. */
  resume(id: string): LoadRun {
    const load = this.get(id)
    const why = load.notResumable()
    if (why) throw new LoadNotResumableError(why)
    const stored = this.store.get(id)
    if (stored) {
      const blocker = resumeBlocker({ dataset: { format: stored.dataset, symbols: stored.spec.symbols.length } })
      if (blocker) throw new LoadNotResumableError(describeBlocker(id, blocker))
      this.sameSink(stored, 'resume')
    }
    this.admit()
    this.track(load, load.resume())
    this.save(load)
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
    const load = this.fromRecord(stored)
    this.loads.set(id, load)
    this.forgetOld()
    return load
  }

  /** Where a stored load wrote (secrets masked); this coordinator's sink for others. */
  sinkOf(load: LoadRun): Record<string, string> {
    return this.sinkViews.get(load) ?? this.sinkView
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
    const rows = this.store.page({ ...q, limit: q.limit + 1 })
    if (!rows) throw new InvalidRequestError('querystring.before', `no load with id ${JSON.stringify(q.before)} (it may have been forgotten: start from the first page)`)
    const page = rows.slice(0, q.limit).map((r) => {
      const live = this.loads.get(r.id)
      return live ? loadSummary(live) : r.summary
    })
    return { loads: page, more: rows.length > q.limit }
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
    const stored = this.store.get(id)
    if (stored) this.sameSink(stored, 'verify')
    const report = await verifyLoad(load.spec, this.init.sink, this.init.pool, interval)
    if (report.pointsFound <= report.pointsExpected) return report
    // More points than the dataset has: another load (or dataset) wrote into the range; name them.
    const others = this.overlaps(load.spec).filter((w) => !w.startsWith(`load ${id} `))
    const more = report.pointsFound - report.pointsExpected
    return {
      ...report,
      hint: `${more.toLocaleString('en-US')} point(s) more than this dataset has: another load or dataset wrote into this measurement and range${others.length ? `; the store names ${others.map((w) => w.slice(0, w.indexOf(' wrote'))).join(', ')}` : ''}`,
    }
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
    clearInterval(this.checkpoints)
    this.checkpoint()
    this.store.close()
  }

  /** Writes every running load's progress since the last time: one small transaction per load. */
  checkpoint(): void {
    for (const load of this.running.keys()) this.save(load)
  }

  private lastStoreError = 0

  /**
   * Records the load and what changed of its shards. A store that cannot be written (a full disk)
   * does not stop the load: its account stays exact in memory and in the API; the log says, at
   * most every 10 s, that a crash now would lose more than a moment. What failed is written again
   * next time (the changed shards are taken only once written).
   */
  private save(load: LoadRun, shardsOnly = false): void {
    const rows = load.feed.takeChangedShards()
    try {
      if (shardsOnly) this.store.saveShards(load.id, rows)
      else this.store.save(this.record(load), rows)
    } catch (err) {
      load.feed.keepChangedShards(rows)
      const now = Date.now()
      if (now - this.lastStoreError > 10_000) {
        this.lastStoreError = now
        this.init.log.error({ err, loadId: load.id, store: this.store.path }, 'cannot write the load store: loads go on, but a crash now would lose their progress since the last write')
      }
    }
  }

  private readonly timelineSaved = new WeakMap<LoadRun, number>()

  private record(load: LoadRun): LoadRecord {
    const result = load.getResult()
    const now = Date.now()
    const withTimeline = result !== undefined || now - (this.timelineSaved.get(load) ?? 0) >= TIMELINE_EVERY_MS
    if (withTimeline) this.timelineSaved.set(load, now)
    return {
      id: load.id,
      status: load.status,
      spec: load.spec,
      dataset: DATASET_FORMAT,
      sink: this.sinkOf(load),
      account: load.account(),
      error: load.error,
      result,
      attempts: [...load.attempts],
      currentAttempt: result ? undefined : load.feed.attemptSoFar(),
      summary: loadSummary(load),
      timeline: withTimeline ? load.timeline.view() : undefined,
      resumes: load.resumes,
      createdAt: load.createdAt.toISOString(),
      startedAt: load.startedAt?.toISOString(),
      finishedAt: load.finishedAt?.toISOString(),
      updatedAt: new Date().toISOString(),
    }
  }

  private readonly sinkViews = new WeakMap<LoadRun, Record<string, string>>()

  private newRun(id: string, spec: LoadSpec, createdAt?: Date, timeline?: TimelineView): LoadRun {
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
      onShardsStarting: () => this.save(load, true),
    })
    return load
  }

  /** A stored load as a LoadRun: its plan, shard results and outcome (interrupted if it was running). */
  private fromRecord(rec: LoadRecord): LoadRun {
    const load = this.newRun(rec.id, rec.spec, new Date(rec.createdAt), rec.timeline)
    if (JSON.stringify(rec.sink) !== JSON.stringify(this.sinkView)) this.sinkViews.set(load, rec.sink)
    const rows = this.store.shards(rec.id)
    const plan = rows.some((r) => r.status === 'running') ? planLoad(rec.spec) : undefined
    const planned = (shard: number) => {
      let n = 0
      for (let j = 0; j < rec.spec.symbols.length; j++) n += plan!.seriesCount(j, shard).count
      return n
    }
    load.restore(interruptedShards(rows, planned))
    load.restoreAttempts(rec.attempts)
    load.restoreOutcome({
      status: rec.status,
      startedAt: rec.startedAt,
      finishedAt: rec.status === 'running' || rec.status === 'queued' ? rec.updatedAt : rec.finishedAt,
      resumes: rec.resumes,
      error: rec.error,
      result: rec.result,
      cutShort: rec.currentAttempt,
      interruption: {
        code: 'OHLCV_INTERRUPTED',
        message: `the coordinator stopped while this load ran (last recorded ${rec.updatedAt}): the account is as recorded then, and the database may hold more; POST /loads/${rec.id}/resume completes it`,
      },
    })
    return load
  }

  /**
   * Loads a former process left running or queued become `interrupted`, with the account as last
   * recorded, ready to resume.
   */
  private recover(): void {
    for (const id of this.store.unfinished()) {
      let rec: LoadRecord | undefined
      let load: LoadRun
      try {
        rec = this.store.get(id)
        if (!rec) continue
        load = this.fromRecord(rec)
      } catch (err) {
        // One damaged record must not keep the coordinator from starting: it stays as stored, listed as damaged.
        if (!(err instanceof LoadDamagedError)) throw err
        this.init.log.error({ loadId: id, err }, err.message)
        continue
      }
      this.store.save(this.record(load), load.feed.takeChangedShards())
      this.init.log.warn({ loadId: rec.id, account: load.account(), lastRecorded: rec.updatedAt }, 'load interrupted: the coordinator stopped while it ran; POST /loads/:id/resume completes it')
    }
  }

  private trim(): void {
    for (const id of this.store.trim(this.history)) {
      const load = this.loads.get(id)
      if (load?.finished) this.loads.delete(id)
    }
  }

  private sameSink(rec: LoadRecord, what: string): void {
    if (JSON.stringify(rec.sink) !== JSON.stringify(this.sinkView)) throw new OtherSinkError(rec.id, what, rec.sink, this.sinkView)
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
      this.save(load)
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
