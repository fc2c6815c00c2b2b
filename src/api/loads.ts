import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { LoadManager } from '../load/manager.js'
import type { LoadRun } from '../load/run.js'
import { normalizeRequest, type NormalizeContext } from '../request/normalize.js'
import { LoadRequestSchema } from '../request/schema.js'
import { describeSink, type SinkConfig } from '../sink/target.js'
import { InvalidRequestError } from '../errors.js'
import { ErrorSchema, LoadCreatedSchema, LoadIdParams, LoadListQuery, LoadListSchema, LoadViewSchema, type LoadSummary, type LoadView } from './schemas.js'

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

/** A load as a list shows it: a few hundred bytes whatever its symbol count. */
export function loadSummary(load: LoadRun): LoadSummary {
  const { spec } = load
  const result = load.getResult()
  return {
    id: load.id,
    status: load.status,
    seed: spec.seed,
    shards: load.shardCount,
    request: {
      from: spec.from,
      to: spec.to,
      trades: spec.trades,
      symbolCount: spec.symbols.length,
      symbols: spec.symbols.slice(0, 10),
      distribution: spec.distribution,
      batchSize: spec.batchSize,
      measurement: spec.measurement,
      ...(spec.ratePerSecond !== undefined ? { ratePerSecond: spec.ratePerSecond } : {}),
    },
    account: load.account(),
    ...(result ? { durationMs: result.durationMs, pointsPerSecond: result.pointsPerSecond, writeLatencyP99Ms: result.writeLatencyMs.p99 } : {}),
    ...(load.error ? { error: load.error } : {}),
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
      const { fromMs: _f, toMs: _t, ...request } = spec
      return reply
        .code(202)
        .header('location', `/loads/${load.id}`)
        .send({ id: load.id, status: load.status, seed: spec.seed, shards: load.shardCount, request, links: links(load.id) })
    },
  )

  // Newest first, a page at a time, each load in brief: a list of big loads stays small and quick.
  app.get('/loads', { schema: { querystring: LoadListQuery, response: { 200: LoadListSchema, 400: ErrorSchema } } }, async (req) => {
    const { limit = 50, before, status } = req.query
    let all = manager.list().reverse()
    if (before !== undefined) {
      const at = all.findIndex((l) => l.id === before)
      if (at < 0) throw new InvalidRequestError('querystring.before', `no load with id ${JSON.stringify(before)} (it may have been forgotten: start from the first page)`)
      all = all.slice(at + 1)
    }
    if (status !== undefined) all = all.filter((l) => l.status === status)
    const page = all.slice(0, limit)
    const last = page[page.length - 1]
    const next = all.length > limit && last ? `/loads?${new URLSearchParams({ limit: String(limit), before: last.id, ...(status ? { status } : {}) }).toString()}` : null
    return { loads: page.map(loadSummary), next }
  })

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
