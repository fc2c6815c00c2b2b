import http from 'node:http'
import https from 'node:https'
import { HttpError, InfluxDB } from '@influxdata/influxdb-client'
import { SinkUnavailableError, WriteError, parseRetryAfter } from '../errors.js'
import { Redactor } from '../secrets.js'
import { endpoint, identifyInflux, request, serverVersion, transportError } from './http.js'

/**
 * Rejects when the server says it is InfluxDB 3 (its /ping's version): it takes v2 writes but has
 * no Flux, so candles and verify would fail later and obscurely. Servers that do not say pass (the
 * load's own check, InfluxV2Client.ping, has refused those that do not say they are InfluxDB).
 */
export async function v2SpeaksFlux(base: string, timeoutMs: number): Promise<void> {
  let version: string | undefined
  try {
    version = serverVersion(await request(endpoint(new URL(base), '/ping'), { method: 'GET', timeoutMs: Math.min(timeoutMs, 5000) }))
  } catch {
    return // unreachable: the health check or the query says so in its own words
  }
  if (version && /^v?3\./.test(version)) {
    throw new SinkUnavailableError(`the server at ${new URL(base).host} is InfluxDB ${version}, which has no Flux: use INFLUX_API=v3 (--influx-api v3) with INFLUX_DB`)
  }
}

export interface InfluxV2Target {
  kind: 'influx-v2'
  url: string
  org: string
  bucket: string
  token: string
  /** zlib level of write bodies (Content-Encoding: gzip); 0 or absent: uncompressed */
  gzipLevel?: number
  timeoutMs: number
}

/**
 * InfluxDB 2.x `/api/v2/write` through @influxdata/influxdb-client's transport. The client's
 * WriteApi re-batches points itself; we already hold finished bodies, so we post them through the
 * transport it uses (keep-alive agent, token header, its error types) and keep our own batching
 * and retry policy. Its transport takes a string body: line protocol here is ASCII, so a latin1
 * view is a cheap, lossless conversion.
 */
export class InfluxV2Client {
  private readonly influx: InfluxDB
  private readonly agent: http.Agent
  private readonly writePath: string
  private readonly redact: (text: string) => string

  constructor(
    private readonly target: InfluxV2Target,
    maxSockets = 4,
  ) {
    const url = new URL(target.url)
    const Agent = url.protocol === 'https:' ? https.Agent : http.Agent
    this.agent = new Agent({ keepAlive: true, maxSockets, maxFreeSockets: maxSockets })
    this.influx = new InfluxDB({
      url: target.url,
      token: target.token,
      timeout: target.timeoutMs,
      transportOptions: { agent: this.agent },
    })
    const q = new URLSearchParams({ org: target.org, bucket: target.bucket, precision: 'ns' })
    this.writePath = `/api/v2/write?${q.toString()}`
    const redactor = Redactor.forCredentials(target)
    this.redact = (t) => redactor.redact(t)
  }

  /**
   * Only a 204 is a stored write. The client's own timeout is an idle one: an AbortSignal gives
   * the request a total deadline, so a server that trickles its answer cannot hold the batch.
   */
  async write(body: Buffer, _lines: number): Promise<void> {
    let status = 0
    try {
      await this.influx.transport.request(
        this.writePath,
        body.toString('latin1'),
        {
          method: 'POST',
          headers: { 'content-type': 'text/plain; charset=utf-8' },
          // the client's transport compresses (zlib's default level) when asked to
          ...(this.target.gzipLevel ? { gzipThreshold: 0 } : {}),
          signal: AbortSignal.timeout(this.target.timeoutMs),
        },
        (_headers, code) => (status = code ?? 0),
      )
    } catch (e) {
      if ((e as Error).name === 'AbortError') throw transportError.noAnswer(new URL(this.target.url).host, this.target.timeoutMs)
      throw toWriteError(e, this.redact)
    }
    if (status !== 204) throw new WriteError(`InfluxDB answered ${status} where a stored write gets 204: not counted as written`, { status })
  }

  /** `/health` answers 200 on InfluxDB 2.x (and VictoriaMetrics); under the URL's path, as the writes are. */
  async ping(): Promise<void> {
    const url = endpoint(new URL(this.target.url), '/health')
    let status: number
    try {
      status = (await request(url, { method: 'GET', timeoutMs: 2000 })).status
    } catch (e) {
      throw new SinkUnavailableError(`InfluxDB at ${url.host} is unreachable: ${(e as Error).message}`)
    }
    if (status !== 200) throw new SinkUnavailableError(`InfluxDB health check answered ${status}`)
    await this.identify()
  }

  /**
   * The server must say it is InfluxDB: `/ping`'s X-Influxdb-Version (2.x), or the same header on
   * the answer to an empty write (VictoriaMetrics says it there only). It is refused when it says
   * 3.x: that takes v2 writes but has no Flux, so candles and verify would fail later and obscurely.
   */
  private async identify(): Promise<void> {
    const base = new URL(this.target.url)
    const auth: Record<string, string> = this.target.token ? { authorization: `Token ${this.target.token}` } : {}
    const version = await identifyInflux(base, endpoint(base, this.writePath), { headers: auth, timeoutMs: this.target.timeoutMs, redact: this.redact })
    if (/^v?3\./.test(version)) {
      throw new SinkUnavailableError(`the server at ${base.host} is InfluxDB ${version}, which has no Flux: use INFLUX_API=v3 (--influx-api v3) with INFLUX_DB`)
    }
  }

  close(): void {
    this.agent.destroy()
  }
}

function toWriteError(e: unknown, redact: (text: string) => string): WriteError {
  if (e instanceof HttpError) {
    const header = e.headers?.['retry-after']
    const msg = (e.json as { message?: string } | undefined)?.message ?? e.body ?? e.statusMessage ?? ''
    // the server's text may echo the token (a proxy quoting the Authorization header)
    return new WriteError(`InfluxDB answered ${e.statusCode}: ${redact(String(msg).slice(0, 1000))}`, {
      status: e.statusCode,
      // Retry-After is seconds per RFC 9110; parse it ourselves rather than via e.retryAfter().
      retryAfterMs: parseRetryAfter(typeof header === 'string' ? header : undefined, Date.now()),
    })
  }
  const err = e as Error & { code?: string }
  return new WriteError(`cannot write to InfluxDB: ${err.code ?? err.message}`, { cause: e })
}
