import { createHash, timingSafeEqual } from 'node:crypto'
import type { FastifyReply, FastifyRequest } from 'fastify'
import { UnauthorizedError } from '../errors.js'

/**
 * Routes anyone may call: liveness for orchestrators, metrics for Prometheus, the API's
 * description, and the web console's page (it holds no data; it asks for the token itself).
 */
const OPEN_ROUTES = new Set(['/', '/healthz', '/metrics', '/openapi.json'])

const digest = (s: string) => createHash('sha256').update(s).digest()

/**
 * With API_TOKEN set, every route but the open ones needs `Authorization: Bearer <token>`.
 * Both sides are hashed first so the comparison is constant-time whatever the lengths.
 */
export function bearerCheck(token: string): (req: FastifyRequest, reply: FastifyReply) => Promise<void> {
  const expected = digest(token)
  return async (req, reply) => {
    if (OPEN_ROUTES.has(req.url.split('?')[0] ?? '')) return
    const header = req.headers.authorization
    const match = typeof header === 'string' ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null
    reply.header('www-authenticate', 'Bearer realm="ohlcv-loadgen"')
    if (!match) throw new UnauthorizedError('this route needs Authorization: Bearer <API_TOKEN>')
    if (!timingSafeEqual(digest(match[1]!), expected)) throw new UnauthorizedError('the bearer token is not valid')
    reply.removeHeader('www-authenticate')
  }
}
