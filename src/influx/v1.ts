import type http from 'node:http'
import { SinkUnavailableError, WriteError } from '../errors.js'
import { Redactor } from '../secrets.js'
import { compress, endpoint, identifyInflux, keepAliveAgent, request, serverMessage, writeErrorFrom, writeHeaders } from './http.js'
import { WireClient } from './wire.js'

export interface InfluxV1Target {
  kind: 'influx-v1'
  url: string
  db: string
  rp?: string
  /** create the database before a load (default true); false: a missing database fails the first write with 404 */
  createDb?: boolean
  username?: string
  password?: string
  /** zlib level of write bodies (Content-Encoding: gzip); 0 or absent: uncompressed */
  gzipLevel?: number
  timeoutMs: number
}

/** Quotes an InfluxQL identifier. */
export function quoteIdent(name: string): string {
  return `"${name.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`
}

/** InfluxDB 1.x over its HTTP API: `/write`, `/query`, `/ping`. Credentials go in a Basic header, never the URL. */
export class InfluxV1Client {
  private readonly base: URL
  private readonly agent: http.Agent
  private readonly auth: Record<string, string>
  private readonly wire: WireClient
  private readonly redact: (text: string) => string

  constructor(
    private readonly target: InfluxV1Target,
    maxSockets = 4,
  ) {
    this.base = new URL(target.url)
    this.agent = keepAliveAgent(this.base, maxSockets)
    this.auth =
      target.username !== undefined
        ? { authorization: `Basic ${Buffer.from(`${target.username}:${target.password ?? ''}`).toString('base64')}` }
        : {}
    const redactor = Redactor.forCredentials(target)
    this.redact = (t) => redactor.redact(t)
    this.wire = new WireClient(endpoint(this.base, '/write', { db: target.db, rp: target.rp, precision: 'ns' }), { ...this.auth, ...writeHeaders(target.gzipLevel) }, maxSockets, this.redact)
  }

  /** Only a 204 is a stored write in InfluxDB 1.x: a 200 (`{"error": ...}` from a proxy or an impostor) is not. */
  async write(body: Buffer, lines: number): Promise<void> {
    const res = await this.wire.post(compress(body, this.target.gzipLevel), this.target.timeoutMs)
    if (res.status !== 204) throw writeErrorFrom(res, lines, Date.now())
  }

  /** Runs InfluxQL; returns the parsed JSON. Statement errors are thrown with the server's message. */
  async query(q: string, method: 'GET' | 'POST' = 'GET', epoch: 'ns' | 'ms' = 'ns'): Promise<InfluxQLResult> {
    const res = await request(endpoint(this.base, '/query', { db: this.target.db, q, epoch }), {
      method,
      headers: this.auth,
      agent: this.agent,
      timeoutMs: this.target.timeoutMs,
      redact: this.redact,
    })
    if (res.status !== 200) throw writeErrorFrom(res, 0, Date.now())
    const parsed = JSON.parse(res.body) as InfluxQLResult
    const failed = parsed.results?.find((r) => r.error)
    if (parsed.error || failed) throw new WriteError(`InfluxDB query failed: ${parsed.error ?? failed?.error}`)
    // influxd cuts results at its max-row-limit and says so: a silent truncation would lie.
    if (parsed.results?.some((r) => r.partial || r.series?.some((x) => x.partial))) {
      throw new WriteError('InfluxDB returned a partial result (max-row-limit); query a shorter range')
    }
    return parsed
  }

  async ping(): Promise<void> {
    const res = await request(endpoint(this.base, '/ping', {}), { method: 'GET', headers: this.auth, agent: this.agent, timeoutMs: 2000, redact: this.redact })
    if (res.status !== 204 && res.status !== 200) {
      throw new SinkUnavailableError(`InfluxDB ping answered ${res.status}: ${serverMessage(res)}`)
    }
  }

  /** Checks that the server says it is InfluxDB before a load counts its 204s as stored writes (see identifyInflux). */
  identify(): Promise<string> {
    const write = endpoint(this.base, '/write', { db: this.target.db, rp: this.target.rp, precision: 'ns' })
    return identifyInflux(this.base, write, { headers: this.auth, agent: this.agent, timeoutMs: this.target.timeoutMs, redact: this.redact })
  }

  /** CREATE DATABASE is idempotent in InfluxDB 1.x: it succeeds when the database exists. */
  async createDatabase(): Promise<void> {
    await this.query(`CREATE DATABASE ${quoteIdent(this.target.db)}`, 'POST')
  }

  /** Points in a measurement: count of a field that every point has. */
  async countPoints(measurement: string, field = 'trade_id'): Promise<number> {
    const r = await this.query(`SELECT count(${quoteIdent(field)}) FROM ${quoteIdent(measurement)}`)
    const value = r.results?.[0]?.series?.[0]?.values?.[0]?.[1]
    return typeof value === 'number' ? value : 0
  }

  close(): void {
    this.agent.destroy()
    this.wire.close()
  }
}

export interface InfluxQLResult {
  error?: string
  results?: {
    statement_id?: number
    error?: string
    partial?: boolean
    series?: { name: string; tags?: Record<string, string>; columns: string[]; values: unknown[][]; partial?: boolean }[]
  }[]
}
