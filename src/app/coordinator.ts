import type { Logger } from 'pino'
import { Registry } from 'prom-client'
import type { ServeConfig } from '../config.js'
import { LoadManager } from '../load/manager.js'
import { Metrics } from '../metrics/metrics.js'
import { LoadStore } from '../store/loadStore.js'
import { ShardPool } from '../../workers/pool.js'

/** What `serve` runs behind its HTTP face: the store, the pool, the metrics and the loads' manager. */
interface Coordinator {
  store: LoadStore
  registry: Registry
  manager: LoadManager
  /** closes the worker pool (after the manager has stopped its loads) */
  closePool: () => Promise<void>
}

/**
 * Opens the coordinator's parts in the order a start must fail in: a store that cannot be used
 * (locked, damaged) stops the start before a worker thread exists.
 */
export function openCoordinator(config: Readonly<ServeConfig>, logger: Logger): Coordinator {
  const store = LoadStore.open(config.stateDir)
  const registry = new Registry()
  const pool = new ShardPool(config.poolSize)
  const metrics = new Metrics(registry, () => pool.stats())
  const manager = new LoadManager({ pool, sink: config.sink, log: logger, metrics, options: config.load, limits: config.limits, store, history: config.loadHistory })
  metrics.watch(manager)
  // in the background: a load posted meanwhile queues behind the warm-up tasks (~0.1 s)
  pool.warm().catch((err: unknown) => logger.warn({ err }, 'worker warm-up failed'))
  return { store, registry, manager, closePool: () => pool.close() }
}
