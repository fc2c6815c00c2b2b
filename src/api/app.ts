import { Ajv } from 'ajv'
import Fastify, { LogController, type FastifyError } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { Logger } from 'pino'
import type { Registry } from 'prom-client'
import { InvalidRequestError, LoadgenError, TooManyLoadsError } from '../errors.js'
import type { ErrorCode, FastifyCode } from '../model/errors.js'
import type { ErrorBody } from '../model/errorSchemas.js'
import type { LoadManager } from '../load/manager.js'
import type { NormalizeContext } from '../request/normalize.js'
import { AJV_OPTIONS, describeSchemaError } from '../request/validate.js'
import type { SinkConfig } from '../sink/target.js'
import { bearerCheck } from './auth.js'
import { capConnections, defaultMaxConnections } from './connections.js'
import { defaultAllowedHosts, requestGuard } from './guard.js'
import { candleRoutes } from './candles.js'
import { consoleRoutes } from './console.js'
import { capacityRoutes } from './capacity.js'
import { DEFAULT_MAX_STREAMS_PER_LOAD, eventRoutes } from './events.js'
import { healthRoutes } from './health.js'
import { loadRoutes } from './loads.js'
import { metricsRoutes } from './metrics.js'
import { STATUS_CODES } from 'node:http'
import swagger from '@fastify/swagger'

export interface AppDeps {
  manager: LoadManager
  registry: Registry
  sink: SinkConfig
  logger: Logger
  normalize: NormalizeContext
  /** request body limit in bytes (default 1 MiB: 10,000 symbols take ~200 kB) */
  bodyLimit?: number
  /** when set, every route but /healthz and /metrics needs it as a bearer token */
  apiToken?: string
  /** masks the process's secrets in every answer (a net under never putting them there) */
  redact?: (text: string) => string
  /** Host names answered to (default: loopback names); '*' for any. See guard.ts. */
  allowedHosts?: readonly string[]
  /** open connections at most; at the cap the oldest idle one is closed (default: from the open-files limit) */
  maxConnections?: number
  /** event streams (SSE) per load at most (default 16) */
  maxStreamsPerLoad?: number
}

/** The API's version in its OpenAPI document (the package's). */
const API_VERSION = '0.1.0'

/** Slow clients hold a socket this long at most while sending headers, and a whole request. */
const HEADERS_TIMEOUT_MS = 10_000
const REQUEST_TIMEOUT_MS = 30_000
/** An idle kept-alive connection is closed after this. */
const KEEP_ALIVE_TIMEOUT_MS = 5_000

/**
 * JSON bodies, parsed by JSON.parse (which makes `__proto__` an own key, never a prototype) with
 * keys that could pollute a prototype refused by name: the message says so, not "not valid JSON".
 */
function parseJsonBody(text: string): unknown {
  if (text.trim() === '') throw new InvalidRequestError('body', 'is empty: send a JSON object, or send no body and no content-type for the default load')
  let forbidden: string | undefined
  let parsed: unknown
  try {
    parsed = JSON.parse(text, function (this: unknown, key: string, value: unknown) {
      if (key === '__proto__' || (key === 'prototype' && forbidden === undefined && this !== null && typeof this === 'object' && Object.hasOwn(this, 'constructor'))) forbidden ??= key
      if (key === 'constructor' && value !== null && typeof value === 'object' && Object.hasOwn(value, 'prototype')) forbidden ??= 'constructor.prototype'
      return value
    })
  } catch (e) {
    throw new InvalidRequestError('body', `is not valid JSON (${(e as Error).message})`)
  }
  if (forbidden !== undefined) throw new InvalidRequestError('body', `has a key ${JSON.stringify(forbidden)}, which is refused: it could alter object prototypes`)
  return parsed
}

/** `code`: one of the catalogue's (errors.ts), or a Fastify FST_ code it passes through. */
function errorBody(statusCode: number, code: ErrorCode | FastifyCode, message: string, field?: string): ErrorBody {
  return { statusCode, code, error: STATUS_CODES[statusCode] ?? 'Error', message, ...(field ? { field } : {}) }
}

/** Builds the coordinator's HTTP app. Does not listen: `serve` does, tests use `inject`. */
export async function buildApp(deps: AppDeps) {
  const app = Fastify({
    loggerInstance: deps.logger,
    bodyLimit: deps.bodyLimit ?? 1024 * 1024,
    requestTimeout: REQUEST_TIMEOUT_MS,
    keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS,
    // One log line per load, not per request: scrapes and status polls would drown it.
    logController: new LogController({ disableRequestLogging: true }),
  }).withTypeProvider<TypeBoxTypeProvider>()

  // Same Ajv options as the CLI validator: no coercion, unknown fields rejected, not stripped.
  const ajv = new Ajv(AJV_OPTIONS)
  // A query string is text: `?limit=2` is the integer 2 there, and only there.
  const ajvQuery = new Ajv({ ...AJV_OPTIONS, coerceTypes: true })
  app.setValidatorCompiler(({ schema, httpPart }) => (httpPart === 'querystring' ? ajvQuery : ajv).compile(schema))

  app.server.headersTimeout = HEADERS_TIMEOUT_MS
  capConnections(app.server, deps.maxConnections ?? defaultMaxConnections())

  // JSON only: a text/plain body is what a cross-site page can send without a preflight.
  app.removeAllContentTypeParsers()
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => {
    try {
      done(null, parseJsonBody(body as string))
    } catch (e) {
      done(e as Error, undefined)
    }
  })
  app.addHook('onRequest', requestGuard({ allowedHosts: deps.allowedHosts ?? defaultAllowedHosts('127.0.0.1') }))
  if (deps.apiToken !== undefined) app.addHook('onRequest', bearerCheck(deps.apiToken))
  const redact = deps.redact
  if (redact) app.addHook('onSend', async (_req, _reply, payload) => (typeof payload === 'string' ? redact(payload) : payload))

  app.setErrorHandler((err: FastifyError, req, reply) => {
    if (err.validation?.[0]) {
      const e = describeSchemaError(err.validation[0], err.validationContext ?? 'body')
      return reply.code(400).send(errorBody(400, e.code, e.message, e.field))
    }
    if (err instanceof TooManyLoadsError) reply.header('retry-after', String(err.retryAfterSeconds))
    if (err instanceof LoadgenError) {
      return reply.code(err.statusCode).send(errorBody(err.statusCode, err.code, err.message, err instanceof InvalidRequestError ? err.field : undefined))
    }
    const status = err.statusCode ?? 500
    if (status >= 400 && status < 500) {
      // Fastify's own client errors (malformed JSON, body too large, bad content type).
      return reply.code(status).send(errorBody(status, err.code?.startsWith('FST_') ? (err.code as FastifyCode) : 'OHLCV_BAD_REQUEST', err.message))
    }
    req.log.error({ err }, 'unhandled error')
    return reply.code(500).send(errorBody(500, 'OHLCV_INTERNAL', 'internal error'))
  })
  app.setNotFoundHandler((req, reply) =>
    reply.code(404).send(errorBody(404, 'OHLCV_ROUTE_NOT_FOUND', `no route ${req.method} ${req.url.split('?')[0]}`)),
  )

  // The API's description, generated from the route schemas as they are registered below.
  const routes: { method: string; url: string }[] = []
  app.addHook('onRoute', (r) => {
    for (const method of [r.method].flat()) if (method !== 'HEAD') routes.push({ method, url: r.url })
  })
  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: { title: 'ohlcv-loadgen coordinator', version: API_VERSION, description: 'Loads InfluxDB with reproducible synthetic market trades. See the README.' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'API_TOKEN, when the coordinator has one' } } },
      security: deps.apiToken !== undefined ? [{ bearer: [] }] : [],
    },
  })
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger())
  await app.register(healthRoutes, { sink: deps.sink, manager: deps.manager })
  await app.register(metricsRoutes, { registry: deps.registry })
  await app.register(loadRoutes, { manager: deps.manager, sink: deps.sink, normalize: deps.normalize })
  await app.register(candleRoutes, { manager: deps.manager, sink: deps.sink })
  await app.register(consoleRoutes, { manager: deps.manager })
  await app.register(capacityRoutes, {
    manager: deps.manager,
    pool: deps.manager.shardPool,
    sink: deps.sink,
    options: deps.manager.loadOptions,
    log: deps.logger,
    normalize: deps.normalize,
    maxStreams: deps.maxStreamsPerLoad ?? DEFAULT_MAX_STREAMS_PER_LOAD,
    ...(deps.manager.metrics ? { metrics: deps.manager.metrics } : {}),
  })
  await app.register(eventRoutes, { manager: deps.manager, maxStreamsPerLoad: deps.maxStreamsPerLoad ?? DEFAULT_MAX_STREAMS_PER_LOAD })
  return Object.assign(app, { routeList: (): readonly { method: string; url: string }[] => routes })
}

