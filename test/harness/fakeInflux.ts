import { createServer as createHttp, request, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http'
import { createServer as createHttps } from 'node:https'
import type { AddressInfo } from 'node:net'

/**
 * The one scriptable fake InfluxDB of the tests: for what a real one cannot be made to do on demand
 * (a 429 with Retry-After, an error body that trickles, a 200 that carries an error, an echo of the
 * credentials, no InfluxDB 3 server on these machines). A test scripts the answer to each request;
 * where a fake plays InfluxDB it gives the documented answers below, byte for byte, so the client
 * meets what it would meet in the field.
 */

/** One request as the fake got it. */
export interface FakeRequest {
  /** its place among every request this fake got, from 0 */
  n: number
  /** when it arrived (ms since the epoch) */
  t: number
  method: string
  /** the path and query as sent */
  url: string
  path: string
  params: URLSearchParams
  headers: IncomingHttpHeaders
  /** the body as it came over the wire (gzipped when the client gzips) */
  body: Buffer
}

/**
 * An answer: a status with headers and a body, sent at once, after `delayMs`, or trickled a chunk
 * every `everyMs` until the client hangs up; `drop` closes the connection with no answer; a
 * function writes the answer itself (a stream, an answer that depends on the socket).
 */
export type Answer =
  | { status: number; headers?: Record<string, string>; body?: string | Buffer; delayMs?: number; trickle?: { chunk: string; everyMs: number } }
  | { drop: true }
  | ((res: ServerResponse) => void)

export type Script = (req: FakeRequest) => Answer

export interface FakeInflux {
  url: string
  port: number
  /** every request, in order (none with `record: false`) */
  requests: FakeRequest[]
  /** how it answers; a test may swap it between loads */
  script: Script
  close(): Promise<void>
}

export interface FakeOptions {
  /** serve HTTPS with this key and certificate */
  tls?: { key: Buffer; cert: Buffer }
  /** ms an idle keep-alive connection stays open (Node's default: 5 s) */
  keepAliveTimeoutMs?: number
  /** false: keep no requests (a proxy passing a large load through would hold every body) */
  record?: boolean
}

const json = (status: number, body: string, headers: Record<string, string> = {}): Answer => ({ status, headers: { 'content-type': 'application/json', ...headers }, body })

/** Documented answers of InfluxDB 1.x (docs.influxdata.com/influxdb/v1/tools/api). */
export const influx1 = {
  /** `GET /ping`: 204 with the version header */
  ping: (version = '1.8.10'): Answer => ({ status: 204, headers: { 'x-influxdb-version': version } }),
  /** `POST /query` with `CREATE DATABASE`: 200 and one empty statement result */
  created: (): Answer => json(200, '{"results":[{"statement_id":0}]}'),
}

/** Documented answers of InfluxDB 2.x (docs.influxdata.com/influxdb/v2/api). */
export const influx2 = {
  /** `GET /health` when the server is ready */
  health: (): Answer => json(200, '{"name":"influxdb","status":"pass"}'),
  /** `GET /ping`: 204 with the version header */
  ping: (version = 'v2.7.11'): Answer => ({ status: 204, headers: { 'x-influxdb-version': version } }),
  /** a token the server does not accept */
  unauthorized: (): Answer => json(401, '{"code":"unauthorized","message":"unauthorized access"}'),
}

/** Documented answers of InfluxDB 3 Core (docs.influxdata.com/influxdb3/core/api). */
export const influx3 = {
  /** `GET /ping`: 200 with the version in the body and a header */
  ping: (version = '3.1.0'): Answer => json(200, JSON.stringify({ version }), { 'x-influxdb-version': version }),
  /** `POST /api/v3/configure/database`: 200, no body */
  created: (): Answer => ({ status: 200 }),
}

/** A stored write, in every version: 204 with no body. */
export const written = (): Answer => ({ status: 204 })

/** A JSON answer with these exact bytes. */
export { json as jsonAnswer }

/**
 * Not a fake answer: the request passed on to `to` (a real server) and its answer passed back as
 * it comes; `hostHeader` sets Host to `to`'s, `done` runs when the answer has passed through.
 */
export function forward(req: FakeRequest, to: URL, opts: { hostHeader?: boolean; done?: () => void } = {}): Answer {
  return (res) => {
    const up = request(to, { method: req.method, headers: opts.hostHeader ? { ...req.headers, host: to.host } : req.headers }, (r) => {
      res.writeHead(r.statusCode ?? 502, r.headers)
      r.pipe(res)
      if (opts.done) r.on('end', opts.done)
    })
    up.on('error', () => res.writeHead(502).end())
    up.end(req.body)
  }
}

function send(res: ServerResponse, a: Answer): void {
  if (typeof a === 'function') return a(res)
  if ('drop' in a) return void res.socket?.destroy()
  const reply = () => {
    if (res.destroyed) return
    if (!a.trickle) return void res.writeHead(a.status, a.headers).end(a.body)
    const { chunk, everyMs } = a.trickle
    res.writeHead(a.status, a.headers)
    const t = setInterval(() => (res.destroyed ? clearInterval(t) : res.write(chunk)), everyMs)
    res.on('close', () => clearInterval(t))
  }
  if (a.delayMs) setTimeout(reply, a.delayMs)
  else reply()
}

/** Starts a fake on a free loopback port; `script` answers every request. */
export async function startFakeInflux(script: Script, opts: FakeOptions = {}): Promise<FakeInflux> {
  const requests: FakeRequest[] = []
  let count = 0
  const fake: FakeInflux = { url: '', port: 0, requests, script, close: () => Promise.resolve() }
  const onRequest = (req: import('node:http').IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://fake')
      const r: FakeRequest = { n: count++, t: Date.now(), method: req.method ?? '', url: req.url ?? '/', path: url.pathname, params: url.searchParams, headers: req.headers, body: Buffer.concat(chunks) }
      if (opts.record !== false) requests.push(r)
      send(res, fake.script(r))
    })
  }
  const server: Server = opts.tls ? createHttps({ key: opts.tls.key, cert: opts.tls.cert }, onRequest) : createHttp(onRequest)
  if (opts.keepAliveTimeoutMs !== undefined) server.keepAliveTimeout = opts.keepAliveTimeoutMs
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  fake.port = (server.address() as AddressInfo).port
  fake.url = `${opts.tls ? 'https' : 'http'}://127.0.0.1:${fake.port}`
  fake.close = () =>
    new Promise<void>((r) => {
      server.closeAllConnections()
      server.close(() => r())
    })
  return fake
}
