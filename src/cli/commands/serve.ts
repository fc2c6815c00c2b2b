import { readSettings, serveConfig } from '../../config.js'
import { normalizeContext } from '../../app/runLoad.js'
import { UsageError } from '../../errors.js'
import { createLogger } from '../../log.js'
import type { Redactor } from '../../secrets.js'
import { describeSink } from '../../sink/target.js'
import { ShardPool } from '../../../workers/pool.js'
import type { ParsedArgs } from '../args.js'
import { EXIT_OK, type Io } from '../exit.js'
import { crashMessage, onCrash, onSignals } from '../signals.js'

/** `ohlcv-loadgen serve`: the coordinator, until a signal shuts it down; resolves with exit 0 then. */
export async function serveCommand(args: ParsedArgs, io: Io, redactor: Redactor): Promise<number> {
  if (Object.keys(args.request).length > 0) throw new UsageError('load options belong to `run`; serve takes loads over HTTP (POST /loads)')
  const config = serveConfig(readSettings(args.settings, io.env))
  const logger = createLogger(config.logLevel, undefined, redactor)
  const [{ Registry }, { Metrics }, { buildApp }, { LoadManager }, { LoadStore }] = await Promise.all([
    import('prom-client'),
    import('../../metrics/metrics.js'),
    import('../../api/app.js'),
    import('../../load/manager.js'),
    import('../../store/loadStore.js'),
  ])
  // First: a store that cannot be used (locked, damaged) stops the start before anything else does.
  const store = LoadStore.open(config.stateDir)
  const registry = new Registry()
  const pool = new ShardPool(config.poolSize)
  const metrics = new Metrics(registry, () => pool.stats())
  const manager = new LoadManager({ pool, sink: config.sink, log: logger, metrics, options: config.load, limits: config.limits, store, history: config.loadHistory })
  metrics.watch(manager)
  // in the background: a load posted meanwhile queues behind the warm-up tasks (~0.1 s)
  pool.warm().catch((err: unknown) => logger.warn({ err }, 'worker warm-up failed'))
  const app = await buildApp({
    manager,
    registry,
    sink: config.sink,
    logger,
    normalize: normalizeContext,
    bodyLimit: config.bodyLimit,
    redact: (text) => redactor.redact(text),
    allowedHosts: config.allowedHosts,
    maxStreamsPerLoad: config.maxStreamsPerLoad,
    ...(config.maxConnections !== undefined ? { maxConnections: config.maxConnections } : {}),
    ...(config.apiToken !== undefined ? { apiToken: config.apiToken } : {}),
  })
  void onCrash(async (err) => {
    const running = manager.list().filter((l) => !l.finished).map((l) => ({ id: l.id, account: l.account() }))
    logger.fatal({ err: crashMessage(err), running }, 'internal error: cancelling running loads and exiting')
    await manager.stopAll()
    manager.close()
    await app.close()
    await pool.close()
  })
  const address = await app.listen({ host: config.host, port: config.port })
  logger.info({ address, poolSize: config.poolSize, sink: describeSink(config.sink), limits: config.limits, auth: config.apiToken !== undefined, store: store.path, loadsStored: store.count() }, 'coordinator listening')
  io.stderr.write(`ohlcv-loadgen: listening on ${address} (pool ${config.poolSize}, sink ${Object.values(describeSink(config.sink)).join(' ')})\n`)

  // Graceful shutdown: refuse new loads (503) at once, give running ones the grace period, then
  // cancel them (their accounts stay exact), close the server and the pool, exit 0. A second
  // signal cancels at once.
  return new Promise<number>((resolve) => {
    const off = onSignals(
      [
        (signal) => {
          manager.drain()
          logger.info({ signal, running: manager.runningCount, graceMs: config.shutdownGraceMs }, 'shutting down: no new loads')
          void (async () => {
            if (!(await manager.waitForRunning(config.shutdownGraceMs))) logger.warn('grace period over: cancelling running loads')
            await manager.stopAll()
            manager.close()
            await app.close()
            await pool.close()
            logger.info('shut down')
            off()
            resolve(EXIT_OK)
          })()
        },
        (signal) => {
          logger.warn({ signal }, 'second signal: cancelling running loads now')
          void manager.stopAll()
        },
      ],
      ['SIGINT', 'SIGTERM'],
    )
  })
}
