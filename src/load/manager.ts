import { randomUUID } from 'node:crypto'
import type { Logger } from 'pino'
import { verifyLoad, type VerifyReport } from '../candles/verify.js'
import { LoadFinishedError, LoadNotFoundError, LoadRunningError } from '../errors.js'
import type { Metrics } from '../metrics/metrics.js'
import type { LoadSpec } from '../request/schema.js'
import type { SinkConfig } from '../sink/target.js'
import type { ShardPool } from '../../workers/pool.js'
import { DEFAULT_LOAD_OPTIONS, LoadRun, type LoadOptions } from './run.js'

/** Finished loads kept for GET /loads; the oldest are forgotten first, so memory stays bounded. */
export const MAX_FINISHED_LOADS = 200

/** The coordinator's loads: starts them in the background, finds, lists and cancels them. */
export class LoadManager {
  private readonly loads = new Map<string, LoadRun>()
  private readonly running = new Set<Promise<unknown>>()

  constructor(
    private readonly pool: ShardPool,
    private readonly sink: SinkConfig,
    private readonly log: Logger,
    private readonly metrics?: Metrics,
    private readonly options: LoadOptions = DEFAULT_LOAD_OPTIONS,
  ) {}

  start(spec: LoadSpec): LoadRun {
    const id = randomUUID()
    const load = new LoadRun(id, spec, this.sink, this.pool, this.log.child({ loadId: id }), this.metrics, this.options)
    this.loads.set(id, load)
    const p = load.run().finally(() => {
      this.running.delete(p)
      this.forgetOld()
    })
    this.running.add(p)
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

  cancel(id: string): LoadRun {
    const load = this.get(id)
    if (!load.cancel()) throw new LoadFinishedError(id, load.status)
    return load
  }

  /** Regenerates a finished load from its seed and compares it with the database. */
  async verify(id: string, interval: { text: string; ms: number }): Promise<VerifyReport> {
    const load = this.get(id)
    if (!load.finished) throw new LoadRunningError(id)
    return verifyLoad(load.spec, this.sink, this.pool, interval)
  }

  /** Cancels everything and waits until every load has its final account. */
  async stopAll(): Promise<void> {
    for (const load of this.loads.values()) load.cancel()
    await Promise.allSettled([...this.running])
  }

  private forgetOld(): void {
    const finished = [...this.loads.values()].filter((l) => l.finished)
    for (const l of finished.slice(0, Math.max(0, finished.length - MAX_FINISHED_LOADS))) this.loads.delete(l.id)
  }
}
