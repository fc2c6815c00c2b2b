import { randomUUID } from 'node:crypto'
import type { Logger } from 'pino'
import { CapacityBusyError, CapacityNotFoundError, LoadgenError, toErrorInfo } from '../errors.js'
import type { ErrorInfo } from '../model/errors.js'
import type { LoadOptions } from '../load/run.js'
import type { Metrics } from '../metrics/metrics.js'
import type { NormalizeContext } from '../request/normalize.js'
import type { SinkConfig } from '../sink/target.js'
import type { ShardPool } from '../../workers/pool.js'
import { capacityChart } from './chart.js'
import { runCapacity, type CapacityOptions, type CapacityReport, type CapacityStep } from './run.js'
import { capacityDataset, verifyCapacity, type CapacityVerifyReport } from './verify.js'

/** What a search tells those who follow it: each judged step, then once that it has ended. */
export type CapacityEvent = { event: 'step'; step: CapacityStep } | { event: 'done'; search: CapacitySearch }

/** A capacity search of this coordinator, as GET /capacity/:id shows it. */
export interface CapacitySearch {
  id: string
  status: 'running' | 'done' | 'failed' | 'cancelled'
  options: CapacityOptions
  steps: CapacityStep[]
  /** the step running now */
  current?: number
  report?: CapacityReport
  error?: ErrorInfo
  createdAt: string
  /** aborted when the search is asked to stop: it ends after the step running */
  stop: AbortController
  listeners: Set<(e: CapacityEvent) => void>
}

/** What a search runs on: the coordinator's own pool and sink, and its load options. */
export interface CapacityDeps {
  pool: ShardPool
  sink: SinkConfig
  options: LoadOptions
  log: Logger
  metrics?: Metrics
  normalize: NormalizeContext
}

/** Loads asked while loads run: a search would measure them too. The code is the one loads have always had here. */
class LoadsRunningError extends LoadgenError {
  constructor(why: string) {
    super('OHLCV_LOAD_RUNNING', why)
  }
}

/** Searches kept for GET; the oldest finished go first. */
const KEEP = 20

/**
 * The coordinator's capacity searches: one at a time, and only while no load runs (it would share
 * the pool and the sink, and measure both). Searches live in memory: they are not in the load store.
 */
export class CapacityRegistry {
  private readonly runs = new Map<string, CapacitySearch>()

  constructor(
    private readonly deps: CapacityDeps,
    /** how many loads run now: none may run beside a search */
    private readonly loadsRunning: () => number,
  ) {}

  /** The search running now, if one is. */
  running(): CapacitySearch | undefined {
    return [...this.runs.values()].find((r) => r.status === 'running')
  }

  get(id: string): CapacitySearch {
    const r = this.runs.get(id)
    if (!r) throw new CapacityNotFoundError(id)
    return r
  }

  /** Starts a search in the background; `load` is the validated request each step writes. */
  start(load: Record<string, unknown>, options: CapacityOptions): CapacitySearch {
    const busy = this.running()
    if (busy) throw new CapacityBusyError(busy.id, 'start')
    if (this.loadsRunning() > 0) throw new LoadsRunningError('loads are running: a capacity search would measure them too; wait for them to end')
    const run: CapacitySearch = { id: randomUUID(), status: 'running', options, steps: [], createdAt: new Date().toISOString(), stop: new AbortController(), listeners: new Set() }
    this.runs.set(run.id, run)
    for (const old of [...this.runs.values()].filter((r) => r.status !== 'running').slice(0, Math.max(0, this.runs.size - KEEP))) this.runs.delete(old.id)
    const emit = (e: CapacityEvent) => run.listeners.forEach((l) => l(e))
    const { metrics } = this.deps
    metrics?.capacityVerdict.set(-1)
    void runCapacity(load, options, {
      sink: this.deps.sink,
      pool: this.deps.pool,
      log: this.deps.log.child({ capacityId: run.id }),
      options: this.deps.options,
      normalize: this.deps.normalize,
      signal: run.stop.signal,
      onStepStart: (rate) => {
        run.current = rate
        metrics?.capacityTarget.set(rate)
        metrics?.capacityVerdict.set(-1)
      },
      onStep: (step) => {
        run.steps.push(step)
        metrics?.capacityVerdict.set(step.passed ? 1 : 0)
        emit({ event: 'step', step })
      },
    }).then(
      (report) => {
        run.report = report
        run.status = run.stop.signal.aborted ? 'cancelled' : 'done'
        delete run.current
        metrics?.capacitySustainable.set(report.sustainablePointsPerSecond ?? 0)
        emit({ event: 'done', search: run })
      },
      (e: unknown) => {
        run.status = 'failed'
        run.error = toErrorInfo(e)
        delete run.current
        emit({ event: 'done', search: run })
      },
    )
    return run
  }

  /** Asks a search to stop after the step running; it reports what it found. */
  stop(id: string): CapacitySearch {
    const r = this.get(id)
    r.stop.abort()
    return r
  }

  /** The whole search as one dataset: every slice it wrote, warm-ups included (as `verify --capacity`). */
  verify(id: string, interval: { text: string; ms: number }): Promise<CapacityVerifyReport> {
    const r = this.get(id)
    if (r.status === 'running') throw new CapacityBusyError(r.id, 'verify')
    if (!r.report) throw new LoadsRunningError(`the capacity search ${r.status} before it wrote a dataset to verify`)
    return verifyCapacity(capacityDataset(r.report, this.deps.normalize), this.deps.sink, this.deps.pool, interval)
  }

  /** The steps so far as an SVG chart (a running search's too). */
  chart(id: string): string {
    const r = this.get(id)
    return capacityChart(r.report ?? { sustainablePointsPerSecond: undefined, confirmed: false, slo: r.options.slo, steps: r.steps })
  }
}
