import type { FastifyPluginAsync } from 'fastify'
import type { Registry } from 'prom-client'

/** Prometheus exposition of the coordinator's own Registry. */
export const metricsRoutes: FastifyPluginAsync<{ registry: Registry }> = async (app, { registry }) => {
  app.get('/metrics', { schema: { response: { 200: { type: 'string' } } } }, async (_req, reply) => {
    return reply.type(registry.contentType).send(await registry.metrics())
  })
}
