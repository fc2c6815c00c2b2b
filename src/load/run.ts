import type { Logger } from 'pino'
import { toErrorInfo, type ErrorInfo } from '../errors.js'
import type { Metrics } from '../metrics/metrics.js'
import { planLoad } from '../plan/plan.js'
import type { LoadSpec } from '../request/schema.js'
import { prepareSink } from '../sink/prepare.js'
import { DEFAULT_RETRY, type RetryPolicy } from '../sink/retry.js'
import type { SinkConfig } from '../sink/target.js'
import { RUN, STOP_CANCELLED, STOP_FAILED, toShardSpec, type ShardResult } from '../../workers/messages.js'
import type { ShardPool } from '../../workers/pool.js'
import { Tally, type Account } from './account.js'
import { runBounded } from './bounded.js'

export type LoadStatus = 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled'

export interface LoadOptions {
  /** batches each worker may have in flight (default 2: one on the wire, one being acknowledged) */
  maxInFlight: number
  retry: RetryPolicy
}

export const DEFAULT_LOAD_OPTIONS: LoadOptions = { maxInFlight: 2, retry: DEFAULT_RETRY }

export interface LoadResult extends Account {
  status: LoadStatus
  durationMs: number
  pointsPerSecond: number
  error?: ErrorInfo
}

/** Window over which "current rate" is measured. */
const RATE_WINDOW_MS = 5000

/**
 * One load from plan to final account. The main thread only plans, hands shards to the pool and
 * tallies; generation, encoding and writing happen in the workers.
 */
export class LoadRun {
  status: LoadStatus = 'queued'
  readonly createdAt = new Date()
  startedAt: Date | undefined
  finishedAt: Date | undefined
  error: ErrorInfo | undefined
  readonly shardCount: number
  private readonly tally: Tally
  /** shared with every worker running a shard of this load: [0] = RUN | STOP_CANCELLED | STOP_FAILED */
  private readonly control = new Int32Array(new SharedArrayBuffer(4))
  private readonly samples: { t: number; written: number }[] = []
  private result: LoadResult | undefined

  constructor(
    readonly id: string,
    readonly spec: LoadSpec,
    private readonly sink: SinkConfig,
    private readonly pool: ShardPool,
    private readonly log: Logger,
    private readonly metrics?: Metrics,
    private readonly options: LoadOptions = DEFAULT_LOAD_OPTIONS,
  ) {
    this.shardCount = planLoad(spec).shardCount
    this.tally = new Tally(spec.trades, this.shardCount)
  }

  /** Asks the load to stop: queued shards are dropped, running ones stop after their writes in flight. */
  cancel(): boolean {
    if (this.status !== 'queued' && this.status !== 'running') return false
    Atomics.compareExchange(this.control, 0, RUN, STOP_CANCELLED)
    return true
  }

  get finished(): boolean {
    return this.result !== undefined
  }

  account(): Account {
    return this.tally.account()
  }

  /** Current rate (points/s over the last few seconds) and ETA in seconds, while running. */
  rate(nowMs = performance.now()): { pointsPerSecond: number; etaSeconds: number | null } {
    const written = this.tally.account().pointsWritten
    this.samples.push({ t: nowMs, written })
    while (this.samples.length > 2 && nowMs - this.samples[0]!.t > RATE_WINDOW_MS) this.samples.shift()
    const first = this.samples[0]!
    const dt = (nowMs - first.t) / 1000
    const pps = dt > 0 ? (written - first.written) / dt : 0
    const remaining = this.spec.trades - written
    return { pointsPerSecond: Math.round(pps), etaSeconds: pps > 0 ? Math.ceil(remaining / pps) : null }
  }

  /** Runs the load to the end. Never rejects: failures are in the result. */
  async run(): Promise<LoadResult> {
    const t0 = performance.now()
    this.status = 'running'
    this.startedAt = new Date()
    this.metrics?.loadsStarted.inc()
    this.metrics?.loadsRunning.inc()
    this.log.info({ spec: summary(this.spec), shards: this.shardCount }, 'load started')
    try {
      await this.execute()
    } catch (e) {
      this.fail(toErrorInfo(e))
    }
    const durationMs = Math.round(performance.now() - t0)
    const account = this.tally.account()
    const stop = Atomics.load(this.control, 0)
    this.status =
      this.error || stop === STOP_FAILED ? 'failed' : stop === STOP_CANCELLED ? 'cancelled' : 'succeeded'
    this.finishedAt = new Date()
    this.result = {
      status: this.status,
      ...account,
      durationMs,
      pointsPerSecond: durationMs > 0 ? Math.round(account.pointsWritten / (durationMs / 1000)) : 0,
      ...(this.error ? { error: this.error } : {}),
    }
    this.metrics?.loadsRunning.dec()
    this.metrics?.loadsFinished.inc({ status: this.status })
    this.log[this.status === 'failed' ? 'error' : 'info']({ result: this.result }, `load ${this.status}`)
    return this.result
  }

  getResult(): LoadResult | undefined {
    return this.result
  }

  private fail(err: ErrorInfo): void {
    this.error ??= err
    Atomics.store(this.control, 0, STOP_FAILED)
  }

  private async execute(): Promise<void> {
    const prepared = await prepareSink(this.sink, this.shardCount)
    const shardSpec = toShardSpec(this.spec)
    const task = (shard: number): Promise<void> =>
      this.pool
        .run(
          {
            shard,
            shardCount: this.shardCount,
            spec: shardSpec,
            sink: prepared.targetFor(shard),
            maxInFlight: this.options.maxInFlight,
            retry: this.options.retry,
            control: this.control,
          },
          (d) => {
            this.tally.applyDelta(d)
            this.metrics?.apply(d)
          },
        )
        .then(
          (r) => this.shardFinished(r),
          (e: unknown) => this.fail(toErrorInfo(e)),
        )
        .then(() => prepared.shardDone(shard))
        .catch((e: unknown) => this.fail(toErrorInfo(e)))
    try {
      await runBounded(this.shardCount, this.pool.size * 2, task, () => Atomics.load(this.control, 0) !== RUN)
    } finally {
      await prepared.finish()
    }
  }

  private shardFinished(r: ShardResult): void {
    this.tally.applyResult(r)
    if (r.status === 'failed') this.fail(r.error ?? { code: 'OHLCV_WRITE_FAILED', message: `shard ${r.shard} failed` })
  }
}

function summary(spec: LoadSpec): Record<string, unknown> {
  const { symbols, ...rest } = spec
  return { ...rest, symbols: symbols.length > 10 ? `${symbols.length} symbols` : symbols }
}
