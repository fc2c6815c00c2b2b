import { metricsPort, progressMode } from '../../config.js'
import { readSettings } from '../../settings.js'
import { executeRun, prepareRun } from '../../app/runLoad.js'
import { UsageError } from '../../errors.js'
import type { LoadRun } from '../../load/run.js'
import { describePartition } from '../../partition/partition.js'
import type { Redactor } from '../../secrets.js'
import { occupiedWarning, rangeOccupied } from '../../sink/occupied.js'
import { describeSink } from '../../sink/target.js'
import type { PoolStats } from '../../app/pool.js'
import type { ParsedArgs } from '../args.js'
import { EXIT_INTERRUPTED, EXIT_LOAD_FAILED, EXIT_OK, type Io } from '../exit.js'
import { runSummary } from '../format.js'
import { serveMetrics } from '../metricsServer.js'
import { writeOutput } from '../outputFile.js'
import { showProgress } from '../progress.js'
import { commandLogger, requestOf } from '../request.js'
import { crashMessage, onCrash, onSignals } from '../signals.js'

/** `ohlcv-loadgen run`: one load in this process, its progress on stderr, its summary (or `--json`) at the end. */
export async function runCommand(args: ParsedArgs, io: Io, redactor: Redactor): Promise<number> {
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
    const warning = (await import('../../influx/v3.js')).v3BatchWarning(spec)
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
  let poolOf: (() => PoolStats) | undefined
  const registry = port !== undefined ? new (await import('prom-client')).Registry() : undefined
  const metrics = registry ? new (await import('../../metrics/metrics.js')).Metrics(registry, () => poolOf?.()) : undefined
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
      // written at once; only a third quits without one.
      const offSignals = onSignals([
        (signal) => {
          io.stderr.write(`ohlcv-loadgen: ${signal}: stopping after the writes in flight (again to stop without waiting for them)\n`)
          load.cancel()
        },
        (signal) => {
          io.stderr.write(`ohlcv-loadgen: ${signal}: not waiting for the writes in flight (they count as failed: the database may hold them, a resume writes them again); writing the account (again to quit without it)\n`)
          load.abandonInFlight()
        },
        () => process.exit(EXIT_INTERRUPTED),
      ])
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
        offSignals()
        await metricsServer?.close()
      }
    },
  })

  const reportNote = args.run.report !== undefined ? await writeReport(args.run.report, load, describeSink(sink), prepared.poolSize) : ''
  if (args.json) {
    out.write(redactor.redact(`${JSON.stringify(report)}\n`))
    if (reportNote) io.stderr.write(reportNote)
  } else {
    out.write(redactor.redact(runSummary(report, {
      seed: spec.seed,
      from: spec.from,
      to: spec.to,
      batchSize: spec.batchSize,
      shardCount: load.shardCount,
      ...(partition.count > 1 ? { partition: describePartition(partition) } : {}),
      poolSize: prepared.poolSize,
      sink: describeSink(sink),
      accountNote,
      reportNote,
      ...(resumable && accountPath ? { resumeFrom: accountPath } : {}),
    })))
  }
  if (crashed()) return EXIT_LOAD_FAILED
  if (report.status === 'succeeded') return EXIT_OK
  return report.status === 'cancelled' ? EXIT_INTERRUPTED : EXIT_LOAD_FAILED
}

/**
 * `run --report FILE`: the load as the console's self-contained report. A report that cannot be
 * written is said in the summary; it never changes the load's outcome or exit code.
 */
async function writeReport(path: string, load: LoadRun, sink: Record<string, string>, poolSize: number): Promise<string> {
  const [{ loadView }, { renderReport, environment }] = await Promise.all([import('../../api/loads.js'), import('../../report/report.js')])
  const html = renderReport(loadView(load, sink), load.timeline.view(), environment(poolSize))
  if (html === undefined) return 'report not written: the web console is not built (npm run build)\n'
  return `${await writeOutput(path, html, 'report')}\n`
}
