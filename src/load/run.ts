import type { Logger } from 'pino'
import { InvalidRequestError, LoadNotResumableError, toErrorInfo, type ErrorCode, type ErrorInfo } from '../errors.js'
import { LatencyRecorder, type LatencySummary } from '../metrics/latency.js'
import type { Metrics } from '../metrics/metrics.js'
import { describePartition, owns, partitionTrades, WHOLE, type Partition } from '../partition/partition.js'
import { planLoad } from '../plan/plan.js'
import type { LoadSpec } from '../request/schema.js'
import { CircuitBreaker, DEFAULT_BREAKER, type BreakerSettings, type BreakerStats } from '../../shared/breaker.js'
import { DEFAULT_DECREASE_EVERY_MS, WriteConcurrency, type ConcurrencySettings, type ConcurrencyStats } from '../../shared/concurrency.js'
import { prepareSink } from '../sink/prepare.js'
import { DEFAULT_RETRY, type RetryPolicy } from '../../shared/retryPolicy.js'
import type { SinkConfig } from '../sink/target.js'
import { toShardSpec, type ProgressDelta, type ShardResult } from '../../shared/messages.js'
import { IN_FLIGHT } from '../../shared/control.js'
import { TASKS_PER_WORKER, type ShardPool } from '../../workers/pool.js'
import { Tally } from './account.js'
import { runBounded } from './bounded.js'
import { Pacer } from '../../shared/pacer.js'
import { describeBlocker, resumeBlocker } from './resumable.js'
import { LoadStopper } from './stop.js'
import { PaceWindows } from './pace.js'
import type { Account, Attempt } from './result.js'
import type { ShardRow } from '../store/loadStore.js'
import { Timeline, type TimelineView } from './timeline.js'

/** `interrupted`: the coordinator stopped (crashed, was killed) while the load ran; it can be resumed. */
export type LoadStatus = 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled' | 'interrupted'

export interface LoadOptions {
  /** batches each worker may have in flight (default 2: one on the wire, one being acknowledged) */
  maxInFlight: number
  retry: RetryPolicy
  breaker: BreakerSettings
  /**
   * lower the writes in flight of all workers together while the server signals overload, raise
   * them again while it keeps up (default true; false: always pool size x maxInFlight)
   */
  adaptiveConcurrency?: boolean
}

export const DEFAULT_LOAD_OPTIONS: LoadOptions = { maxInFlight: 2, retry: DEFAULT_RETRY, breaker: DEFAULT_BREAKER, adaptiveConcurrency: true }

/** The sink's write concurrency settings for loads run on `pool` with `options`. */
export function concurrencySettings(options: LoadOptions, poolSize: number): ConcurrencySettings {
  return { max: poolSize * options.maxInFlight, adaptive: options.adaptiveConcurrency ?? true, decreaseEveryMs: DEFAULT_DECREASE_EVERY_MS }
}

export interface LoadResult extends Account {
  status: LoadStatus
  /** over every attempt (a resumed load's earlier ones too) */
  durationMs: number
  /** points written over every attempt / durationMs */
  pointsPerSecond: number
  /** each run of the load, the last one last */
  attempts: Attempt[]
  /** batch write latency over the whole load, in milliseconds (HDR histogram) */
  writeLatencyMs: LatencySummary
  /** the sink's write concurrency over this load (all its attempts): how long it ran degraded */
  writeConcurrency: LoadConcurrency
  error?: ErrorInfo
}

export interface LoadRunInit {
  id: string
  spec: LoadSpec
  sink: SinkConfig
  pool: ShardPool
  log: Logger
  metrics?: Metrics
  options?: LoadOptions
  /** the sink's breaker when several loads share the sink (the coordinator); else one of its own */
  breaker?: CircuitBreaker
  /** run only this partition's shards (scale-out); default the whole load */
  partition?: Partition
  /** when the load was first posted (a load restored from the store keeps its own) */
  createdAt?: Date
  /** its timeline so far (a load restored from the store) */
  timeline?: TimelineView
  /**
   * called when shards are about to be handed to the pool, after the tally knows them (the load
   * store records them at once, before any of their writes can be acknowledged)
   */
  onShardsStarting?: () => void
}

export interface RunOptions {
  /** aborting it cancels the load (as cancel() does): queued shards are dropped, running ones stop after their writes in flight */
  signal?: AbortSignal | undefined
}

export interface LoadConcurrency {
  /** requests allowed on the wire when the server keeps up */
  max: number
  /** the lowest the limit went while this load ran */
  lowest: number
  /** ms this load ran with the limit below max (the server signalled overload) */
  degradedMs: number
}

/** Window over which "current rate" is measured. */
const RATE_WINDOW_MS = 5000
/** A timeline sample this often while the load runs. */
export const TIMELINE_EVERY_MS = 1000
const CIRCUIT_LEVEL = { closed: 0, 'half-open': 1, open: 2 } as const

/**
 * One load from plan to final account. The main thread only plans, hands shards to the pool and
 * tallies; generation, encoding and writing happen in the workers. A load that failed or was
 * cancelled can be resumed: only its incomplete shards run again, skipping what the database
 * already acknowledged, and the account ends as if it had never stopped.
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
  private readonly sink: SinkConfig
  private readonly pool: ShardPool
  private readonly log: Logger
  private readonly metrics: Metrics | undefined
  private readonly options: LoadOptions
  private readonly tally: Tally
  private readonly stopper = new LoadStopper()
  private readonly latency = new LatencyRecorder()
  /** the load over time (charts, reports) */
  readonly timeline: Timeline
  /** what happened since the last timeline sample */
  private readonly tick = { latency: new LatencyRecorder(), batches: 0, retries: 0, errorsRetryable: 0, errorsPermanent: 0, splits: 0 }
  private sampler: NodeJS.Timeout | undefined
  private lastSample = { at: 0, written: 0, t: 0 }
  private samples: { t: number; written: number }[] = []
  private result: LoadResult | undefined
  /** degraded time of earlier attempts, and the sink's degraded-time reading when this one began */
  private degradedMs = 0
  private degradedAtStart = 0
  private lowestLimit: number
  private lowestAtStart = 0
  /** where the run in progress began: what attemptSoFar() measures from */
  private attemptBase: { t0: number; startedAt: string; written: number; retries: number; opens: number } | undefined
  /** this run's pace, when the load is paced */
  private pace: PaceWindows | undefined
  private readonly onShardsStarting: (() => void) | undefined

  constructor(init: LoadRunInit) {
    this.id = init.id
    this.createdAt = init.createdAt ?? new Date()
    this.onShardsStarting = init.onShardsStarting
    this.timeline = new Timeline(init.timeline)
    this.spec = init.spec
    this.sink = init.sink
    this.pool = init.pool
    this.log = init.log
    this.metrics = init.metrics
    this.options = init.options ?? DEFAULT_LOAD_OPTIONS
    this.breaker = init.breaker ?? CircuitBreaker.create(this.options.breaker)
    this.concurrency = WriteConcurrency.of(this.breaker, concurrencySettings(this.options, this.pool.size))
    this.lowestLimit = this.concurrency.stats().limit
    const plan = planLoad(this.spec)
    this.shardCount = plan.shardCount
    this.partition = init.partition ?? WHOLE
    this.tally = new Tally(partitionTrades(plan, this.partition), this.shardCount, this.partition)
  }

  /** Each run of this load so far (a resumed one's from its account file too). */
  readonly attempts: Attempt[] = []

  /** Takes the attempts an account file recorded, before run(). */
  restoreAttempts(attempts: readonly Attempt[]): void {
    this.attempts.push(...attempts)
  }

  /** Aborted once the run in progress is told to stop (cancel, a failure); a new one for each run. */
  get signal(): AbortSignal {
    return this.stopper.signal
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
    return this.latency.summary()
  }

  concurrencyStats(): ConcurrencyStats {
    return this.concurrency.stats()
  }

  /** The sink's write concurrency as this load sees it: the current limit, and this load's share of degraded time. */
  writeConcurrency(): LoadConcurrency & { limit: number } {
    const s = this.concurrency.stats()
    if (s.limit < this.lowestLimit) this.lowestLimit = s.limit
    // The sink's all-time lowest, if it fell while this load ran: catches dips between samples.
    if (this.status === 'running' && s.lowest < this.lowestAtStart && s.lowest < this.lowestLimit) this.lowestLimit = s.lowest
    const running = this.status === 'running' ? s.degradedMs - this.degradedAtStart : 0
    return { limit: s.limit, max: s.max, lowest: this.lowestLimit, degradedMs: this.degradedMs + running }
  }

  /** Per-shard results so far (an account file keeps them). */
  shardResults(): ShardResult[] {
    return this.tally.shardResults()
  }

  /** Takes the shard results of an earlier run of this same load (from an account file). */
  restore(results: readonly ShardResult[]): void {
    if (this.status !== 'queued') throw new Error('restore() before run()')
    for (const r of results) {
      const last = r.acked[r.acked.length - 1]
      if (r.shard >= this.shardCount || !owns(this.partition, r.shard) || (last !== undefined && last[1] > r.planned)) {
        throw new InvalidRequestError('resume-from', `shard ${r.shard} does not belong to this load's plan of ${this.shardCount} shards (partition ${describePartition(this.partition)})`)
      }
      this.tally.applyResult(r)
    }
  }

  /** Current rate (points/s over the last few seconds) and ETA in seconds, while running. */
  rate(nowMs = performance.now()): { pointsPerSecond: number; etaSeconds: number | null } {
    const written = this.account().pointsWritten
    this.samples.push({ t: nowMs, written })
    while (this.samples.length > 2 && nowMs - this.samples[0]!.t > RATE_WINDOW_MS) this.samples.shift()
    const first = this.samples[0]!
    const dt = (nowMs - first.t) / 1000
    const pps = dt > 0 ? (written - first.written) / dt : 0
    const remaining = this.tally.pointsPlanned - written
    return { pointsPerSecond: Math.round(pps), etaSeconds: pps > 0 ? Math.ceil(remaining / pps) : null }
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
    this.samples = []
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
    const unfollow = this.follow(opts.signal)
    try {
      return await this.runShards()
    } finally {
      unfollow()
    }
  }

  /** Cancels the load when `signal` aborts (at once if it has); returns what stops following it. */
  private follow(signal: AbortSignal | undefined): () => void {
    if (!signal) return () => {}
    const cancel = () => void this.cancel()
    if (signal.aborted) cancel()
    else signal.addEventListener('abort', cancel, { once: true })
    return () => signal.removeEventListener('abort', cancel)
  }

  private async runShards(): Promise<LoadResult> {
    const t0 = performance.now()
    const startedAt = new Date().toISOString()
    const atFirst = this.account()
    const before = { written: atFirst.pointsWritten, retries: atFirst.retries, opens: this.breaker.stats().opens }
    this.attemptBase = { t0, startedAt, ...before }
    const last = this.timeline.view().samples.at(-1)
    this.lastSample = { at: t0, written: atFirst.pointsWritten, t: last?.t ?? 0 }
    this.sampler = setInterval(() => this.sample(), TIMELINE_EVERY_MS)
    this.sampler.unref()
    const atStart = this.concurrency.stats()
    this.degradedAtStart = atStart.degradedMs
    this.lowestAtStart = atStart.lowest
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
      await this.execute(shards)
    } catch (e) {
      this.fail(toErrorInfo(e))
    }
    clearInterval(this.sampler)
    this.sample(true) // the last, shorter interval
    const elapsed = performance.now() - t0
    const degradedBefore = this.degradedMs
    const { limit: _limit, ...writeConcurrency } = this.writeConcurrency()
    writeConcurrency.degradedMs = Math.round(writeConcurrency.degradedMs)
    this.degradedMs = writeConcurrency.degradedMs
    const account = this.account()
    const pointsWritten = account.pointsWritten - before.written
    this.attempts.push({
      startedAt,
      durationMs: Math.round(elapsed),
      pointsWritten,
      retries: account.retries - before.retries,
      circuitOpens: this.breaker.stats().opens - before.opens,
      degradedMs: Math.max(0, writeConcurrency.degradedMs - degradedBefore),
      ...(this.pace && pointsWritten > 0 ? { pace: this.pace.kept(pointsWritten, elapsed, this.latency.summary().p50) } : {}),
    })
    this.pace = undefined
    const stop = this.stopper.outcome()
    this.status = this.error || stop === 'failed' ? 'failed' : stop === 'cancelled' ? 'cancelled' : 'succeeded'
    this.finishedAt = new Date()
    this.result = this.outcome(account, writeConcurrency)
    this.attemptBase = undefined
    this.metrics?.loadsRunning.dec()
    this.metrics?.loadsFinished.inc({ status: this.status })
    this.log[this.status === 'failed' ? 'error' : 'info']({ result: this.result, circuit: this.circuit() }, `load ${this.status}`)
    return this.result
  }

  getResult(): LoadResult | undefined {
    return this.result
  }

  /** Closes the interval since the last sample into one timeline sample (`tail`: the run's last one). */
  private sample(tail = false): void {
    const now = performance.now()
    const dtMs = now - this.lastSample.at
    if (dtMs <= 0) return
    const written = this.account().pointsWritten
    const k = this.tick
    const lat = k.latency.summary()
    const t = Math.round((this.lastSample.t + dtMs / 1000) * 1000) / 1000
    const add = tail && dtMs < TIMELINE_EVERY_MS / 2 ? 'addTail' : 'add'
    this.timeline[add]({
      t,
      dt: Math.round(dtMs) / 1000,
      written,
      pps: Math.round(((written - this.lastSample.written) * 1000) / dtMs),
      p50: lat.count > 0 ? lat.p50 : null,
      p90: lat.count > 0 ? lat.p90 : null,
      p99: lat.count > 0 ? lat.p99 : null,
      batches: k.batches,
      retries: k.retries,
      errorsRetryable: k.errorsRetryable,
      errorsPermanent: k.errorsPermanent,
      splits: k.splits,
      inFlight: this.pointsInFlight(),
      circuit: CIRCUIT_LEVEL[this.breaker.stats().state] ?? 0,
      limit: this.concurrency.stats().limit,
    })
    this.lastSample = { at: now, written, t }
    k.latency.reset()
    k.batches = k.retries = k.errorsRetryable = k.errorsPermanent = k.splits = 0
  }

  /** The result of this load as it stands: its status and account, over every attempt so far. */
  private outcome(account: Account, writeConcurrency: LoadConcurrency): LoadResult {
    // over every attempt, the earlier runs of a load resumed from its account file or store included
    const durationMs = this.attempts.reduce((t, a) => t + a.durationMs, 0)
    return {
      status: this.status,
      ...account,
      durationMs,
      pointsPerSecond: durationMs > 0 ? Math.round(account.pointsWritten / (durationMs / 1000)) : 0,
      attempts: [...this.attempts],
      writeLatencyMs: this.latency.summary(),
      writeConcurrency,
      ...(this.error ? { error: this.error } : {}),
    }
  }

  /** The run in progress so far, as an attempt (what the load store keeps in case of a crash). */
  attemptSoFar(): Attempt | undefined {
    const b = this.attemptBase
    if (!b) return undefined
    const account = this.account()
    return {
      startedAt: b.startedAt,
      durationMs: Math.round(performance.now() - b.t0),
      pointsWritten: account.pointsWritten - b.written,
      retries: account.retries - b.retries,
      circuitOpens: this.breaker.stats().opens - b.opens,
      degradedMs: 0,
    }
  }

  /** Per-shard progress since the last call, for the load store (see Tally.takeChanged). */
  takeChangedShards(): ShardRow[] {
    return this.tally.takeChanged()
  }

  /** Marks rows taken by takeChangedShards() as changed again (they could not be written). */
  keepChangedShards(rows: readonly ShardRow[]): void {
    this.tally.markChanged(rows.map((r) => r.shard))
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
      const max = this.concurrency.settings.max
      this.result = this.outcome(this.account(), { max, lowest: max, degradedMs: this.attempts.reduce((t, a) => t + a.degradedMs, 0) })
      return
    }
    this.status = o.status
    this.error = o.error
    if (o.finishedAt) this.finishedAt = new Date(o.finishedAt)
    this.result = o.result
  }

  private fail(err: ErrorInfo): void {
    this.error ??= err
    this.stopper.stop('failed')
  }

  private async execute(shards: number[]): Promise<void> {
    // Nothing to run: an InfluxDB is left alone, but a file sink still makes its (empty) output.
    if (shards.length === 0 && this.sink.kind !== 'file') return
    const prepared = await prepareSink(this.sink, this.shardCount, (shard) => owns(this.partition, shard))
    const shardSpec = toShardSpec(this.spec)
    const breaker = { buffer: this.breaker.buffer, settings: this.breaker.settings }
    const pacer = this.spec.ratePerSecond !== undefined ? Pacer.create(this.spec.ratePerSecond) : undefined
    const pace = pacer ? { buffer: pacer.buffer, ratePerSecond: pacer.ratePerSecond } : undefined
    if (pacer) {
      const account = this.account()
      this.pace = new PaceWindows(pacer.ratePerSecond, account.pointsPlanned - account.pointsWritten, performance.now())
    }
    // Shards are marked started a window ahead (what the pool holds at once): one store write per
    // window, not per shard (a write per shard cost ~1.7% of the null sink's points/s on 2 cores).
    // After a crash a marked shard that never ran counts in doubt, never the other way round.
    const window = this.pool.size * TASKS_PER_WORKER
    let marked = 0
    let handedOut = 0
    const task = (i: number): Promise<void> => {
      const shard = shards[i]!
      const before = this.tally.result(shard)
      handedOut = i + 1
      if (i >= marked) {
        marked = Math.min(shards.length, i + window)
        for (let k = i; k < marked; k++) this.tally.started(shards[k]!)
        this.onShardsStarting?.()
      }
      return this.pool
        .run(
          {
            shard,
            shardCount: this.shardCount,
            spec: shardSpec,
            sink: prepared.targetFor(shard),
            maxInFlight: this.options.maxInFlight,
            retry: this.options.retry,
            control: this.stopper.control,
            breaker,
            concurrency: this.concurrency.settings,
            ...(pace ? { pace } : {}),
            ...(before ? { skip: before.acked, ...(before.doubt?.length ? { doubt: before.doubt } : {}) } : {}),
            ...(this.debug ? { progressEveryMs: 0 } : {}),
          },
          (d) => this.progress(d),
        )
        .then(
          (r) => this.shardFinished(r, before),
          (e: unknown) => this.fail(toErrorInfo(e)),
        )
        .then(() => prepared.shardDone(shard))
        .catch((e: unknown) => this.fail(toErrorInfo(e)))
    }
    try {
      await runBounded(shards.length, window, task, () => this.stopper.stopped())
    } finally {
      // marked, never handed out (the load stopped first): back to what they were
      for (let k = handedOut; k < marked; k++) this.tally.unstart(shards[k]!)
      await prepared.finish()
    }
  }

  private progress(d: ProgressDelta): void {
    // Same turn of the event loop: the points move from in doubt (in flight) to written or failed at once.
    Atomics.sub(this.stopper.control, IN_FLIGHT, d.written + d.failed)
    this.tally.applyDelta(d)
    if (d.retries > 0 || d.batches > 0) this.writeConcurrency() // samples the limit: its lowest while this load ran
    this.metrics?.apply(d)
    const now = this.pace ? performance.now() : 0
    for (const s of d.latencies) {
      this.latency.record(s)
      this.tick.latency.record(s)
      this.pace?.record(s, now)
    }
    const k = this.tick
    k.batches += d.batches
    k.retries += d.retries
    k.splits += d.splits
    for (const e of d.errors) {
      if (e.kind === 'retryable') k.errorsRetryable++
      else k.errorsPermanent++
    }
    // Per-batch lines only at debug: a load writes thousands of batches.
    if (this.debug && d.batches > 0) {
      this.log.debug({ shard: d.shard, points: d.written, bytes: d.bytes, retries: d.retries, latencyMs: (d.latencies[0] ?? 0) * 1000 }, 'batch written')
    }
  }

  private get debug(): boolean {
    return this.log.isLevelEnabled('debug')
  }

  private shardFinished(r: ShardResult, before: ShardResult | undefined): void {
    // Work done by earlier runs of a resumed shard stays in the totals.
    if (before) {
      r.bytes += before.bytes
      r.batches += before.batches
      r.retries += before.retries
      r.splits += before.splits
    }
    this.tally.applyResult(r)
    if (r.status === 'failed') this.fail(r.error ?? { code: 'OHLCV_WRITE_FAILED' satisfies ErrorCode, message: `shard ${r.shard} failed` })
  }
}

function summary(spec: LoadSpec): Record<string, unknown> {
  const { symbols, ...rest } = spec
  return { ...rest, symbols: symbols.length > 10 ? `${symbols.length} symbols` : symbols }
}
