import { randomBytes } from 'node:crypto'
import type { Logger } from 'pino'
import type { Metrics } from '../metrics/metrics.js'
import { checkTradesLimit } from '../load/limits.js'
import { loadLimits, loadOptions, LOG_LEVELS, partitionSource, poolSize, sinkConfig, type LogLevel } from '../config.js'
import { readSettings, SETTINGS, type RawSettings, type SettingName } from '../settings.js'
import { ConfigError, UsageError } from '../errors.js'
import { createLogger } from '../log.js'
import { DATASET_FORMAT } from '../market/dataset.js'
import { describePartition, ownedCount, parsePartition, type Partition } from '../partition/partition.js'
import { planLoad } from '../plan/plan.js'
import { normalizeRequest, type NormalizeContext } from '../request/normalize.js'
import type { LoadSpec } from '../model/request.js'
import { validateLoadRequest } from '../request/validate.js'
import { describeSink, type SinkConfig } from '../sink/target.js'
import type { ShardPool } from '../../workers/pool.js'
import { withPool } from './pool.js'
import { ACCOUNT_FORMAT, lockAccountFile, readAccountFile, writeAccountFileSomewhere } from '../load/accountFile.js'
import { LoadRun, type LoadOptions } from '../load/run.js'
import { canResume, resumeBlocker } from '../load/resumable.js'
import type { LoadResult } from '../model/account.js'

/**
 * One load from a request to its report, in this process: what `run` does, and what a program gets
 * from `import { runLoad } from 'ohlcv-loadgen'`. Validation happens before any thread starts, so
 * bad input never half-starts a load; the account file is written when asked, and always when a
 * load into InfluxDB does not finish, so it can be resumed.
 */

/** Defaults that depend on the moment: `to` is now, the seed is random (and reported). */
export const normalizeContext: NormalizeContext = { now: () => Date.now(), newSeed: () => randomBytes(6).toString('hex') }

interface RunInput {
  /** the POST /loads body; absent with `resumeFrom` (the account file holds it) */
  request?: Record<string, unknown>
  /** settings as strings, flags over environment over defaults (readSettings) */
  settings: RawSettings
  /** where JOB_COMPLETION_INDEX (a Kubernetes Indexed Job) is read from */
  env?: NodeJS.ProcessEnv
  accountFile?: string
  resumeFrom?: string
}

/** Everything a run needs, validated. */
interface PreparedRun {
  spec: LoadSpec
  sink: SinkConfig
  partition: Partition
  options: LoadOptions
  poolSize: number
  shardCount: number
  /** a partition that owns no shard of the load */
  ownsNone: boolean
  saved: Awaited<ReturnType<typeof readAccountFile>> | undefined
  accountFile: string | undefined
  resumeFrom: string | undefined
  /** the request as given (partitions need a fixed one) */
  request: Record<string, unknown>
}

/** Validates a run's input; throws UsageError, InvalidRequestError or ConfigError (exit 2). */
export async function prepareRun(input: RunInput): Promise<PreparedRun> {
  const { settings, resumeFrom } = input
  const sink = sinkConfig(settings)
  const saved = resumeFrom === undefined ? undefined : await readAccountFile(resumeFrom)
  const request = saved ? saved.request : (input.request ?? {})
  const spec = normalizeRequest(validateLoadRequest(request), normalizeContext)
  checkTradesLimit(spec, loadLimits(settings).maxTradesPerLoad)
  const partition = saved?.partition ?? (await resolvePartition(settings, input.env ?? {}))
  if (saved?.partition && settings.partition !== undefined && describePartition(parsePartition(settings.partition, 'partition')) !== describePartition(saved.partition)) {
    throw new UsageError(`--resume-from: the account is for partition ${describePartition(saved.partition)}, not ${settings.partition}`)
  }
  if (partition.count > 1 && !saved) requireFixedLoad(request, 'a partitioned run')
  if (saved) {
    if (resumeBlocker({ sinkKind: sink.kind })) throw new UsageError('--resume-from needs an InfluxDB (or null) sink: a file sink cannot be resumed, run the load again')
    const now = JSON.stringify(describeSink(sink))
    if (JSON.stringify(saved.sink) !== now) throw new UsageError(`--resume-from: the account is for sink ${JSON.stringify(saved.sink)}, the settings give ${now}`)
  }
  const shardCount = planLoad(spec).shardCount
  return {
    spec,
    sink,
    partition,
    options: loadOptions(settings, 'timeoutMs' in sink ? sink.timeoutMs : undefined),
    poolSize: poolSize(settings),
    shardCount,
    ownsNone: partition.count > 1 && ownedCount(partition, shardCount) === 0,
    saved,
    accountFile: input.accountFile,
    resumeFrom,
    request,
  }
}

/**
 * Partitions (and verify of one) must plan the very same load on every machine: a default seed is
 * random and a default range ends "now", so both must be given.
 */
export function requireFixedLoad(input: Record<string, unknown>, what: string): void {
  if (input.seed === undefined) throw new UsageError(`${what} needs --seed: every partition must plan the same load`)
  if (input.to === undefined && input.from === undefined) throw new UsageError(`${what} needs --to or --from: a default range ends "now", which differs from machine to machine`)
}

export async function resolvePartition(settings: RawSettings, env: NodeJS.ProcessEnv): Promise<Partition> {
  const source = partitionSource(settings, env)
  if (source.kind === 'fixed') return source.partition
  const { partitionFromDns } = await import('../partition/dns.js')
  return partitionFromDns(source.service, source.count)
}

/** What `run --json` prints, and what runLoad resolves to. */
export interface RunReport extends LoadResult {
  seed: string | number
  datasetFormat: number
  from: string
  to: string
  poolSize: number
  batchSize: number
  sink: Record<string, string>
  partition: Partition
  /** set when this partition owns no shard of the load */
  partitionOwnsNoShard?: true
  /** what the run cost this process: CPU (every thread) from start-up and while loading, peak RSS */
  client: { cpuSeconds: number; cpuMicrosPerPoint: number; loadCpuSeconds: number; loadCpuMicrosPerPoint: number; peakRssMb: number }
  /** where the account went, when one was written */
  accountFile?: string
}

interface RunHooks {
  log: Logger
  /** counts the load's progress (run --metrics-port) */
  metrics?: Metrics
  /** masks secrets in what is written to the account file */
  redact?: (text: string) => string
  /**
   * Called once the load and its pool exist, before it runs (progress display, metrics, signal
   * handlers); what it returns is called once the load has ended.
   */
  started?: (load: LoadRun, pool: ShardPool) => Promise<() => Promise<void> | void> | (() => Promise<void> | void)
  /** cancels the load: it stops after its writes in flight, with an exact account */
  signal?: AbortSignal
}

interface RunOutcome {
  report: RunReport
  load: LoadRun
  /** the load did not finish and can be resumed from its account file */
  resumable: boolean
  /** where the account file went, if one was written */
  accountPath: string | undefined
  /** why the account file is not where it was asked for (the working directory could not take it) */
  accountNote: string
}

/** Runs a prepared load on a pool of its own; never rejects for a failed load (the report says). */
export async function executeRun(p: PreparedRun, hooks: RunHooks): Promise<RunOutcome> {
  const { spec, sink, partition } = p
  const redact = hooks.redact ?? ((s: string) => s)
  // Lock the account file before anything runs: two runs resuming one file would both write it.
  const lockedPath = p.accountFile ?? p.resumeFrom
  let unlock = async () => {}
  /** CPU of the whole process (every thread) while the load ran: what it cost the machine per point */
  let loadCpu: NodeJS.CpuUsage | undefined
  const { load, result } = await withPool(p.poolSize, async (pool) => {
    const load = new LoadRun({ id: 'cli', spec, sink, pool, log: hooks.log, options: p.options, partition, ...(hooks.metrics ? { metrics: hooks.metrics } : {}) })
    if (p.saved) load.restore(p.saved.shards)
    if (lockedPath !== undefined) unlock = await lockAccountFile(lockedPath)
    if (p.saved) load.restoreAttempts(p.saved.attempts)
    let ended: (() => Promise<void> | void) | undefined
    try {
      ended = await hooks.started?.(load, pool)
      // compiled generator before the clock starts: the load's first shards run at full speed
      await pool.warm()
      loadCpu = process.cpuUsage()
      // an abort before now (during start-up or warm-up) cancels the load as it begins
      const result: LoadResult = await load.run({ signal: hooks.signal })
      loadCpu = process.cpuUsage(loadCpu)
      return { load, result }
    } finally {
      // the display and signal handlers go before the pool closes
      await ended?.()
    }
  })

  // The account file: where asked, and always when an InfluxDB load did not finish, so it can be
  // resumed. Where the working directory cannot be written, it goes to the temporary directory.
  const resumable = canResume(result.status, sink.kind)
  const wanted = p.accountFile ?? p.resumeFrom ?? (resumable ? defaultAccountPath(spec.seed) : undefined)
  let accountPath: string | undefined
  let accountNote = ''
  if (wanted !== undefined) {
    const { fromMs: _f, toMs: _t, ...request } = spec
    try {
      const written = await writeAccountFileSomewhere(wanted, {
        format: ACCOUNT_FORMAT,
        dataset: DATASET_FORMAT,
        request,
        sink: describeSink(sink),
        status: result.status,
        partition,
        account: load.account(),
        attempts: load.attempts,
        ...(result.error ? { error: { code: result.error.code, message: redact(result.error.message) } } : {}),
        shards: load.shardResults(),
      })
      accountPath = written.path
      if (written.moved) accountNote = `${written.moved}: the account is in ${written.path} instead\n`
    } catch (e) {
      accountNote = `could not write the account file anywhere (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); the account is above\n`
    }
  }
  await unlock()

  // What the generator cost: the whole process (every thread), user + system, from start-up to
  // now and while the load ran (start-up and warm-up left out), and its peak RSS.
  const cpu = process.cpuUsage()
  const seconds = (c: NodeJS.CpuUsage) => (c.user + c.system) / 1e6
  const perPoint = (s: number) => (result.pointsWritten > 0 ? Math.round((s * 1e6 * 1000) / result.pointsWritten) / 1000 : 0)
  const report: RunReport = {
    ...result,
    seed: spec.seed,
    datasetFormat: DATASET_FORMAT,
    from: spec.from,
    to: spec.to,
    poolSize: p.poolSize,
    batchSize: spec.batchSize,
    sink: describeSink(sink),
    partition,
    ...(p.ownsNone ? { partitionOwnsNoShard: true as const } : {}),
    client: {
      cpuSeconds: Math.round(seconds(cpu) * 1000) / 1000,
      cpuMicrosPerPoint: perPoint(seconds(cpu)),
      loadCpuSeconds: loadCpu ? Math.round(seconds(loadCpu) * 1000) / 1000 : 0,
      loadCpuMicrosPerPoint: loadCpu ? perPoint(seconds(loadCpu)) : 0,
      peakRssMb: Math.round(process.resourceUsage().maxRSS / 1024),
    },
    ...(accountPath ? { accountFile: accountPath } : {}),
  }
  return { report, load, resumable, accountPath, accountNote }
}

/** ohlcv-loadgen-<seed>.account.json in the working directory, the seed made file-name safe. */
function defaultAccountPath(seed: string | number): string {
  return `ohlcv-loadgen-${String(seed).replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 64)}.account.json`
}

/** The settings a program passes: the CLI's, in camelCase, as strings, numbers or booleans. */
export type RunSettings = { [K in SettingName]?: string | number | boolean } & {
  /** cancels the load (it stops after its writes in flight; the report is exact) */
  signal?: AbortSignal
  /** write the account file here (always written when an InfluxDB load does not finish) */
  accountFile?: string
  /** resume the load an account file describes (then `request` must be empty) */
  resumeFrom?: string
}

/**
 * The programmatic API: `await runLoad({ trades: 1_000_000, seed: 42 }, { sink: 'null' })`. The
 * request is the POST /loads body; settings are the CLI's in camelCase (`influxUrl`, `influxApi`,
 * `db`, `poolSize`, ...), defaults as the CLI has them, and no environment variable is read.
 * Resolves to what `run --json` prints; bad input rejects with an error whose `code` says what.
 */
export async function runLoad(request: Record<string, unknown> = {}, settings: RunSettings = {}): Promise<RunReport> {
  const { signal, accountFile, resumeFrom, ...rest } = settings
  const raw: RawSettings = {}
  for (const [name, value] of Object.entries(rest)) {
    if (!(name in SETTINGS)) throw new ConfigError(name, `is not a setting (settings: ${Object.keys(SETTINGS).join(', ')})`)
    if (value !== undefined) raw[name as SettingName] = String(value)
  }
  if (resumeFrom !== undefined && Object.keys(request).length > 0) throw new UsageError('--resume-from takes the request and seed from the account file: drop the load options')
  const prepared = await prepareRun({ request, settings: readSettings(raw, {}), ...(accountFile !== undefined ? { accountFile } : {}), ...(resumeFrom !== undefined ? { resumeFrom } : {}) })
  const level = raw.logLevel ?? 'silent'
  if (!(LOG_LEVELS as readonly string[]).includes(level)) throw new ConfigError('logLevel', `must be one of ${LOG_LEVELS.join(', ')} (got ${JSON.stringify(level)})`)
  const log = createLogger(level as LogLevel)
  const { report } = await executeRun(prepared, { log, ...(signal ? { signal } : {}) })
  return report
}
