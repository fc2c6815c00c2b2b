import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import type { LoadManager } from '../load/manager.js'
import type { LoadRun } from '../load/run.js'
import { normalizeRequest, type NormalizeContext } from '../request/normalize.js'
import { LoadRequestSchema } from '../request/schema.js'
import { describeSink, type SinkConfig } from '../sink/target.js'
import { ErrorSchema, LoadCreatedSchema, LoadIdParams, LoadViewSchema, type LoadView } from './schemas.js'

export interface LoadRoutesOptions {
  manager: LoadManager
  sink: SinkConfig
  normalize: NormalizeContext
}

function links(id: string) {
  return { self: `/loads/${id}`, cancel: `/loads/${id}`, resume: `/loads/${id}/resume`, verify: `/loads/${id}/verify`, events: `/loads/${id}/events` }
}

function roundMs<T extends { degradedMs: number }>(c: T): T {
  return { ...c, degradedMs: Math.round(c.degradedMs) }
}

export function loadView(load: LoadRun, sink: SinkConfig): LoadView {
  const { fromMs: _f, toMs: _t, ...request } = load.spec
  const result = load.getResult()
  return {
    id: load.id,
    status: load.status,
    seed: load.spec.seed,
    shards: load.shardCount,
    request,
    sink: describeSink(sink),
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
  const { manager, sink } = opts
  const errors = { 400: ErrorSchema, 404: ErrorSchema, 409: ErrorSchema, 429: ErrorSchema, 503: ErrorSchema }

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
      const load = manager.start(spec)
      return reply
        .code(202)
        .header('location', `/loads/${load.id}`)
        .send({ id: load.id, status: load.status, seed: spec.seed, shards: load.shardCount, links: links(load.id) })
    },
  )

  app.get('/loads', { schema: { response: { 200: Type.Object({ loads: Type.Array(LoadViewSchema) }) } } }, async () => ({
    loads: manager.list().map((l) => loadView(l, sink)),
  }))

  app.get('/loads/:id', { schema: { params: LoadIdParams, response: { 200: LoadViewSchema, ...errors } } }, async (req) =>
    loadView(manager.get(req.params.id), sink),
  )

  app.delete('/loads/:id', { schema: { params: LoadIdParams, response: { 202: LoadViewSchema, ...errors } } }, async (req, reply) => {
    const load = manager.cancel(req.params.id)
    return reply.code(202).send(loadView(load, sink))
  })

  // Re-runs the shards a failed or cancelled load did not complete; same id, same account.
  app.post('/loads/:id/resume', { schema: { params: LoadIdParams, response: { 202: LoadViewSchema, ...errors } } }, async (req, reply) => {
    const load = manager.resume(req.params.id)
    return reply.code(202).header('location', `/loads/${load.id}`).send(loadView(load, sink))
  })
}
