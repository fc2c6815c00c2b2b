import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { toErrorInfo } from '../errors.js'
import { checkSink } from '../sink/prepare.js'
import { describeSink, type SinkConfig } from '../sink/target.js'

const Health = Type.Object({
  status: Type.String(),
  sink: Type.Optional(Type.Record(Type.String(), Type.String())),
  error: Type.Optional(Type.String()),
})

/** /healthz: the process is up. /readyz: the database answers too. */
export const healthRoutes: FastifyPluginAsyncTypebox<{ sink: SinkConfig }> = async (app, { sink }) => {
  app.get('/healthz', { schema: { response: { 200: Health } } }, async () => ({ status: 'ok' }))
  app.get('/readyz', { schema: { response: { 200: Health, 503: Health } } }, async (_req, reply) => {
    try {
      await checkSink(sink)
      return { status: 'ready', sink: describeSink(sink) }
    } catch (e) {
      return reply.code(503).send({ status: 'unavailable', sink: describeSink(sink), error: toErrorInfo(e).message })
    }
  })
}
