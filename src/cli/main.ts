import { randomBytes } from 'node:crypto'
import { Registry } from 'prom-client'
import { loadOptions, poolSize, readSettings, serveConfig, sinkConfig, LOG_LEVELS, type LogLevel } from '../config.js'
import { LoadgenError } from '../errors.js'
import { createLogger } from '../log.js'
import { LoadManager } from '../load/manager.js'
import { LoadRun, type LoadResult } from '../load/run.js'
import { Metrics } from '../metrics/metrics.js'
import { normalizeRequest, type NormalizeContext } from '../request/normalize.js'
import { validateLoadRequest } from '../request/validate.js'
import { describeSink } from '../sink/target.js'
import { buildApp } from '../api/app.js'
import { ShardPool } from '../../workers/pool.js'
import { helpText, parseCommandLine, usageLine, UsageError } from './args.js'

export const EXIT_OK = 0
export const EXIT_LOAD_FAILED = 1
export const EXIT_USAGE = 2
export const EXIT_INTERRUPTED = 130

export interface Io {
  stdout: NodeJS.WritableStream
  stderr: NodeJS.WritableStream
  env: NodeJS.ProcessEnv
}

const normalizeContext: NormalizeContext = { now: () => Date.now(), newSeed: () => randomBytes(6).toString('hex') }

/** Runs one command; resolves with the process exit code. Bad input never throws past here. */
export async function main(argv: string[], io: Io = { stdout: process.stdout, stderr: process.stderr, env: process.env }): Promise<number> {
  try {
    const args = parseCommandLine(argv)
    if (args.help || args.command === 'help' || args.command === undefined) {
      io.stdout.write(`${helpText()}\n`)
      return args.command === undefined && !args.help ? EXIT_USAGE : EXIT_OK
    }
    if (args.command === 'run') return await run(args, io)
    if (args.command === 'serve') return await serve(args, io)
    throw new UsageError(`unknown command ${JSON.stringify(args.command)} (commands: run, serve, help)`)
  } catch (e) {
    if (e instanceof UsageError || (e instanceof LoadgenError && e.exitCode === EXIT_USAGE)) {
      io.stderr.write(`ohlcv-loadgen: ${usageLine(e)}\n`)
      return EXIT_USAGE
    }
    io.stderr.write(`ohlcv-loadgen: ${(e as Error).message}\n`)
    return EXIT_LOAD_FAILED
  }
}

async function run(args: ReturnType<typeof parseCommandLine>, io: Io): Promise<number> {
  // Everything is validated before a thread starts: bad input never half-starts a load.
  const spec = normalizeRequest(validateLoadRequest(args.request), normalizeContext)
  const settings = readSettings(args.settings, io.env)
  const sink = sinkConfig(settings)
  const options = loadOptions(settings)
  const size = poolSize(settings)
  const dataOnStdout = sink.kind === 'file' && sink.out === '-'
  if (dataOnStdout && args.json) throw new UsageError('--json cannot share stdout with --sink file --out -; give --out a path')
  const level = args.settings.logLevel ?? io.env.LOG_LEVEL ?? 'warn'
  if (!(LOG_LEVELS as readonly string[]).includes(level)) throw new UsageError(`invalid --log-level: ${level}`)
  const logger = createLogger(level as LogLevel, process.stderr)
  const report = dataOnStdout ? io.stderr : io.stdout

  const pool = new ShardPool(size)
  const load = new LoadRun('cli', spec, sink, pool, logger, undefined, options)
  // First Ctrl-C stops the load cleanly (writes in flight finish, the account stays exact).
  let interrupted = false
  const onSignal = () => {
    if (interrupted) process.exit(EXIT_INTERRUPTED)
    interrupted = true
    io.stderr.write('ohlcv-loadgen: stopping after the writes in flight (Ctrl-C again to quit at once)\n')
    load.cancel()
  }
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)
  let result: LoadResult
  try {
    result = await load.run()
  } finally {
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
    await pool.close()
  }

  if (args.json) {
    report.write(`${JSON.stringify({ ...result, seed: spec.seed, from: spec.from, to: spec.to, poolSize: size, batchSize: spec.batchSize, sink: describeSink(sink) })}\n`)
  } else {
    const n = (x: number) => x.toLocaleString('en-US')
    report.write(
      `load ${result.status}: ${n(result.pointsWritten)} points written of ${n(result.pointsPlanned)} planned ` +
        `(${n(result.pointsFailed)} failed, ${n(result.pointsUnsent)} unsent) in ${(result.durationMs / 1000).toFixed(2)} s, ` +
        `${n(result.pointsPerSecond)} points/s\n` +
        `seed ${JSON.stringify(spec.seed)}, ${spec.from} .. ${spec.to}, ${n(load.shardCount)} shard${load.shardCount === 1 ? "" : "s"}, pool ${size}, ` +
        `batch ${spec.batchSize}, sink ${Object.values(describeSink(sink)).join(' ')}\n` +
        (result.error ? `error: ${result.error.message}\n` : ''),
    )
  }
  if (result.status === 'succeeded') return EXIT_OK
  return result.status === 'cancelled' ? EXIT_INTERRUPTED : EXIT_LOAD_FAILED
}

async function serve(args: ReturnType<typeof parseCommandLine>, io: Io): Promise<number> {
  if (Object.keys(args.request).length > 0) throw new UsageError('load options belong to `run`; serve takes loads over HTTP (POST /loads)')
  const config = serveConfig(readSettings(args.settings, io.env))
  const logger = createLogger(config.logLevel)
  const registry = new Registry()
  const pool = new ShardPool(config.poolSize)
  const metrics = new Metrics(registry, () => pool.stats())
  const manager = new LoadManager(pool, config.sink, logger, metrics, config.load)
  const app = await buildApp({ manager, registry, sink: config.sink, logger, normalize: normalizeContext })
  const address = await app.listen({ host: config.host, port: config.port })
  logger.info({ address, poolSize: config.poolSize, sink: describeSink(config.sink) }, 'coordinator listening')
  io.stderr.write(`ohlcv-loadgen: listening on ${address} (pool ${config.poolSize}, sink ${Object.values(describeSink(config.sink)).join(' ')})\n`)

  return new Promise<number>((resolve) => {
    const stop = (signal: string) => {
      logger.info({ signal }, 'shutting down: cancelling loads')
      void (async () => {
        await app.close()
        await manager.stopAll()
        await pool.close()
        resolve(EXIT_OK)
      })()
    }
    process.once('SIGINT', () => stop('SIGINT'))
    process.once('SIGTERM', () => stop('SIGTERM'))
  })
}
