import http from 'node:http'
import { gzipSync } from 'node:zlib'
import https from 'node:https'
import { WriteError, parseRetryAfter } from '../errors.js'

export interface HttpResponse {
  status: number
  headers: http.IncomingHttpHeaders
  body: string
}

export interface HttpRequest {
  method: 'GET' | 'POST'
  headers?: Record<string, string>
  body?: Buffer | string
  agent?: http.Agent
  timeoutMs: number
}

/** `path` under the base URL's own path (a proxy prefix is kept), with the defined `params`. */
export function endpoint(base: URL, path: string, params: Record<string, string | undefined> = {}): URL {
  const u = new URL(base.pathname.replace(/\/$/, '') + path, base)
  for (const [k, v] of Object.entries(params)) if (v !== undefined) u.searchParams.set(k, v)
  return u
}

/** Headers of a line protocol write body, compressed or not. */
export function writeHeaders(gzipLevel = 0): Record<string, string> {
  return { 'content-type': 'text/plain; charset=utf-8', ...(gzipLevel > 0 ? { 'content-encoding': 'gzip' } : {}) }
}

/**
 * A write body as sent: gzipped at `level` (in the worker thread that wrote it), or as it is. The
 * 413 split works on the plain lines above this, so each half is compressed on its own.
 */
export function compress(body: Buffer, level = 0): Buffer {
  return level > 0 ? gzipSync(body, { level }) : body
}

/** Keep-alive agents: one per client, sized to the batches it may have in flight. */
export function keepAliveAgent(url: URL, maxSockets: number): http.Agent {
  const Agent = url.protocol === 'https:' ? https.Agent : http.Agent
  return new Agent({ keepAlive: true, maxSockets, maxFreeSockets: maxSockets })
}

/**
 * Node's codes for a certificate it will not trust: a retry gets the same certificate, so they are
 * permanent (retrying them spent the whole time budget before).
 */
const TLS_CERT_CODES = /^(DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT(_LOCALLY)?|CERT_HAS_EXPIRED|CERT_NOT_YET_VALID|CERT_UNTRUSTED|CERT_REVOKED|CERT_SIGNATURE_FAILURE|ERR_TLS_CERT_ALTNAME_INVALID|HOSTNAME_MISMATCH|INVALID_CA)$/

/**
 * Transport failures, worded alike by both HTTP clients (this one and the write path's, wire.ts):
 * WriteErrors without a status, so retryable. `detail` is the system's reason (a code or message).
 */
export const transportError = {
  unreachable: (host: string, detail: string, cause?: Error) =>
    TLS_CERT_CODES.test(detail)
      ? new WriteError(
          `cannot reach ${host}: its TLS certificate is not trusted (${detail}); fix the server's certificate, or give Node its CA with NODE_EXTRA_CA_CERTS=/path/to/ca.pem`,
          { cause, permanent: true },
        )
      : new WriteError(`cannot reach ${host}: ${detail}`, { cause }),
  brokeOff: (host: string, detail: string, cause?: Error) => new WriteError(`response from ${host} broke off: ${detail}`, { cause }),
  noAnswer: (host: string, ms: number) => new WriteError(`no answer from ${host} within ${ms} ms`, { timedOut: true }),
}

/**
 * One HTTP exchange, resolving with the status and the body as text. Transport failures
 * (refused, reset, timeout) reject with a WriteError without status, which is retryable.
 */
export function request(url: URL, req: HttpRequest): Promise<HttpResponse> {
  const lib = url.protocol === 'https:' ? https : http
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = { ...req.headers }
    if (req.body !== undefined) headers['content-length'] = Buffer.byteLength(req.body)
    const r = lib.request(url, { method: req.method, headers, agent: req.agent }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('error', (e) => reject(transportError.brokeOff(url.host, e.message, e)))
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }),
      )
    })
    r.setTimeout(req.timeoutMs, () => r.destroy(transportError.noAnswer(url.host, req.timeoutMs)))
    r.on('error', (e: NodeJS.ErrnoException) => {
      if (e instanceof WriteError) reject(e)
      else reject(transportError.unreachable(url.host, e.code ?? e.message, e))
    })
    r.end(req.body)
  })
}

/** Reads the server's message from an InfluxDB error body (`{"error": "..."}`, or plain text). */
export function serverMessage(res: HttpResponse): string {
  try {
    const parsed = JSON.parse(res.body) as { error?: unknown; message?: unknown }
    const m = parsed.error ?? parsed.message
    if (typeof m === 'string') return m.trim()
  } catch {
    // not JSON: fall through to the raw text
  }
  const header = res.headers['x-influxdb-error']
  // influxd ends its plain-text errors with a newline: a quoted message must not carry it.
  return (res.body.trim() || (typeof header === 'string' ? header.trim() : '') || 'no message').slice(0, 1000)
}

/** A failed write response as a WriteError, with InfluxDB 1.x's partial-write count when given. */
export function writeErrorFrom(res: HttpResponse, lines: number, nowMs: number): WriteError {
  const msg = serverMessage(res)
  // "partial write: ... dropped=N": the other lines of the batch were stored.
  const dropped = /dropped=(\d+)/.exec(msg)
  const retryAfter = res.headers['retry-after']
  return new WriteError(`InfluxDB answered ${res.status}: ${msg}`, {
    status: res.status,
    retryAfterMs: parseRetryAfter(typeof retryAfter === 'string' ? retryAfter : undefined, nowMs),
    pointsAccepted: res.status === 400 && dropped ? Math.max(0, lines - Number(dropped[1])) : 0,
  })
}
