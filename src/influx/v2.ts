import http from 'node:http'
import https from 'node:https'
import { HttpError, InfluxDB } from '@influxdata/influxdb-client'
import { SinkUnavailableError, WriteError, parseRetryAfter } from '../errors.js'
import { endpoint, request } from './http.js'
import { serverVersion } from './v3.js'

/**
 * Rejects when the server says it is InfluxDB 3 (its /ping's version): it takes v2 writes but has
 * no Flux, so candles and verify would fail later and obscurely. Servers that do not say (2.x
 * answers /health; VictoriaMetrics has no version header) pass.
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
  }

  async write(body: Buffer, _lines: number): Promise<void> {
    try {
      await this.influx.transport.request(this.writePath, body.toString('latin1'), {
        method: 'POST',
        headers: { 'content-type': 'text/plain; charset=utf-8' },
        // the client's transport compresses (zlib's default level) when asked to
        ...(this.target.gzipLevel ? { gzipThreshold: 0 } : {}),
      })
    } catch (e) {
      throw toWriteError(e)
    }
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
    await v2SpeaksFlux(this.target.url, this.target.timeoutMs)
  }

  close(): void {
    this.agent.destroy()
  }
}

function toWriteError(e: unknown): WriteError {
  if (e instanceof HttpError) {
    const header = e.headers?.['retry-after']
    const msg = (e.json as { message?: string } | undefined)?.message ?? e.body ?? e.statusMessage ?? ''
    return new WriteError(`InfluxDB answered ${e.statusCode}: ${String(msg).slice(0, 1000)}`, {
      status: e.statusCode,
      // Retry-After is seconds per RFC 9110; parse it ourselves rather than via e.retryAfter().
      retryAfterMs: parseRetryAfter(typeof header === 'string' ? header : undefined, Date.now()),
      cause: e,
    })
  }
  const err = e as Error & { code?: string }
  return new WriteError(`cannot write to InfluxDB: ${err.code ?? err.message}`, { cause: e })
}
