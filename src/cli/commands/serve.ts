import { serveConfig } from '../../config.js'
import { readSettings } from '../../settings.js'
import { normalizeContext } from '../../app/runLoad.js'
import { UsageError } from '../../errors.js'
import { createLogger } from '../../log.js'
import type { Redactor } from '../../secrets.js'
import { describeSink } from '../../sink/target.js'
import type { ParsedArgs } from '../args.js'
import { EXIT_OK, type Io } from '../exit.js'
import { crashMessage, onCrash, onSignals } from '../signals.js'

/** `ohlcv-loadgen serve`: the coordinator, until a signal shuts it down; resolves with exit 0 then. */
export async function serveCommand(args: ParsedArgs, io: Io, redactor: Redactor): Promise<number> {
  if (Object.keys(args.request).length > 0) throw new UsageError('load options belong to `run`; serve takes loads over HTTP (POST /loads)')
  const config = serveConfig(readSettings(args.settings, io.env))
  const logger = createLogger(config.logLevel, undefined, redactor)
  const [{ buildApp }, { openCoordinator }] = await Promise.all([import('../../api/app.js'), import('../../app/coordinator.js')])
  const { store, registry, manager, closePool } = openCoordinator(config, logger)
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
    await closePool()
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
            await closePool()
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
