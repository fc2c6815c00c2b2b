import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import type { LoadManager } from '../load/manager.js'
import type { LoadRun } from '../load/run.js'
import { normalizeRequest, type NormalizeContext } from '../request/normalize.js'
import { LoadRequestSchema } from '../model/request.js'
import type { SinkConfig } from '../sink/target.js'
import { ErrorSchema } from '../model/errorSchemas.js'
import { LoadCreatedSchema, LoadDeleteQuery, LoadIdParams, LoadListQuery, LoadListSchema, LoadViewSchema, type LoadView } from './schemas.js'
import { links } from './summary.js'

interface LoadRoutesOptions {
  manager: LoadManager
  sink: SinkConfig
  normalize: NormalizeContext
}

function roundMs<T extends { degradedMs: number }>(c: T): T {
  return { ...c, degradedMs: Math.round(c.degradedMs) }
}

/** A load in full; `sink`: where it writes, secrets masked. */
export function loadView(load: LoadRun, sink: Record<string, string>): LoadView {
  const { fromMs: _f, toMs: _t, ...request } = load.spec
  const result = load.getResult()
  return {
    id: load.id,
    status: load.status,
    seed: load.spec.seed,
    shards: load.shardCount,
    request,
    sink,
    progress: {
      ...load.account(),
      ...(result ? { pointsPerSecond: 0, etaSeconds: null } : load.rate()),
      pointsInFlight: load.pointsInFlight(),
      writeLatencyMs: load.writeLatency(),
    },
    writeConcurrency: roundMs(load.writeConcurrency()),
    ...(result ? { result } : {}),
    ...(load.error ? { error: load.error } : {}),
    circuit: load.circuit(),
    resumes: load.resumes,
    createdAt: load.createdAt.toISOString(),
    ...(load.startedAt ? { startedAt: load.startedAt.toISOString() } : {}),
    ...(load.finishedAt ? { finishedAt: load.finishedAt.toISOString() } : {}),
    links: links(load.id),
  }
}

export const loadRoutes: FastifyPluginAsyncTypebox<LoadRoutesOptions> = async (app, opts) => {
  const { manager } = opts
  const view = (load: LoadRun) => loadView(load, manager.sinkOf(load))
  const errors = { 400: ErrorSchema, 404: ErrorSchema, 409: ErrorSchema, 429: ErrorSchema, 500: ErrorSchema, 503: ErrorSchema }

  app.post(
    '/loads',
    {
      // An empty POST (no body at all) starts the default load; a JSON `null` is a bad body.
      preValidation: async (req) => {
        if ((req.body as unknown) === undefined) req.body = {}
      },
      schema: { body: LoadRequestSchema, response: { 202: LoadCreatedSchema, ...errors } },
    },
    async (req, reply) => {
      const spec = normalizeRequest(req.body, opts.normalize)
      const warnings = manager.overlaps(spec)
      const load = manager.start(spec)
      for (const w of warnings) req.log.warn({ loadId: load.id }, w)
      const { fromMs: _f, toMs: _t, ...request } = spec
      return reply
        .code(202)
        .header('location', `/loads/${load.id}`)
        .send({ id: load.id, status: load.status, seed: spec.seed, shards: load.shardCount, request, links: links(load.id), ...(warnings.length ? { warnings } : {}) })
    },
  )

  // Newest first, a page at a time, each load in brief, from the store: loads of earlier runs of
  // the coordinator too. A list of big loads stays small and quick.
  app.get('/loads', { schema: { querystring: LoadListQuery, response: { 200: LoadListSchema, 400: ErrorSchema } } }, async (req) => {
    const { limit = 50, before, status } = req.query
    const { loads, more } = manager.historyPage({ limit, before, status })
    const last = loads[loads.length - 1]
    const next = more && last ? `/loads?${new URLSearchParams({ limit: String(limit), before: last.id, ...(status ? { status } : {}) }).toString()}` : null
    return { loads: loads.map((l) => ({ ...l, links: links(l.id) })), next }
  })

  app.get('/loads/:id', { schema: { params: LoadIdParams, response: { 200: LoadViewSchema, ...errors } } }, async (req) =>
    view(manager.get(req.params.id)),
  )

  // Cancels a running load; with ?forget=true removes a finished one from the store instead.
  app.delete(
    '/loads/:id',
    { schema: { params: LoadIdParams, querystring: LoadDeleteQuery, response: { 202: LoadViewSchema, 204: Type.Null({ description: 'forgotten' }), ...errors } } },
    async (req, reply) => {
      if (req.query.forget === true) {
        manager.forget(req.params.id)
        return reply.code(204).send(null)
      }
      const load = manager.cancel(req.params.id)
      return reply.code(202).send(view(load))
    },
  )

  // Re-runs the shards a failed or cancelled load did not complete; same id, same account.
  app.post('/loads/:id/resume', { schema: { params: LoadIdParams, response: { 202: LoadViewSchema, ...errors } } }, async (req, reply) => {
    const load = manager.resume(req.params.id)
    return reply.code(202).header('location', `/loads/${load.id}`).send(view(load))
  })
}
