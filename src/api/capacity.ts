import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { CAPACITY_OPTIONS, CapacityOptionError, capacityOptions, type OptionNamer } from '../capacity/options.js'
import { CapacityRegistry, type CapacityDeps, type CapacityEvent, type CapacitySearch } from '../capacity/registry.js'
import type { CapacityOptions } from '../capacity/run.js'
import { CapacityRunningError, InvalidRequestError, TooManyStreamsError } from '../errors.js'
import type { LoadManager } from '../load/manager.js'
import { LoadRequestSchema } from '../model/request.js'
import type { CapacitySearchView } from '../model/capacity.js'
import { validateLoadRequest } from '../request/validate.js'
import { openEventStream } from './events.js'
import { VerifyReportSchema, verifyInterval, verifyRoute } from './candles.js'
import { ErrorSchema } from '../model/errorSchemas.js'
import { LoadIdParams } from './schemas.js'

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

/** An option's field in the body: `start-rate` is `startRate`. */
const camel = (o: string): string => o.replace(/-(\w)/g, (_, c: string) => c.toUpperCase())
const bodyName: OptionNamer = (o) => `body.${camel(o)}`
/** The CLI's flag of each body field. */
const FLAG: Record<string, string> = Object.fromEntries(CAPACITY_OPTIONS.map((o) => [camel(o), o]))

/** A search as GET /capacity/:id shows it, with its links. */
function view(r: CapacitySearch): CapacitySearchView {
  return {
    id: r.id,
    status: r.status,
    createdAt: r.createdAt,
    options: r.options,
    ...(r.current !== undefined ? { currentTargetPointsPerSecond: r.current } : {}),
    steps: r.steps,
    ...(r.report ? { sustainablePointsPerSecond: r.report.sustainablePointsPerSecond ?? null, confirmed: r.report.confirmed, ended: r.report.ended, seed: r.report.seed, load: r.report.load, slices: r.report.slices } : {}),
    ...(r.error ? { error: r.error } : {}),
    links: { self: `/capacity/${r.id}`, events: `/capacity/${r.id}/events`, chart: `/capacity/${r.id}/chart.svg`, verify: `/capacity/${r.id}/verify` },
  }
}

const ViewSchema = Type.Unsafe<ReturnType<typeof view>>({
  type: 'object',
  additionalProperties: true,
  description: 'the search: id, status (running, done, failed, cancelled), options, steps [{ targetPointsPerSecond, achievedPointsPerSecond, p50Ms, p90Ms, p99Ms, errors, errorRate, clientCpu, hostCpu, passed, reasons, limitedBy? (generator, host or database), phase, request }], and once done sustainablePointsPerSecond (null: none), confirmed, ended, seed, load (the request every slice was written with) and slices [{ kind (warmup or step), from, to, trades }]',
})

/** The body's options as the CLI's flags; a refusal comes back in the body's names. */
function optionsOf(body: Record<string, unknown>): CapacityOptions {
  const flags: Record<string, string> = {}
  for (const [k, v] of Object.entries(body)) if (k !== 'load' && (typeof v === 'string' || typeof v === 'number')) flags[FLAG[k]!] = String(v)
  try {
    return capacityOptions(flags)
  } catch (e) {
    if (!(e instanceof CapacityOptionError)) throw e
    throw new InvalidRequestError(bodyName(e.option), e.problem(bodyName))
  }
}

/**
 * POST /capacity: the capacity search of `ohlcv-loadgen capacity` in the coordinator (the
 * registry in src/capacity keeps them). GET /capacity/:id, its events (one `step` per step, then
 * `done`), its chart, DELETE to stop it after the step running.
 */
export const capacityRoutes: FastifyPluginAsyncTypebox<CapacityDeps & { manager: LoadManager; maxStreams: number }> = async (app, deps) => {
  const { manager, maxStreams, ...parts } = deps
  const searches = new CapacityRegistry(parts, () => manager.runningCount)
  // no load beside a search: it would share the pool and sink, and skew the steps
  manager.holdLoadsWhile(() => {
    const r = searches.running()
    return r ? new CapacityRunningError(r.id) : undefined
  })

  app.post('/capacity', { schema: { body: CapacityBody, response: { 202: ViewSchema, 400: ErrorSchema, 409: ErrorSchema } } }, async (req, reply) => {
    const options = optionsOf(req.body)
    const load = validateLoadRequest(req.body.load ?? {}, 'body.load') as Record<string, unknown>
    const run = searches.start(load, options)
    return reply.code(202).header('location', `/capacity/${run.id}`).send(view(run))
  })

  app.get('/capacity/:id', { schema: { params: LoadIdParams, response: { 200: ViewSchema, 404: ErrorSchema } } }, async (req) => view(searches.get(req.params.id)))

  app.delete('/capacity/:id', { schema: { params: LoadIdParams, response: { 202: ViewSchema, 404: ErrorSchema } } }, async (req, reply) => reply.code(202).send(view(searches.stop(req.params.id))))

  app.post('/capacity/:id/verify', verifyRoute(CapacityVerifySchema), async (req) => searches.verify(req.params.id, verifyInterval(req.body)))

  app.get('/capacity/:id/chart.svg', { schema: { params: LoadIdParams } }, async (req, reply) => reply.type('image/svg+xml').send(searches.chart(req.params.id)))

  // Steps as they are judged, then the whole search: the same stream shape as a load's.
  app.get('/capacity/:id/events', { schema: { params: LoadIdParams } }, async (req, reply) => {
    const r = searches.get(req.params.id)
    // only a running search holds a stream open (a finished one is sent whole and closed)
    if (r.status === 'running' && r.listeners.size >= maxStreams) throw new TooManyStreamsError(maxStreams, 'capacity search', 'GET /capacity/:id')
    const { res, send } = openEventStream(reply)
    for (const s of r.steps) send('step', s)
    if (r.status !== 'running') {
      send('done', view(r))
      return res.end()
    }
    const listener = (e: CapacityEvent) => {
      if (e.event === 'step') {
        send('step', e.step)
        return
      }
      send('done', view(e.search))
      r.listeners.delete(listener)
      res.end()
    }
    r.listeners.add(listener)
    res.on('close', () => r.listeners.delete(listener))
  })
}
