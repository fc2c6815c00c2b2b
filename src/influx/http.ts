import http from 'node:http'
import { gzipSync } from 'node:zlib'
import https from 'node:https'
import { SinkUnavailableError, WriteError, parseRetryAfter } from '../errors.js'
import { redactUrl } from '../secrets.js'

export interface HttpResponse {
  status: number
  headers: http.IncomingHttpHeaders
  body: string
}

interface HttpRequest {
  method: 'GET' | 'POST'
  headers?: Record<string, string>
  body?: Buffer | string
  agent?: http.Agent
  /** the whole exchange, from sending to the answer's last byte (not only the silence between bytes) */
  timeoutMs: number
  /** scrubs the client's own credentials out of what the server answers (see scrubbed) */
  redact?: (text: string) => string
}

/**
 * What an error answer's body is kept of: enough for any message worth quoting. The rest is not
 * read (the connection is dropped): a 200 MB error page cost 100 s of CPU and 480 MB of memory.
 */
export const ERROR_BODY_BYTES = 4096

/**
 * The answer with the client's credentials masked in its body and in the headers whose text gets
 * quoted (`X-Influxdb-Error`, `Location`): a server or proxy that echoes the Authorization header
 * or the user and password must not put them into the account file, the store or the API.
 */
export function scrubbed(res: HttpResponse, redact: ((text: string) => string) | undefined): HttpResponse {
  if (!redact) return res
  const headers = { ...res.headers }
  for (const h of ['x-influxdb-error', 'location'] as const) {
    const v = headers[h]
    if (typeof v === 'string') headers[h] = redact(v)
  }
  return { status: res.status, headers, body: res.body === '' ? '' : scrubBody(res, redact) }
}

/**
 * The body with the secrets masked, in every string a JSON body holds as well as in its text: JSON
 * may escape a secret (`\u0040` for '@', `\/` for '/'), and the message made of the parsed value
 * would carry it in clear. A large 2xx (a query's result) is masked as text only: it is data.
 */
function scrubBody(res: HttpResponse, redact: (text: string) => string): string {
  if (res.status < 300 && res.body.length > 65_536) return redact(res.body)
  let parsed: unknown
  try {
    parsed = JSON.parse(res.body)
  } catch {
    return redact(res.body)
  }
  const walk = (v: unknown): unknown =>
    typeof v === 'string' ? redact(v) : Array.isArray(v) ? v.map(walk) : v !== null && typeof v === 'object' ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)])) : v
  return redact(JSON.stringify(walk(parsed)))
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
  noAnswer: (host: string, ms: number) => new WriteError(`no complete answer from ${host} within ${ms} ms`, { timedOut: true }),
  /** Bytes that are not an HTTP answer (another service on the port, TLS spoken to plain HTTP): no retry mends it. */
  notHttp: (host: string, detail: string, cause?: Error) =>
    new WriteError(`${host} did not answer in HTTP (${detail}): is the URL the database's HTTP address, with the right scheme?`, { cause, permanent: true }),
}

/** node:http's parser errors (HPE_INVALID_CONSTANT, HPE_INVALID_HEADER_TOKEN, ...): the peer did not speak HTTP. */
const PARSE_ERROR = /^HPE_/

/**
 * One HTTP exchange, resolving with the status and the body as text. Transport failures
 * (refused, reset, timeout) reject with a WriteError without status, which is retryable.
 */
export function request(url: URL, req: HttpRequest): Promise<HttpResponse> {
  const lib = url.protocol === 'https:' ? https : http
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = { ...req.headers }
    if (req.body !== undefined) headers['content-length'] = Buffer.byteLength(req.body)
    const done = (res: HttpResponse) => {
      clearTimeout(deadline)
      resolve(scrubbed(res, req.redact))
    }
    const r = lib.request(url, { method: req.method, headers, agent: req.agent }, (res) => {
      const status = res.statusCode ?? 0
      // An error answer keeps its first ERROR_BODY_BYTES; a 2xx (a query's result) is read whole.
      const cap = status >= 300 ? ERROR_BODY_BYTES : Infinity
      const chunks: Buffer[] = []
      let size = 0
      res.on('data', (c: Buffer) => {
        chunks.push(c)
        size += c.length
        if (size < cap) return
        res.removeAllListeners('data')
        done({ status, headers: res.headers, body: Buffer.concat(chunks).subarray(0, cap).toString('utf8') })
        r.destroy() // the rest is not worth its bytes; the socket is not reused
      })
      res.on('error', (e) => reject(transportError.brokeOff(url.host, e.message, e)))
      res.on('end', () => done({ status, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }))
    })
    // idle and total: a server that trickles one byte every few seconds stays under an idle timeout
    r.setTimeout(req.timeoutMs, () => r.destroy(transportError.noAnswer(url.host, req.timeoutMs)))
    const deadline = setTimeout(() => r.destroy(transportError.noAnswer(url.host, req.timeoutMs)), req.timeoutMs)
    r.on('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(deadline)
      if (e instanceof WriteError) reject(e)
      else if (PARSE_ERROR.test(e.code ?? '')) reject(transportError.notHttp(url.host, e.code!, e))
      else reject(transportError.unreachable(url.host, e.code ?? e.message, e))
    })
    r.end(req.body)
  })
}

/** Reads the server's message from an InfluxDB error body (`{"error": "..."}`, or plain text). */
export function serverMessage(res: HttpResponse): string {
  if (res.status >= 300 && res.status < 400) {
    const to = res.headers.location
    return `redirected${typeof to === 'string' && to !== '' ? ` to ${redactUrl(to.slice(0, 300))}` : ' (no Location given)'}: point the URL at where it redirects`
  }
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

/** The version an InfluxDB says it is: the `X-Influxdb-Version` header, or InfluxDB 3's /ping JSON. */
export function serverVersion(res: HttpResponse): string | undefined {
  const header = res.headers['x-influxdb-version']
  if (typeof header === 'string' && header !== '') return header
  try {
    const v = (JSON.parse(res.body) as { version?: unknown }).version
    return typeof v === 'string' ? v : undefined
  } catch {
    return undefined
  }
}

/**
 * The version the server at `base` says it is, before a load counts its answers as stored writes:
 * `/ping`'s X-Influxdb-Version (influxd 1.x, 2.x), or else the same header on a 204 to an empty
 * write to `write`, which stores nothing (VictoriaMetrics says it there only). A server that
 * answers 204 to anything says neither and is refused, naming what answered.
 */
export async function identifyInflux(
  base: URL,
  write: URL,
  o: { headers: Record<string, string>; agent?: http.Agent; timeoutMs: number; redact: (text: string) => string },
): Promise<string> {
  const ask = (url: URL, init: Partial<HttpRequest>) =>
    request(url, { method: 'GET', headers: o.headers, agent: o.agent, timeoutMs: Math.min(o.timeoutMs, 5000), redact: o.redact, ...init }).catch((e: unknown) => {
      throw new SinkUnavailableError((e as Error).message, { cause: e }) // "cannot reach HOST: why" already
    })
  const ping = await ask(endpoint(base, '/ping'), {})
  const said = serverVersion(ping)
  if (said) return said
  const probe = await ask(write, { method: 'POST', headers: { ...o.headers, ...writeHeaders() }, body: '' })
  const version = probe.status === 204 ? serverVersion(probe) : undefined
  if (version) return version
  throw notInflux(base.host, ping, probe)
}

/** The one line for a server that does not say it is InfluxDB: what answered, from its own headers. */
export function notInflux(host: string, ...answers: HttpResponse[]): Error {
  const refused = answers.find((a) => a.status === 401 || a.status === 403)
  if (refused) return new SinkUnavailableError(`InfluxDB at ${host} refused the credentials (${refused.status}): ${serverMessage(refused)}`)
  const said = answers
    .map((a) => {
      const server = a.headers.server ?? a.headers['x-server-hostname'] ?? a.headers['x-powered-by']
      return `${a.status}${typeof server === 'string' && server !== '' ? ` from "${server.slice(0, 80)}"` : ''}`
    })
    .join(', then ')
  return new SinkUnavailableError(
    `the server at ${host} does not say it is InfluxDB (no X-Influxdb-Version header on /ping or on a write; it answered ${said}): its answers cannot be counted as stored writes; check INFLUX_URL and INFLUX_API`,
  )
}
