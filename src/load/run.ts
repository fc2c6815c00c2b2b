import type { Logger } from 'pino'
import { LoadNotResumableError, toErrorInfo } from '../errors.js'
import type { ErrorInfo } from '../model/errors.js'
import type { Metrics } from '../metrics/metrics.js'
import { describePartition, type Partition } from '../partition/partition.js'
import type { LoadSpec } from '../model/request.js'
import { CircuitBreaker, type BreakerStats } from '../../shared/breaker.js'
import { WriteConcurrency, type ConcurrencyStats } from '../../shared/concurrency.js'
import type { SinkConfig } from '../sink/target.js'
import type { ShardResult } from '../../shared/messages.js'
import { IN_FLIGHT } from '../../shared/control.js'
import type { ShardPool } from '../../workers/pool.js'
import type { Tally } from './account.js'
import { planRun, type LoadRunInit, type RunOptions } from './init.js'
import { dispatchShards } from './dispatch.js'
import { concurrencySettings, DEFAULT_LOAD_OPTIONS, type LoadOptions } from './options.js'
import { LoadMeter, TIMELINE_EVERY_MS } from './meter.js'
import { describeBlocker, resumeBlocker } from './resumable.js'
import type { Account, Attempt, LatencySummary, LoadConcurrency, LoadResult } from '../model/account.js'
import { attemptBase, attemptSince, cutShortConcurrency, endStatus, loadResult } from './outcome.js'
import type { LoadStatus } from '../model/status.js'
import { followSignal, LoadStopper } from './stop.js'
import { StoreFeed } from './storeFeed.js'
import type { Timeline } from './timeline.js'

export { concurrencySettings, DEFAULT_LOAD_OPTIONS, type LoadOptions }

/**
 * One load from plan to final account: its lifecycle (run, cancel, resume, outcome). The main
 * thread only plans, hands shards to the pool (dispatch.ts) and tallies; generation, encoding and
 * writing happen in the workers; what it measures is in meter.ts, what it hands the store in
 * storeFeed.ts. A load that failed or was cancelled can be resumed: only its incomplete shards
 * run again, skipping what the database already acknowledged, and the account ends as if it had
 * never stopped.
 */
export class LoadRun {
  status: LoadStatus = 'queued'
  readonly createdAt: Date
  startedAt: Date | undefined
  finishedAt: Date | undefined
  error: ErrorInfo | undefined
  /** times this load was resumed */
  resumes = 0
  readonly id: string
  readonly spec: LoadSpec
  readonly shardCount: number
  readonly partition: Partition
  readonly breaker: CircuitBreaker
  readonly concurrency: WriteConcurrency
  /** what the load store is fed while it runs */
  readonly feed: StoreFeed
  private readonly sink: SinkConfig
  private readonly pool: ShardPool
  private readonly log: Logger
  private readonly metrics: Metrics | undefined
  private readonly options: LoadOptions
  private readonly tally: Tally
  private readonly stopper = new LoadStopper()
  private readonly meter: LoadMeter
  private result: LoadResult | undefined
  private readonly onShardsStarting: (() => void) | undefined

  constructor(init: LoadRunInit) {
    this.id = init.id
    this.createdAt = init.createdAt ?? new Date()
    this.onShardsStarting = init.onShardsStarting
    this.spec = init.spec
    this.sink = init.sink
    this.pool = init.pool
    this.log = init.log
    this.metrics = init.metrics
    this.options = init.options ?? DEFAULT_LOAD_OPTIONS
    this.breaker = init.breaker ?? CircuitBreaker.create(this.options.breaker)
    this.concurrency = WriteConcurrency.of(this.breaker, concurrencySettings(this.options, this.pool.size))
    const planned = planRun(this.spec, init.partition)
    this.shardCount = planned.shardCount
    this.partition = planned.partition
    this.tally = planned.tally
    this.meter = new LoadMeter(
      {
        written: () => this.account().pointsWritten,
        planned: () => this.tally.pointsPlanned,
        inFlight: () => this.pointsInFlight(),
        breaker: this.breaker,
        concurrency: this.concurrency,
      },
      init.timeline,
    )
    this.feed = new StoreFeed(this.tally, () => this.account(), () => this.breaker.stats().opens)
  }

  /** Each run of this load so far (a resumed one's from its account file too). */
  readonly attempts: Attempt[] = []

  /** the load over time (charts, reports) */
  get timeline(): Timeline {
    return this.meter.timeline
  }

  /** Aborted once the run in progress is told to stop (cancel, a failure); a new one for each run. */
  get signal(): AbortSignal {
    return this.stopper.signal
  }

  /** Takes the attempts an account file recorded, before run(). */
  restoreAttempts(attempts: readonly Attempt[]): void {
    this.attempts.push(...attempts)
  }

  /** After cancel(): do not wait for the writes in flight; they end failed (in doubt) at once. */
  abandonInFlight(): void {
    this.stopper.abandon()
  }

  /** Asks the load to stop: queued shards are dropped, running ones stop after their writes in flight. */
  cancel(): boolean {
    if (this.status !== 'queued' && this.status !== 'running') return false
    this.stopper.stop('cancelled')
    return true
  }

  get finished(): boolean {
    return this.result !== undefined
  }

  account(): Account {
    return this.tally.account(Atomics.load(this.stopper.control, IN_FLIGHT))
  }

  circuit(): BreakerStats {
    return this.breaker.stats()
  }

  /** Points sent by this load's workers and not yet answered. */
  pointsInFlight(): number {
    return Atomics.load(this.stopper.control, IN_FLIGHT)
  }

  writeLatency(): LatencySummary {
    return this.meter.writeLatency()
  }

  concurrencyStats(): ConcurrencyStats {
    return this.concurrency.stats()
  }

  /** The sink's write concurrency as this load sees it: the current limit, and this load's share of degraded time. */
  writeConcurrency(): LoadConcurrency & { limit: number } {
    return this.meter.writeConcurrency()
  }

  /** Per-shard results so far (an account file keeps them). */
  shardResults(): ShardResult[] {
    return this.tally.shardResults()
  }

  /** Takes the shard results of an earlier run of this same load (from an account file). */
  restore(results: readonly ShardResult[]): void {
    if (this.status !== 'queued') throw new Error('restore() before run()')
    this.tally.restore(results)
  }

  /** Current rate (points/s over the last few seconds) and ETA in seconds, while running. */
  rate(nowMs = performance.now()): { pointsPerSecond: number; etaSeconds: number | null } {
    return this.meter.rate(nowMs)
  }

  /** Why this load cannot be resumed, or undefined if it can. */
  notResumable(): string | undefined {
    const blocker = resumeBlocker({ status: this.status, finished: this.finished, sinkKind: this.sink.kind })
    return blocker && describeBlocker(this.id, blocker)
  }

  /** Re-runs the shards that did not complete (`signal`: as for run()). The caller awaits the returned run. */
  resume(opts: RunOptions = {}): Promise<LoadResult> {
    const why = this.notResumable()
    if (why) throw new LoadNotResumableError(why)
    this.resumes++
    this.status = 'queued'
    this.error = undefined
    this.result = undefined
    // Every worker of the last run has finished: what is still counted in flight was lost with a dead
    // thread, and its shard is rerun (its earlier sends are in the shard's doubt ranges, if it reported).
    this.stopper.rearm()
    this.log.info({ shards: this.tally.incomplete().length, resumes: this.resumes }, 'load resumed')
    return this.run(opts)
  }

  /**
   * Runs the load's incomplete shards (all of them the first time). Never rejects: failures are in
   * the result. `signal`, as piscina's: its abort cancels the load, as cancel() does.
   */
  async run(opts: RunOptions = {}): Promise<LoadResult> {
    const unfollow = followSignal(opts.signal, () => void this.cancel())
    try {
      return await this.runShards()
    } finally {
      unfollow()
    }
  }

  private async runShards(): Promise<LoadResult> {
    const t0 = performance.now()
    const base = attemptBase(t0, this.account(), this.breaker.stats().opens)
    this.feed.setBase(base)
    this.meter.begin(t0)
    const sampler = setInterval(() => this.meter.sample(performance.now()), TIMELINE_EVERY_MS)
    sampler.unref()
    this.status = 'running'
    this.startedAt ??= new Date()
    this.metrics?.loadsStarted.inc()
    this.metrics?.loadsRunning.inc()
    const shards = this.tally.incomplete()
    this.log.info(
      { spec: summary(this.spec), shards: this.shardCount, toRun: shards.length, ...(this.partition.count > 1 ? { partition: describePartition(this.partition) } : {}) },
      'load started',
    )
    try {
      await dispatchShards(
        {
          spec: this.spec,
          sink: this.sink,
          shardCount: this.shardCount,
          partition: this.partition,
          pool: this.pool,
          options: this.options,
          breaker: this.breaker,
          concurrency: this.concurrency,
          tally: this.tally,
          stopper: this.stopper,
          log: this.log,
          onPaced: (rate, points, now) => this.meter.paced(rate, points, now),
          onDelta: (d) => {
            this.meter.record(d)
            this.metrics?.apply(d)
          },
          onFailure: (err) => this.fail(err),
          onShardsStarting: this.onShardsStarting,
        },
        shards,
      )
    } catch (e) {
      this.fail(toErrorInfo(e))
    }
    clearInterval(sampler)
    this.meter.sample(performance.now(), true) // the last, shorter interval
    const elapsed = performance.now() - t0
    const account = this.account()
    const { writeConcurrency, degradedThisRun, pace } = this.meter.end(account.pointsWritten - base.written, elapsed)
    this.attempts.push(attemptSince(base, elapsed, { account, opens: this.breaker.stats().opens }, degradedThisRun, pace))
    this.status = endStatus(this.error, this.stopper.outcome())
    this.finishedAt = new Date()
    this.result = this.outcome(account, writeConcurrency)
    this.feed.setBase(undefined)
    this.metrics?.loadsRunning.dec()
    this.metrics?.loadsFinished.inc({ status: this.status })
    this.log[this.status === 'failed' ? 'error' : 'info']({ result: this.result, circuit: this.circuit() }, `load ${this.status}`)
    return this.result
  }

  getResult(): LoadResult | undefined {
    return this.result
  }

  /** The result of this load as it stands: its status and account, over every attempt so far. */
  private outcome(account: Account, writeConcurrency: LoadConcurrency): LoadResult {
    return loadResult({ status: this.status, account, attempts: this.attempts, writeLatencyMs: this.meter.writeLatency(), writeConcurrency, error: this.error })
  }

  /**
   * A load read back from the store, before run(): its timestamps, resumes and, if it was not
   * running, its outcome. A load the store shows as running was cut short by the end of the
   * process that ran it: it becomes `interrupted`, with the run recorded up to then as an attempt.
   */
  restoreOutcome(o: { status: LoadStatus; startedAt?: string | undefined; finishedAt?: string | undefined; resumes: number; error?: ErrorInfo | undefined; result?: LoadResult | undefined; cutShort?: Attempt | undefined; interruption?: ErrorInfo }): void {
    this.resumes = o.resumes
    if (o.startedAt) this.startedAt = new Date(o.startedAt)
    if (o.status === 'queued' || o.status === 'running' || o.status === 'interrupted') {
      if (o.cutShort) this.attempts.push(o.cutShort)
      this.status = 'interrupted'
      this.error = o.status === 'interrupted' ? o.error : o.interruption
      this.finishedAt = o.finishedAt ? new Date(o.finishedAt) : new Date()
      this.result = this.outcome(this.account(), cutShortConcurrency(this.concurrency.settings.max, this.attempts))
      return
    }
    this.status = o.status
    this.error = o.error
    if (o.finishedAt) this.finishedAt = new Date(o.finishedAt)
    this.result = o.result
  }

  /** The load failed: the first error is its error; the rest of it is told to stop. */
  private fail(err: ErrorInfo): void {
    this.error ??= err
    this.stopper.stop('failed')
  }
}

function summary(spec: LoadSpec): Record<string, unknown> {
  const { symbols, ...rest } = spec
  return { ...rest, symbols: symbols.length > 10 ? `${symbols.length} symbols` : symbols }
}
