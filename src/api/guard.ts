import type { FastifyRequest } from 'fastify'
import { CrossOriginError, ForbiddenHostError, UnsupportedMediaTypeError } from '../errors.js'

/**
 * What keeps a web page from driving a coordinator that has no API_TOKEN (the default, on
 * loopback). A page of any origin can send a "simple" request (a bodiless or text/plain POST,
 * `mode: 'no-cors'`) without a preflight, and a DNS name it controls can be made to resolve to
 * 127.0.0.1 (DNS rebinding). So:
 * - the Host header must be an allowed name: loopback names and the bound host, plus ALLOWED_HOSTS
 *   (`*`: any; the default when bound to every interface, where API_TOKEN is required anyway);
 * - a state-changing request (anything but GET, HEAD, OPTIONS) that says where it comes from
 *   (`Origin`, `Sec-Fetch-Site`) must come from this very origin; requests that say nothing
 *   (curl, scripts, SDKs) are not browsers' and pass;
 * - a request body must be declared JSON (a text/plain body is what a cross-site form sends).
 */
interface GuardOptions {
  /** host names (no port) answered to; '*' for any */
  allowedHosts: readonly string[]
}

const LOOPBACK_NAMES = ['localhost', '127.0.0.1', '::1', '[::1]']
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS'])

/** The default allow-list for a listen address (host names compare case-insensitively, no port). */
export function defaultAllowedHosts(bound: string, extra: readonly string[] = []): string[] {
  const b = bound.toLowerCase()
  const wildcard = b === '0.0.0.0' || b === '::' || b === '[::]' || b === ''
  if (extra.length === 0 && wildcard) return ['*']
  return [...new Set([...LOOPBACK_NAMES, ...(wildcard ? [] : [b]), ...extra.map((h) => h.toLowerCase())])]
}

/** The name part of a Host header: `[::1]:3000` → `[::1]`, `Example.com:80` → `example.com`. */
function hostName(host: string): string {
  const h = host.trim().toLowerCase()
  if (h.startsWith('[')) return h.slice(0, h.indexOf(']') + 1)
  const colon = h.lastIndexOf(':')
  return colon >= 0 && h.indexOf(':') === colon ? h.slice(0, colon) : h
}

export function requestGuard(opts: GuardOptions): (req: FastifyRequest) => Promise<void> {
  const any = opts.allowedHosts.includes('*')
  const allowed = new Set(opts.allowedHosts.map((h) => h.toLowerCase()))
  if (allowed.has('::1')) allowed.add('[::1]')
  return async (req) => {
    const host = req.headers.host ?? ''
    if (!any && !allowed.has(hostName(host))) throw new ForbiddenHostError(host)
    if (SAFE_METHODS.has(req.method)) return
    const origin = req.headers.origin
    if (origin !== undefined) {
      const own = [`http://${host.toLowerCase()}`, `https://${host.toLowerCase()}`]
      if (!own.includes(origin.toLowerCase())) throw new CrossOriginError(origin)
    }
    const site = req.headers['sec-fetch-site']
    if (typeof site === 'string' && site !== 'same-origin' && site !== 'none') throw new CrossOriginError(origin ?? `a ${site} page`)
    const hasBody = (req.headers['content-length'] !== undefined && req.headers['content-length'] !== '0') || req.headers['transfer-encoding'] !== undefined
    const type = req.headers['content-type']
    if (hasBody && !/^application\/json\s*(;|$)/i.test(type ?? '')) throw new UnsupportedMediaTypeError(type)
  }
}
