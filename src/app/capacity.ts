import type { Logger } from 'pino'
import { runCapacity, type CapacityOptions, type CapacityReport, type CapacityStep } from '../capacity/run.js'
import { loadOptions, poolSize, sinkConfig } from '../config.js'
import type { RawSettings } from '../settings.js'
import { UsageError } from '../errors.js'
import type { SinkConfig } from '../sink/target.js'
import { withPool } from './pool.js'
import { normalizeContext } from './runLoad.js'

interface CapacityHooks {
  log: Logger
  /** the pool is warm: the first step starts now */
  ready?: () => void
  /** each step once judged */
  onStep?: (step: CapacityStep) => void
  /** aborted: stop after the step running (its measure would be wrong if cut short) */
  signal?: AbortSignal
}

/**
 * One capacity search in this process, on a pool of its own: what `ohlcv-loadgen capacity` runs.
 * `request` is what each step writes, its trades and rate left to the search.
 */
export async function searchCapacity(request: Record<string, unknown>, o: CapacityOptions, settings: RawSettings, hooks: CapacityHooks): Promise<{ report: CapacityReport; sink: SinkConfig }> {
  const sink = sinkConfig(settings)
  if (sink.kind === 'file') throw new UsageError('capacity measures a database: use an InfluxDB sink (or null for the generator alone)')
  const report = await withPool(poolSize(settings), async (pool) => {
    await pool.warm()
    hooks.ready?.()
    return runCapacity(request, o, {
      sink,
      pool,
      log: hooks.log,
      options: loadOptions(settings, 'timeoutMs' in sink ? sink.timeoutMs : undefined),
      normalize: normalizeContext,
      signal: hooks.signal,
      ...(hooks.onStep ? { onStep: hooks.onStep } : {}),
    })
  })
  return { report, sink }
}
