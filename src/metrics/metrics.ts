import { Counter, Gauge, Histogram, collectDefaultMetrics, type Registry } from 'prom-client'
import type { PoolStats } from '../../workers/pool.js'
import type { ProgressDelta } from '../../shared/messages.js'
import type { BreakerStats } from '../../shared/breaker.js'
import type { ConcurrencyStats } from '../../shared/concurrency.js'

/** Write latency buckets (seconds): sub-millisecond null/file writes up to multi-second stalls. */
const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30]
/** Generation+encoding per batch: 5,000 lines take about 2 ms on one core. */
const ENCODE_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25]

/** What the coordinator's loads expose to scrape-time gauges (LoadManager implements it). */
interface LoadsView {
  circuit(): BreakerStats
  pointsInFlight(): number
  /** the sink's adaptive write concurrency */
  concurrencyStats(): ConcurrencyStats
}

/**
 * The tool's Prometheus metrics, registered on a Registry the caller owns (never the global one).
 * Labels are bounded: error kind (3 values) and HTTP status; no load id or symbol labels.
 */
export class Metrics {
  readonly pointsWritten: Counter
  readonly pointsFailed: Counter
  readonly bytesWritten: Counter
  readonly batchesWritten: Counter
  readonly writeErrors: Counter<'kind' | 'status'>
  readonly retries: Counter
  readonly batchesSplit: Counter
  readonly writeDuration: Histogram
  readonly loadsStarted: Counter
  readonly loadsFinished: Counter<'status'>
  readonly loadsRunning: Gauge
  /** capacity searches (POST /capacity): the step running or last run, and its verdict */
  readonly capacityTarget: Gauge
  readonly capacityVerdict: Gauge
  readonly capacitySustainable: Gauge

  readonly encodeDuration: Histogram
  /** read at scrape time: the sink's circuit breaker and the points in flight (see watch) */
  private loads: LoadsView | undefined

  /**
   * The pool's stats, and (once `watch` is called) the loads' circuit and points in flight, are
   * read at scrape time from the pool and from shared-memory counters, so nothing is pushed for them.
   */
  constructor(registry: Registry, pool: () => PoolStats | undefined) {
    const registers = [registry]
    const circuit = () => this.loads?.circuit()
    const inFlight = () => this.loads?.pointsInFlight() ?? 0
    this.pointsWritten = new Counter({ name: 'ohlcv_points_written_total', help: 'Points acknowledged by the sink.', registers })
    this.pointsFailed = new Counter({ name: 'ohlcv_points_failed_total', help: 'Points sent and rejected or given up on.', registers })
    this.bytesWritten = new Counter({ name: 'ohlcv_bytes_written_total', help: 'Line protocol bytes acknowledged by the sink.', registers })
    this.batchesWritten = new Counter({ name: 'ohlcv_batches_written_total', help: 'Write requests acknowledged by the sink.', registers })
    this.writeErrors = new Counter({
      name: 'ohlcv_write_errors_total',
      help: 'Failed write attempts, by kind (retryable|permanent|rejected: the server refused lines by name, InfluxDB 3) and HTTP status ("none" for transport errors).',
      labelNames: ['kind', 'status'],
      registers,
    })
    this.retries = new Counter({ name: 'ohlcv_write_retries_total', help: 'Write attempts that were retried.', registers })
    this.batchesSplit = new Counter({
      name: 'ohlcv_batches_split_total',
      help: 'Batches split in two because the server answered 413 (body too large).',
      registers,
    })
    new Gauge({
      name: 'ohlcv_circuit_state',
      help: "The sink's circuit breaker: 0 closed, 1 open, 2 half-open.",
      registers,
      collect() {
        const state = circuit()?.state
        this.set(state === 'open' ? 1 : state === 'half-open' ? 2 : 0)
      },
    })
    new Counter({
      name: 'ohlcv_circuit_opens_total',
      help: "Times the sink's circuit breaker opened.",
      registers,
      collect() {
        const opens = circuit()?.opens ?? 0
        // The breaker counts in shared memory; the counter mirrors it.
        this.reset()
        this.inc(opens)
      },
    })
    this.writeDuration = new Histogram({
      name: 'ohlcv_write_duration_seconds',
      help: 'Time from a batch\'s intended send time to its acknowledgement, retries included (paced loads: coordinated omission counted).',
      buckets: LATENCY_BUCKETS,
      registers,
    })
    this.encodeDuration = new Histogram({
      name: 'ohlcv_batch_encode_seconds',
      help: 'Time a worker spent generating and encoding one batch.',
      buckets: ENCODE_BUCKETS,
      registers,
    })
    const concurrency = () => this.loads?.concurrencyStats()
    const concurrencyGauge = (name: string, help: string, read: (c: ConcurrencyStats) => number) =>
      new Gauge({
        name,
        help,
        registers,
        collect() {
          const c = concurrency()
          if (c) this.set(read(c))
        },
      })
    concurrencyGauge(
      'ohlcv_write_concurrency_limit',
      "Write requests the sink's workers may have on the wire at once now: halved while the server signals overload, raised by one per round of successes up to the pool size times MAX_IN_FLIGHT.",
      (c) => c.limit,
    )
    concurrencyGauge('ohlcv_write_concurrency_max', 'The write concurrency limit when the server keeps up (pool size times MAX_IN_FLIGHT).', (c) => c.max)
    new Counter({
      name: 'ohlcv_write_degraded_seconds_total',
      help: 'Seconds the sink ran with its write concurrency limit below the maximum (the server signalled overload).',
      registers,
      collect() {
        const c = concurrency()
        if (c) {
          this.reset()
          this.inc(c.degradedMs / 1000)
        }
      },
    })
    new Gauge({
      name: 'ohlcv_points_in_flight',
      help: 'Points sent to the sink and not yet answered, over all running loads.',
      registers,
      collect() {
        this.set(inFlight())
      },
    })
    this.loadsStarted = new Counter({ name: 'ohlcv_loads_started_total', help: 'Loads started.', registers })
    this.loadsFinished = new Counter({
      name: 'ohlcv_loads_finished_total',
      help: 'Loads finished, by final status.',
      labelNames: ['status'],
      registers,
    })
    this.loadsRunning = new Gauge({ name: 'ohlcv_loads_running', help: 'Loads queued or running.', registers })
    this.capacityTarget = new Gauge({ name: 'ohlcv_capacity_step_target_points_per_second', help: 'The capacity search step running (or last run): its target rate.', registers })
    this.capacityVerdict = new Gauge({ name: 'ohlcv_capacity_step_passed', help: 'The last capacity step: 1 passed, 0 failed, -1 running.', registers })
    this.capacitySustainable = new Gauge({ name: 'ohlcv_capacity_sustainable_points_per_second', help: 'The last capacity search: the rate it found (0: none).', registers })
    const poolGauge = (name: string, help: string, read: (s: PoolStats) => number) =>
      new Gauge({
        name,
        help,
        registers,
        collect() {
          const s = pool()
          this.set(s ? read(s) : 0)
        },
      })
    poolGauge('ohlcv_pool_threads', 'Worker threads in the pool.', (s) => s.threads)
    poolGauge('ohlcv_pool_queue_size', 'Shard tasks waiting for a worker thread.', (s) => s.queueSize)
    poolGauge('ohlcv_pool_utilization_ratio', 'Share of time the worker threads spent running shards (0..1).', (s) => s.utilization)
    collectDefaultMetrics({ register: registry })
  }

  /** Reads the circuit and points-in-flight gauges from these loads from now on. */
  watch(loads: LoadsView): void {
    this.loads = loads
  }

  /** Applies one worker delta. Called on the main thread only. */
  apply(d: ProgressDelta): void {
    if (d.written) this.pointsWritten.inc(d.written)
    if (d.failed) this.pointsFailed.inc(d.failed)
    if (d.bytes) this.bytesWritten.inc(d.bytes)
    if (d.batches) this.batchesWritten.inc(d.batches)
    if (d.retries) this.retries.inc(d.retries)
    if (d.splits) this.batchesSplit.inc(d.splits)
    for (const e of d.errors) this.writeErrors.inc({ kind: e.kind, status: e.status === undefined ? 'none' : String(e.status) })
    for (const s of d.latencies) this.writeDuration.observe(s)
    for (const s of d.encodeSeconds) this.encodeDuration.observe(s)
  }
}
