import { Registry } from 'prom-client'
import { buildApp, type AppDeps } from '../../src/api/app.js'
import type { LoadView } from '../../src/api/schemas.js'
import type { Logger } from 'pino'
import { LoadManager } from '../../src/load/manager.js'
import type { LoadLimits } from '../../src/load/limits.js'
import { DEFAULT_LOAD_OPTIONS, type LoadOptions } from '../../src/load/run.js'
import { Metrics } from '../../src/metrics/metrics.js'
import type { SinkConfig } from '../../src/sink/target.js'
import { ShardPool } from '../../workers/pool.js'
import { call, finished } from './http.js'
import { silent } from './load.js'

export type Coordinator = Awaited<ReturnType<typeof startCoordinator>>

/** The real coordinator (Fastify + Piscina + prom-client) on an ephemeral loopback port. */
export async function startCoordinator(
  sink: SinkConfig,
  poolSize = 2,
  options: LoadOptions = DEFAULT_LOAD_OPTIONS,
  extra: { limits?: LoadLimits; apiToken?: string; logger?: Logger; app?: Partial<AppDeps> } = {},
) {
  const registry = new Registry()
  const pool = new ShardPool(poolSize)
  const metrics = new Metrics(registry, () => pool.stats())
  const logger = extra.logger ?? silent
  const manager = new LoadManager({ pool, sink, log: logger, metrics, options, ...(extra.limits ? { limits: extra.limits } : {}) })
  metrics.watch(manager)
  const app = await buildApp({
    manager,
    registry,
    sink,
    logger,
    normalize: { now: () => Date.now(), newSeed: () => 'seed-from-test' },
    ...(extra.apiToken !== undefined ? { apiToken: extra.apiToken } : {}),
    ...extra.app,
  })
  const url = await app.listen({ host: '127.0.0.1', port: 0 })
  return {
    app,
    url,
    manager,
    json<T = Record<string, unknown>>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T; headers: Headers }> {
      return call<T>(url, method, path, body, extra.apiToken)
    },
    /** Polls GET /loads/:id until the load has finished. */
    waitDone(id: string, timeoutMs = 90_000): Promise<LoadView & { result: NonNullable<LoadView['result']> }> {
      return finished(url, id, timeoutMs, extra.apiToken)
    },
    async close() {
      await app.close()
      await manager.stopAll()
      await pool.close()
    },
  }
}

/** One sample of a Prometheus text exposition: `name{labels} value`. */
export function sample(text: string, name: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${name} `))
  if (!line) throw new Error(`no sample ${name}`)
  return Number(line.split(' ')[1])
}
