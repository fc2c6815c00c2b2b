import { createServer } from 'node:http'
import type { Registry } from 'prom-client'
import { metricsPort, poolSize, progressMode, serveConfig, sinkConfig, LOG_LEVELS, type LogLevel } from '../config.js'
import { readSettings } from '../settings.js'
import { LoadgenError, UsageError } from '../errors.js'
import { createLogger } from '../log.js'
import { occupiedWarning, rangeOccupied } from '../sink/occupied.js'
import { Redactor } from '../secrets.js'
import { readJsonFile } from '../jsonFile.js'
import { DATASET_FORMAT } from '../market/dataset.js'
import type { LoadRun } from '../load/run.js'
import type { LoadResult } from '../model/account.js'
import { DEFAULT_MEASUREMENT, normalizeRequest } from '../request/normalize.js'
import { MAX_TICK_DECIMALS, tickDecimals } from '../model/request.js'
import { SYMBOL_PATTERN } from '../model/request.js'
import { validateLoadRequest } from '../request/validate.js'
import { describeSink } from '../sink/target.js'
import { ShardPool } from '../../workers/pool.js'
import { showProgress } from './progress.js'
import { describePartition } from '../partition/partition.js'
import { helpText, parseCommandLine, usageLine } from './args.js'
import { writeOutput } from './outputFile.js'
import { verifyHint } from './verifyHint.js'
import { executeRun, normalizeContext, prepareRun, requireFixedLoad, resolvePartition } from '../load/runLoad.js'

// What only some commands need (the HTTP app, prom-client, the candle code, DNS discovery) is
// imported where it is used: every command starts ~0.1 s of CPU sooner.

export const EXIT_OK = 0
export const EXIT_LOAD_FAILED = 1
export const EXIT_USAGE = 2
export const EXIT_INTERRUPTED = 130

export interface Io {
  stdout: NodeJS.WritableStream
  stderr: NodeJS.WritableStream
  env: NodeJS.ProcessEnv
}


/** Runs one command; resolves with the process exit code. Bad input never throws past here. */
export async function main(argv: string[], io: Io = { stdout: process.stdout, stderr: process.stderr, env: process.env }): Promise<number> {
  const redactor = Redactor.fromArgv(argv, io.env)
  try {
    const args = parseCommandLine(argv)
    if (args.help || args.command === 'help' || args.command === undefined) {
      io.stdout.write(`${helpText()}\n`)
      return args.command === undefined && !args.help ? EXIT_USAGE : EXIT_OK
    }
    if (args.command === 'run') return await run(args, io, redactor)
    if (args.command === 'serve') return await serve(args, io, redactor)
    if (args.command === 'candles') return await candles(args, io)
    if (args.command === 'verify') return await verify(args, io)
    if (args.command === 'capacity') {
      const { capacityCommand } = await import('./capacity.js')
      return await capacityCommand(args, await requestOf(args), readSettings(args.settings, io.env), io, commandLogger(args, io, redactor))
    }
    throw new UsageError(`unknown command ${JSON.stringify(args.command)} (commands: run, serve, candles, verify, capacity, help)`)
  } catch (e) {
    if (e instanceof UsageError || (e instanceof LoadgenError && e.exitCode === EXIT_USAGE)) {
      io.stderr.write(redactor.redact(`ohlcv-loadgen: ${usageLine(e)}\n`))
      return EXIT_USAGE
    }
    io.stderr.write(redactor.redact(`ohlcv-loadgen: ${(e as Error).message}\n`))
    return EXIT_LOAD_FAILED
  }
}

async function run(args: ReturnType<typeof parseCommandLine>, io: Io, redactor: Redactor): Promise<number> {
  // Everything is validated before a thread starts: bad input never half-starts a load.
  const settings = readSettings(args.settings, io.env)
  const { resumeFrom } = args.run
  if (resumeFrom !== undefined && (Object.keys(args.request).length > 0 || args.run.requestFile !== undefined)) {
    throw new UsageError('--resume-from takes the request and seed from the account file: drop the load options')
  }
  const prepared = await prepareRun({
    ...(resumeFrom === undefined ? { request: await requestOf(args) } : { resumeFrom }),
    settings,
    env: io.env,
    ...(args.run.accountFile !== undefined ? { accountFile: args.run.accountFile } : {}),
  })
  const { spec, sink, partition } = prepared
  if (sink.kind === 'influx-v3') {
    const warning = (await import('../influx/v3.js')).v3BatchWarning(spec)
    if (warning) io.stderr.write(`ohlcv-loadgen: warning: ${warning}\n`)
  }
  // a fresh load into a range another one wrote: said, never refused (a resume writes there on purpose)
  if (resumeFrom === undefined && partition.count === 1 && (await rangeOccupied(sink, spec))) io.stderr.write(`ohlcv-loadgen: warning: ${occupiedWarning(spec)}\n`)
  const port = metricsPort(settings)
  const dataOnStdout = sink.kind === 'file' && sink.out === '-'
  if (dataOnStdout && args.json) throw new UsageError('--json cannot share stdout with --sink file --out -; give --out a path')
  const logger = commandLogger(args, io, redactor)
  const out = dataOnStdout ? io.stderr : io.stdout
  const mode = progressMode(settings, args.json, io.stderr === process.stderr && process.stderr.isTTY)
  if (prepared.ownsNone) {
    io.stderr.write(`ohlcv-loadgen: partition ${describePartition(partition)} owns no shard: the load has ${prepared.shardCount} shard(s), and only shards with shard % ${partition.count} == ${partition.index} are its; nothing to write\n`)
  }

  let crashed = () => false
  let poolOf: (() => ReturnType<ShardPool['stats']>) | undefined
  const registry = port !== undefined ? new (await import('prom-client')).Registry() : undefined
  const metrics = registry ? new (await import('../metrics/metrics.js')).Metrics(registry, () => poolOf?.()) : undefined
  const { report, load, resumable, accountPath, accountNote } = await executeRun(prepared, {
    log: logger,
    redact: (text) => redactor.redact(text),
    ...(metrics ? { metrics } : {}),
    // What only the command line has around a load: progress on stderr, /metrics, signals, and
    // what a bug does.
    started: async (load, pool) => {
      poolOf = () => pool.stats()
      metrics?.watch(load)
      const metricsServer = registry && port !== undefined ? await serveMetrics(registry, settings.host ?? '127.0.0.1', port, load) : undefined
      const hideProgress = showProgress(load, io.stderr, mode)
      // A terminal that went away (SIGHUP) makes writes to it fail: the account file matters more.
      const ignore = () => {}
      process.stdout.on('error', ignore)
      process.stderr.on('error', ignore)
      // Every signal that ends the load still ends with its account: the first stops after the
      // writes in flight; the second abandons them (they count failed, in doubt) and the account is
      // written at once; only a third quits without one. SIGHUP is an ssh session dropping.
      let signals = 0
      const onSignal = (signal: NodeJS.Signals) => {
        signals++
        if (signals === 1) {
          io.stderr.write(`ohlcv-loadgen: ${signal}: stopping after the writes in flight (again to stop without waiting for them)\n`)
          load.cancel()
        } else if (signals === 2) {
          io.stderr.write(`ohlcv-loadgen: ${signal}: not waiting for the writes in flight (they count as failed: the database may hold them, a resume writes them again); writing the account (again to quit without it)\n`)
          load.abandonInFlight()
        } else {
          process.exit(EXIT_INTERRUPTED)
        }
      }
      const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const
      for (const sig of SIGNALS) process.on(sig, onSignal)
      // After a bug the load stops without waiting for its writes and ends the usual way (account
      // file, summary), then exits 1; if that way is stuck, the process exits after 5 s anyway.
      const crash = onCrash(async (err) => {
        io.stderr.write(redactor.redact(`ohlcv-loadgen: internal error, stopping: ${crashMessage(err)}; account so far: ${JSON.stringify(load.account())}\n`))
        load.abandonInFlight()
      }, false)
      crashed = () => crash.crashed()
      return async () => {
        hideProgress()
        crash.off()
        for (const sig of SIGNALS) process.off(sig, onSignal)
        await metricsServer?.close()
      }
    },
  })

  const result = report
  const reportNote = args.run.report !== undefined ? await writeReport(args.run.report, load, describeSink(sink), prepared.poolSize) : ''
  if (args.json) {
    out.write(redactor.redact(`${JSON.stringify(report)}\n`))
    if (reportNote) io.stderr.write(reportNote)
  } else {
    out.write(redactor.redact(
      `load ${result.status}: ${n(result.pointsWritten)} points written of ${n(result.pointsPlanned)} planned ` +
        `(${n(result.pointsFailed)} failed, ${result.pointsInDoubt > 0 ? `${n(result.pointsInDoubt)} in doubt, ` : ''}${n(result.pointsUnsent)} unsent) in ${(result.durationMs / 1000).toFixed(2)} s, ` +
        `${n(result.pointsPerSecond)} points/s${result.attempts.length > 1 ? ` over ${result.attempts.length} attempts` : ''}\n` +
        attemptLine(result) +
        `seed ${JSON.stringify(spec.seed)}, ${spec.from} .. ${spec.to}, ${n(load.shardCount)} shard${load.shardCount === 1 ? '' : 's'}` +
        (partition.count > 1 ? ` (partition ${describePartition(partition)}: ${n(result.shardsTotal)} of them)` : '') +
        `, pool ${prepared.poolSize}, ` +
        `batch ${spec.batchSize}, sink ${Object.values(describeSink(sink)).join(' ')}\n` +
        (result.retries > 0 || result.batchesSplit > 0 ? retriesLine(result) : '') +
        degradedLine(result) +
        paceLine(result) +
        (result.error ? `error: ${result.error.message}\n` : '') +
        accountNote +
        reportNote +
        (resumable && accountPath ? `account in ${accountPath}; resume with: ohlcv-loadgen run --resume-from ${accountPath}\n` : ''),
    ))
  }
  if (crashed()) return EXIT_LOAD_FAILED
  if (result.status === 'succeeded') return EXIT_OK
  return result.status === 'cancelled' ? EXIT_INTERRUPTED : EXIT_LOAD_FAILED
}

/**
 * `run --report FILE`: the load as the console's self-contained report. A report that cannot be
 * written is said in the summary; it never changes the load's outcome or exit code.
 */
async function writeReport(path: string, load: LoadRun, sink: Record<string, string>, poolSize: number): Promise<string> {
  const [{ loadView }, { renderReport, environment }] = await Promise.all([import('../api/loads.js'), import('../report/report.js')])
  const html = renderReport(loadView(load, sink), load.timeline.view(), environment(poolSize))
  if (html === undefined) return 'report not written: the web console is not built (npm run build)\n'
  return `${await writeOutput(path, html, 'report')}\n`
}

/** A command's logger on stderr: `--log-level`, else LOG_LEVEL, else warn (one checked line if unknown). */
function commandLogger(args: ReturnType<typeof parseCommandLine>, io: Io, redactor: Redactor) {
  const level = args.settings.logLevel ?? io.env.LOG_LEVEL ?? 'warn'
  if (!(LOG_LEVELS as readonly string[]).includes(level)) throw new UsageError(`invalid --log-level: ${level}`)
  return createLogger(level as LogLevel, process.stderr, redactor)
}

/** The request: from `--request FILE` (a POST /loads body) with load flags over it, or the flags alone. */
async function requestOf(args: ReturnType<typeof parseCommandLine>): Promise<Record<string, unknown>> {
  const path = args.run.requestFile
  if (path === undefined) return args.request
  const body = await readJsonFile(path, (why) => {
    throw new UsageError(`invalid --request: ${why}`)
  })
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new UsageError(`invalid --request: ${path} must hold a JSON object (the POST /loads body)`)
  return { ...(body as Record<string, unknown>), ...args.request }
}

/**
 * `run --metrics-port`: /metrics for Prometheus while the load runs (a Kubernetes Job's pods are
 * scraped through annotations). Plain node:http: one route, no framework needed.
 */
async function serveMetrics(registry: Registry, host: string, port: number, load: LoadRun): Promise<{ close(): Promise<void> }> {
  const server = createServer((req, res) => {
    if (req.url?.split('?')[0] !== '/metrics') {
      res.writeHead(404).end()
      return
    }
    registry.metrics().then(
      (text) => res.writeHead(200, { 'content-type': registry.contentType }).end(text),
      () => res.writeHead(500).end(),
    )
  })
  const { Gauge } = await import('prom-client')
  new Gauge({ name: 'ohlcv_run_points_planned', help: 'Points this run (partition) plans to write.', registers: [registry], collect() { this.set(load.account().pointsPlanned) } })
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(port, host, resolve))
  return { close: () => new Promise<void>((r) => server.close(() => r())) }
}

const n = (x: number) => x.toLocaleString('en-US')

/** A resumed load: what this attempt did on its own, beside the totals of the first line. */
function attemptLine(result: LoadResult): string {
  if (result.attempts.length < 2) return ''
  const a = result.attempts[result.attempts.length - 1]!
  const pps = a.durationMs > 0 ? Math.round(a.pointsWritten / (a.durationMs / 1000)) : 0
  return `this attempt (${result.attempts.length} of ${result.attempts.length}): ${n(a.pointsWritten)} points written in ${(a.durationMs / 1000).toFixed(2)} s, ${n(pps)} points/s\n`
}

/** Retries, splits and circuit opens, in total and, for a resumed load, in this attempt. */
function retriesLine(result: LoadResult): string {
  const opens = result.attempts.reduce((t, a) => t + a.circuitOpens, 0)
  const last = result.attempts[result.attempts.length - 1]
  const total = `${n(result.retries)} retries, ${n(result.batchesSplit)} batches split (413), circuit opened ${n(opens)} time(s)`
  if (result.attempts.length < 2 || !last) return `${total}\n`
  return `in all ${result.attempts.length} attempts: ${total}; this attempt: ${n(last.retries)} retries, circuit opened ${n(last.circuitOpens)} time(s)\n`
}

/** An error's message and where it came from, in one line (no stack trace for users). */
function crashMessage(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err)
}

/**
 * A bug must not end the process silently or with only a stack trace: on an uncaught exception or
 * unhandled rejection, `stop` says what it can (the account so far) and stops the workers, then
 * the process exits 1; if stopping hangs, it exits after 5 s anyway. Returns the unregistration.
 */
function onCrash(stop: (err: unknown) => Promise<void>, exitWhenStopped = true): { off(): void; crashed(): boolean } {
  let crashed = false
  const handler = (err: unknown) => {
    if (crashed) return
    crashed = true
    setTimeout(() => process.exit(EXIT_LOAD_FAILED), 5000).unref()
    stop(err).then(
      () => exitWhenStopped && process.exit(EXIT_LOAD_FAILED),
      () => process.exit(EXIT_LOAD_FAILED),
    )
  }
  process.on('uncaughtException', handler)
  process.on('unhandledRejection', handler)
  return {
    off() {
      process.off('uncaughtException', handler)
      process.off('unhandledRejection', handler)
    },
    crashed: () => crashed,
  }
}

/** A paced load: whether it kept its rate (the last attempt's), as a capacity step is judged. */
function paceLine(result: LoadResult): string {
  const p = result.attempts.at(-1)?.pace
  if (!p) return ''
  const share = p.achievedPointsPerSecond / p.targetPointsPerSecond
  const kept = share >= 0.99 ? 'kept it' : 'fell behind'
  return `paced at ${n(p.targetPointsPerSecond)} points/s: ${kept}, ${n(p.achievedPointsPerSecond)} points/s taken (${(share * 100).toFixed(1)} %), writes ${(p.lagGrowthMs / 1000).toFixed(2)} s later at the end than at the start\n`
}

/** Says how long the server's overload held the load back, if it did. */
function degradedLine(result: LoadResult): string {
  const c = result.writeConcurrency
  if (c.degradedMs <= 0 && c.lowest >= c.max) return ''
  return `ran degraded for ${(c.degradedMs / 1000).toFixed(1)} s: the server signalled overload, writes in flight went down to ${c.lowest} of ${c.max}\n`
}

async function serve(args: ReturnType<typeof parseCommandLine>, io: Io, redactor: Redactor): Promise<number> {
  if (Object.keys(args.request).length > 0) throw new UsageError('load options belong to `run`; serve takes loads over HTTP (POST /loads)')
  const config = serveConfig(readSettings(args.settings, io.env))
  const logger = createLogger(config.logLevel, undefined, redactor)
  const [{ Registry }, { Metrics }, { buildApp }, { LoadManager }, { LoadStore }] = await Promise.all([
    import('prom-client'),
    import('../metrics/metrics.js'),
    import('../api/app.js'),
    import('../load/manager.js'),
    import('../store/loadStore.js'),
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
    let stopping = false
    const stop = (signal: string) => {
      if (stopping) {
        logger.warn({ signal }, 'second signal: cancelling running loads now')
        void manager.stopAll()
        return
      }
      stopping = true
      manager.drain()
      logger.info({ signal, running: manager.runningCount, graceMs: config.shutdownGraceMs }, 'shutting down: no new loads')
      void (async () => {
        if (!(await manager.waitForRunning(config.shutdownGraceMs))) logger.warn('grace period over: cancelling running loads')
        await manager.stopAll()
        manager.close()
        await app.close()
        await pool.close()
        logger.info('shut down')
        process.off('SIGINT', onInt)
        process.off('SIGTERM', onTerm)
        resolve(EXIT_OK)
      })()
    }
    const onInt = () => stop('SIGINT')
    const onTerm = () => stop('SIGTERM')
    process.on('SIGINT', onInt)
    process.on('SIGTERM', onTerm)
  })
}

async function candles(args: ReturnType<typeof parseCommandLine>, io: Io): Promise<number> {
  const { symbol, interval } = args.query
  if (!symbol) throw new UsageError('candles needs --symbol')
  if (!new RegExp(SYMBOL_PATTERN).test(symbol)) throw new UsageError(`invalid --symbol: must match ${SYMBOL_PATTERN}`)
  const from = args.request.from
  const to = args.request.to
  if (typeof from !== 'string' || typeof to !== 'string') throw new UsageError('candles needs --from and --to')
  const measurement = typeof args.request.measurement === 'string' ? args.request.measurement : DEFAULT_MEASUREMENT
  const [{ candleRange }, { writeCandlesJson, writeCandlesTable }] = await Promise.all([import('../candles/candle.js'), import('./candleOutput.js')])
  // no cap on the count: the database is read window by window and each window written out in turn
  const range = candleRange({ from, to, ...(interval ? { interval } : {}) }, Infinity)
  const settings = readSettings(args.settings, io.env)
  const printer = args.json ? writeCandlesJson : writeCandlesTable
  let written: number
  if (args.query.regenerate) {
    // The load's own options and seed say what the database should hold; no database needed.
    if (args.request.seed === undefined) throw new UsageError('candles --regenerate needs the --seed of the load')
    const spec = normalizeRequest(validateLoadRequest(args.request), normalizeContext)
    const j = spec.symbols.indexOf(symbol)
    if (j < 0) throw new UsageError(`invalid --symbol: ${symbol} is not one of the load's --symbols`)
    const pool = new ShardPool(poolSize(settings))
    const { expectedCandles } = await import('../candles/verify.js')
    const regenerated = (await expectedCandles(spec, pool, range.intervalMs, [j]).finally(() => pool.close())).get(j) ?? []
    written = await printer(async function* () { yield regenerated }, tickDecimals(spec.market.tickSize), io.stdout)
  } else {
    const { CandleReader } = await import('../candles/query.js')
    const reader = new CandleReader(sinkConfig(settings))
    const q = { measurement, symbol, ...range }
    written = await printer(() => reader.candleWindows(q, MAX_TICK_DECIMALS), MAX_TICK_DECIMALS, io.stdout).finally(() => reader.close())
  }
  if (written === 0) {
    io.stderr.write(`ohlcv-loadgen: no trades of ${symbol} in ${measurement} between ${from} and ${to}\n`)
    return EXIT_LOAD_FAILED
  }
  return EXIT_OK
}

async function verify(args: ReturnType<typeof parseCommandLine>, io: Io): Promise<number> {
  if (args.query.capacity !== undefined) return verifyCapacitySearch(args, io)
  const input = await requestOf(args)
  const spec = normalizeRequest(validateLoadRequest(input), normalizeContext)
  if (input.seed === undefined) throw new UsageError('verify needs the --seed the load was made with')
  const text = args.query.interval ?? '1m'
  const [{ parseInterval }, { verifyLoad }] = await Promise.all([import('../candles/candle.js'), import('../candles/verify.js')])
  const interval = { text, ms: parseInterval('interval', text) }
  const settings = readSettings(args.settings, io.env)
  const sink = sinkConfig(settings)
  const partition = await resolvePartition(settings, io.env)
  if (partition.count > 1) requireFixedLoad(input, 'verify of a partition')
  const pool = new ShardPool(poolSize(settings))
  let report
  try {
    report = await verifyLoad(spec, sink, pool, interval, partition)
  } finally {
    await pool.close()
  }
  if (args.json) {
    io.stdout.write(`${JSON.stringify({ ...report, datasetFormat: DATASET_FORMAT })}\n`)
  } else {
    const n = (x: number) => x.toLocaleString('en-US')
    io.stdout.write(
      report.ok
        ? `verify ok${partition.count > 1 ? ` (partition ${describePartition(partition)})` : ''}: ${n(report.pointsFound)} points in ${n(report.symbols)} symbols, ${n(report.candlesCompared)} candles (${text}) identical to the regenerated dataset\n`
        : `verify found ${n(report.differencesTotal)} difference(s): ${n(report.pointsFound)} points found, ${n(report.pointsExpected)} expected ` +
            `(${verifyHint(report, DATASET_FORMAT)})\n`,
    )
    for (const d of report.differences) {
      io.stdout.write(`  ${d.symbol}${d.time ? ` ${d.time}` : ''} ${d.field}: expected ${d.expected}, found ${d.found}\n`)
    }
    // a cut-short list says so: the first N of the total, so nobody takes the list for all of them
    if (report.differencesTotal > report.differences.length) io.stdout.write(`  (the first ${n(report.differences.length)} of ${n(report.differencesTotal)} differences listed)\n`)
  }
  return report.ok ? EXIT_OK : EXIT_LOAD_FAILED
}

/** `verify --capacity FILE`: every slice a capacity search wrote, against the database. */
async function verifyCapacitySearch(args: ReturnType<typeof parseCommandLine>, io: Io): Promise<number> {
  const path = args.query.capacity!
  const given = [...Object.keys(args.request), ...(args.run.requestFile !== undefined ? ['request'] : [])]
  if (given.length > 0) throw new UsageError(`verify --capacity takes the load from ${path}: drop --${given[0]!.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`)
  const output = await readJsonFile(path, (why) => {
    throw new UsageError(`invalid --capacity: ${why}`)
  })
  const [{ parseInterval }, { capacityDataset, verifyCapacity }] = await Promise.all([import('../candles/candle.js'), import('../capacity/verify.js')])
  let dataset
  try {
    dataset = capacityDataset(output, normalizeContext)
  } catch (e) {
    if (e instanceof UsageError) throw new UsageError(`invalid --capacity ${path}: ${e.message}`)
    throw e
  }
  const text = args.query.interval ?? '1m'
  const interval = { text, ms: parseInterval('interval', text) }
  const settings = readSettings(args.settings, io.env)
  const partition = await resolvePartition(settings, io.env)
  if (partition.count > 1) throw new UsageError('verify --capacity checks the whole search: drop --partition')
  const pool = new ShardPool(poolSize(settings))
  let report
  try {
    report = await verifyCapacity(dataset, sinkConfig(settings), pool, interval)
  } finally {
    await pool.close()
  }
  if (args.json) {
    io.stdout.write(`${JSON.stringify({ ...report, datasetFormat: DATASET_FORMAT })}\n`)
    return report.ok ? EXIT_OK : EXIT_LOAD_FAILED
  }
  const n = (x: number) => x.toLocaleString('en-US')
  const steps = report.slices.filter((s) => s.kind === 'step').length
  const what = `${n(report.slices.length)} slices (${n(steps)} steps, ${n(report.slices.length - steps)} warm-ups)`
  if (report.ok) {
    io.stdout.write(`verify ok: capacity search, ${what}, ${n(report.pointsFound)} points identical to the regenerated dataset (seed ${JSON.stringify(report.seed)})\n`)
    return EXIT_OK
  }
  const bad = report.slices.filter((s) => !s.report.ok)
  io.stdout.write(`verify found ${n(report.differencesTotal)} difference(s) in ${n(bad.length)} of ${what}: ${n(report.pointsFound)} points found, ${n(report.pointsExpected)} expected\n`)
  let step = 0
  for (const s of report.slices) {
    if (s.kind === 'step') step++
    if (s.report.ok) continue
    io.stdout.write(`  ${s.kind === 'step' ? `step ${step}` : `warm-up before step ${step + 1}`} (${s.from} .. ${s.to}, ${n(s.trades)} trades): ${n(s.report.pointsFound)} points found\n`)
    for (const d of s.report.differences.slice(0, 5)) io.stdout.write(`    ${d.symbol}${d.time ? ` ${d.time}` : ''} ${d.field}: expected ${d.expected}, found ${d.found}\n`)
    if (s.report.differencesTotal > 5) io.stdout.write(`    ... and ${n(s.report.differencesTotal - 5)} more\n`)
  }
  return EXIT_LOAD_FAILED
}
