import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { toErrorInfo } from '../errors.js'
import { circuitIsOpen } from '../../shared/breakerRule.js'
import type { LoadManager } from '../load/manager.js'
import { checkSink } from '../sink/prepare.js'
import { describeSink, type SinkConfig } from '../sink/target.js'

const Health = Type.Object({
  status: Type.String(),
  circuit: Type.Optional(Type.Union([Type.Literal('closed'), Type.Literal('open'), Type.Literal('half-open')])),
  sink: Type.Optional(Type.Record(Type.String(), Type.String())),
  error: Type.Optional(Type.String()),
})

/**
 * /healthz: the process is up. /readyz: it would take a load now: not draining, the sink's
 * circuit is not open, and the database answers.
 */
export const healthRoutes: FastifyPluginAsyncTypebox<{ sink: SinkConfig; manager: LoadManager }> = async (app, { sink, manager }) => {
  app.get('/healthz', { schema: { response: { 200: Health } } }, async () => ({ status: 'ok' }))
  app.get('/readyz', { schema: { response: { 200: Health, 503: Health } } }, async (_req, reply) => {
    const base = { sink: describeSink(sink), circuit: manager.circuit().state }
    if (manager.isDraining) return reply.code(503).send({ status: 'shutting-down', ...base })
    if (circuitIsOpen(base.circuit)) return reply.code(503).send({ status: 'unavailable', ...base, error: 'circuit open: the sink has been failing' })
    try {
      await checkSink(sink)
      return { status: 'ready', ...base }
    } catch (e) {
      return reply.code(503).send({ status: 'unavailable', ...base, error: toErrorInfo(e).message })
    }
  })
}
