import { randomUUID } from 'node:crypto'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import type { Logger } from 'pino'
import { capacityChart } from '../capacity/chart.js'
import { capacityOptions } from '../capacity/options.js'
import { capacityDataset, verifyCapacity } from '../capacity/verify.js'
import { runCapacity, type CapacityOptions, type CapacityReport, type CapacityStep } from '../capacity/run.js'
import { CapacityRunningError, InvalidRequestError, LoadgenError, LoadNotFoundError, toErrorInfo, TooManyStreamsError, UsageError } from '../errors.js'
import type { ErrorInfo } from '../model/errors.js'
import type { LoadManager } from '../load/manager.js'
import type { LoadOptions } from '../load/run.js'
import type { Metrics } from '../metrics/metrics.js'
import type { NormalizeContext } from '../request/normalize.js'
import { LoadRequestSchema } from '../model/request.js'
import { validateLoadRequest } from '../request/validate.js'
import type { SinkConfig } from '../sink/target.js'
import type { ShardPool } from '../../workers/pool.js'
import { openEventStream } from './events.js'
import { VerifyReportSchema, verifyInterval, verifyRoute } from './candles.js'
import { ErrorSchema } from '../model/errors.js'
import { LoadIdParams } from './schemas.js'

/** A capacity search of this coordinator, as GET /capacity/:id shows it. */
interface CapacityRun {
  id: string
  status: 'running' | 'done' | 'failed' | 'cancelled'
  options: CapacityOptions
  steps: CapacityStep[]
  /** the step running now */
  current?: number
  report?: CapacityReport
  error?: ErrorInfo
  createdAt: string
  stop: boolean
  listeners: Set<(event: string, data: unknown) => void>
}

const CapacityVerifySchema = Type.Object({
  ok: Type.Boolean(),
  seed: Type.Union([Type.String(), Type.Number()]),
  pointsExpected: Type.Integer(),
  pointsFound: Type.Integer(),
  differencesTotal: Type.Integer(),
  slices: Type.Array(
    Type.Object({ kind: Type.Union([Type.Literal('warmup'), Type.Literal('step')]), from: Type.String(), to: Type.String(), trades: Type.Integer(), report: VerifyReportSchema }),
    { description: 'every slice the search wrote, in order, with its own verify report' },
  ),
})

class BusyError extends LoadgenError {
  constructor(why: string) {
    super('OHLCV_LOAD_RUNNING', why)
  }
}

const Str = (description: string) => Type.Optional(Type.Union([Type.String({ maxLength: 32 }), Type.Number()], { description }))

const CapacityBody = Type.Object(
  {
    load: Type.Optional(Type.Omit(LoadRequestSchema, ['trades', 'ratePerSecond'], { description: 'what each step writes (trades and rate are the search\'s)' })),
    sloP99: Str('p99 write latency a step may have: 200ms, 1s, or ms as a number (required)'),
    sloP90: Str('p90 objective (optional)'),
    sloP50: Str('p50 objective (optional)'),
    maxErrorRate: Str('failed attempts / attempts: 0, 0.01 or "1%" (default 0)'),
    stepSeconds: Str('seconds each judged step writes (default 30)'),
    warmupSeconds: Str('unjudged seconds before each step (default 5)'),
    startRate: Str('points/s of the first step (default 10000)'),
    maxRate: Str('points/s never gone past (default 10000000)'),
    precision: Str('relative, e.g. "2%" or 0.02 (default 2%)'),
    deadline: Str('e.g. "15m" (default 15m)'),
  },
  { additionalProperties: false },
)

const FLAG: Record<string, string> = { sloP99: 'slo-p99', sloP90: 'slo-p90', sloP50: 'slo-p50', maxErrorRate: 'max-error-rate', stepSeconds: 'step-seconds', warmupSeconds: 'warmup-seconds', startRate: 'start-rate', maxRate: 'max-rate', precision: 'precision', deadline: 'deadline' }

/** Searches kept for GET; the oldest finished go first. */
const KEEP = 20

/**
 * POST /capacity: the capacity search of `ohlcv-loadgen capacity` in the coordinator, one at a
 * time and only while no load runs (it would share the pool and the sink, and measure both).
 * GET /capacity/:id, its events (one `step` per step, then `done`), its chart, DELETE to stop it
 * after the step running. Searches live in memory: they are not in the load store.
 */
export const capacityRoutes: FastifyPluginAsyncTypebox<{ manager: LoadManager; pool: ShardPool; sink: SinkConfig; options: LoadOptions; log: Logger; metrics?: Metrics; normalize: NormalizeContext; maxStreams: number }> = async (app, deps) => {
  const runs = new Map<string, CapacityRun>()
  // one search at a time, and no load beside it: it would share the pool and sink, and skew the steps
  const running = () => [...runs.values()].find((r) => r.status === 'running')
  deps.manager.holdLoadsWhile(() => {
    const r = running()
    return r ? new CapacityRunningError(r.id) : undefined
  })
  const view = (r: CapacityRun) => ({
    id: r.id,
    status: r.status,
    createdAt: r.createdAt,
    options: r.options,
    ...(r.current !== undefined ? { currentTargetPointsPerSecond: r.current } : {}),
    steps: r.steps,
    ...(r.report ? { sustainablePointsPerSecond: r.report.sustainablePointsPerSecond ?? null, confirmed: r.report.confirmed, ended: r.report.ended, seed: r.report.seed, load: r.report.load, slices: r.report.slices } : {}),
    ...(r.error ? { error: r.error } : {}),
    links: { self: `/capacity/${r.id}`, events: `/capacity/${r.id}/events`, chart: `/capacity/${r.id}/chart.svg`, verify: `/capacity/${r.id}/verify` },
  })
  type View = ReturnType<typeof view>
  const ViewSchema = Type.Unsafe<View>({
    type: 'object',
    additionalProperties: true,
    description: 'the search: id, status (running, done, failed, cancelled), options, steps [{ targetPointsPerSecond, achievedPointsPerSecond, p50Ms, p90Ms, p99Ms, errors, errorRate, clientCpu, hostCpu, passed, reasons, limitedBy? (generator, host or database), phase, request }], and once done sustainablePointsPerSecond (null: none), confirmed, ended, seed, load (the request every slice was written with) and slices [{ kind (warmup or step), from, to, trades }]',
  })
  const get = (id: string) => {
    const r = runs.get(id)
    if (!r) throw new LoadNotFoundError(id)
    return r
  }

  app.post('/capacity', { schema: { body: CapacityBody, response: { 202: ViewSchema, 400: ErrorSchema, 409: ErrorSchema } } }, async (req, reply) => {
    const flags: Record<string, string> = {}
    for (const [k, v] of Object.entries(req.body)) if (k !== 'load' && (typeof v === 'string' || typeof v === 'number')) flags[FLAG[k]!] = String(v)
    let options: CapacityOptions
    try {
      options = capacityOptions(flags)
    } catch (e) {
      if (!(e instanceof UsageError)) throw e
      // the CLI's words, in the body's names
      let message = e.message
      let field = ''
      for (const [k, f] of Object.entries(FLAG)) {
        if (message.includes(`--${f}`)) field ||= `body.${k}`
        message = message.replaceAll(`--${f}`, `body.${k}`)
      }
      throw new InvalidRequestError(field, message.replace(/^(invalid )?body\.\w+: /, ''))
    }
    const load = validateLoadRequest(req.body.load ?? {}, 'body.load') as Record<string, unknown>
    if (running()) throw new BusyError('a capacity search is running: wait for it, or DELETE it')
    if (deps.manager.runningCount > 0) throw new BusyError('loads are running: a capacity search would measure them too; wait for them to end')
    const run: CapacityRun = { id: randomUUID(), status: 'running', options, steps: [], createdAt: new Date().toISOString(), stop: false, listeners: new Set() }
    runs.set(run.id, run)
    for (const old of [...runs.values()].filter((r) => r.status !== 'running').slice(0, Math.max(0, runs.size - KEEP))) runs.delete(old.id)
    const emit = (event: string, data: unknown) => run.listeners.forEach((l) => l(event, data))
    deps.metrics?.capacityVerdict.set(-1)
    void runCapacity(load, options, {
      sink: deps.sink,
      pool: deps.pool,
      log: deps.log.child({ capacityId: run.id }),
      options: deps.options,
      normalize: deps.normalize,
      stopped: () => run.stop,
      onStepStart: (rate) => {
        run.current = rate
        deps.metrics?.capacityTarget.set(rate)
        deps.metrics?.capacityVerdict.set(-1)
      },
      onStep: (step) => {
        run.steps.push(step)
        deps.metrics?.capacityVerdict.set(step.passed ? 1 : 0)
        emit('step', step)
      },
    }).then(
      (report) => {
        run.report = report
        run.status = run.stop ? 'cancelled' : 'done'
        delete run.current
        deps.metrics?.capacitySustainable.set(report.sustainablePointsPerSecond ?? 0)
        emit('done', view(run))
      },
      (e: unknown) => {
        run.status = 'failed'
        run.error = toErrorInfo(e)
        delete run.current
        emit('done', view(run))
      },
    )
    return reply.code(202).header('location', `/capacity/${run.id}`).send(view(run))
  })

  app.get('/capacity/:id', { schema: { params: LoadIdParams, response: { 200: ViewSchema, 404: ErrorSchema } } }, async (req) => view(get(req.params.id)))

  app.delete('/capacity/:id', { schema: { params: LoadIdParams, response: { 202: ViewSchema, 404: ErrorSchema } } }, async (req, reply) => {
    const r = get(req.params.id)
    r.stop = true
    return reply.code(202).send(view(r))
  })

  // The whole search as one dataset: every slice it wrote, warm-ups included (as `verify --capacity`)
  app.post('/capacity/:id/verify', verifyRoute(CapacityVerifySchema), async (req) => {
    const r = get(req.params.id)
    if (r.status === 'running') throw new BusyError('the capacity search is still running: verify it once it has ended')
    if (!r.report) throw new BusyError(`the capacity search ${r.status} before it wrote a dataset to verify`)
    return verifyCapacity(capacityDataset(r.report, deps.normalize), deps.sink, deps.pool, verifyInterval(req.body))
  })

  app.get('/capacity/:id/chart.svg', { schema: { params: LoadIdParams } }, async (req, reply) => {
    const r = get(req.params.id)
    const report = r.report ?? { sustainablePointsPerSecond: undefined, confirmed: false, slo: r.options.slo, steps: r.steps }
    return reply.type('image/svg+xml').send(capacityChart(report))
  })

  // Steps as they are judged, then the whole search: the same stream shape as a load's.
  app.get('/capacity/:id/events', { schema: { params: LoadIdParams } }, async (req, reply) => {
    const r = get(req.params.id)
    // only a running search holds a stream open (a finished one is sent whole and closed)
    if (r.status === 'running' && r.listeners.size >= deps.maxStreams) throw new TooManyStreamsError(deps.maxStreams, 'capacity search', 'GET /capacity/:id')
    const { res, send } = openEventStream(reply)
    for (const s of r.steps) send('step', s)
    if (r.status !== 'running') {
      send('done', view(r))
      return res.end()
    }
    const listener = (event: string, data: unknown) => {
      send(event, data)
      if (event === 'done') {
        r.listeners.delete(listener)
        res.end()
      }
    }
    r.listeners.add(listener)
    res.on('close', () => r.listeners.delete(listener))
  })
}
