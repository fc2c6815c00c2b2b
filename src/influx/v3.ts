import type http from 'node:http'
import { parseRetryAfter, SinkUnavailableError, WriteError } from '../errors.js'
import { Redactor } from '../secrets.js'
import { compress, endpoint, keepAliveAgent, notInflux, request, serverMessage, serverVersion, writeHeaders, type HttpResponse } from './http.js'
import type { InfluxQLResult } from './v1.js'
import { WireClient } from './wire.js'

export interface InfluxV3Target {
  kind: 'influx-v3'
  url: string
  db: string
  token: string
  /** no_sync=true: acknowledged before the WAL is persisted (faster; a server crash may lose acknowledged points) */
  noSync: boolean
  /**
   * accept_partial=true: a batch with rejected lines keeps its other lines. Off by default: the
   * server lists rejected lines only up to a cap (100 on Cloud Dedicated), beyond which the
   * account could not say which lines were stored; off, a rejected batch stores nothing.
   */
  acceptPartial: boolean
  /** create the database before a load (default true) */
  createDb: boolean
  /** zlib level of write bodies (Content-Encoding: gzip); 0 or absent: uncompressed */
  gzipLevel?: number
  timeoutMs: number
}

/** InfluxDB 3 Core's default request limit (`--max-http-request-size`): bigger bodies get a 413. */
export const V3_MAX_REQUEST_BYTES = 10 * 1024 * 1024
/** Rejected lines a server lists at most in a partial-write answer (Cloud Dedicated documents 100). */
const V3_REJECTED_LINES_LISTED = 100

interface RejectedLine {
  original_line?: string
  line_number?: number
  error_message?: string
}

/** Says what a schema or limit error of InfluxDB 3 means for a load, or nothing for others. */
function explainV3(message: string): string {
  if (/invalid column type|expected iox::column_type/i.test(message)) {
    return ': the measurement already has a column of that name with another type (a tag and a field of one name, or a field whose type changed); write to a new measurement (--measurement) or database'
  }
  if (/database limit|too many databases|maximum number of databases/i.test(message)) return ': the server holds as many databases as it allows (InfluxDB 3 Core: 5); drop one or reuse a database (INFLUX_DB)'
  if (/table limit|too many tables|maximum number of tables/i.test(message)) return ': the database holds as many tables as it allows (InfluxDB 3 Core: 2,000); use another database'
  if (/column limit|too many columns|maximum number of columns/i.test(message)) return ': the table has as many columns as it allows (InfluxDB 3 Core: 500)'
  return ''
}

/**
 * A failed `/api/v3/write_lp` answer as a WriteError. A 400 that lists rejected lines is a partial
 * write (accept_partial=true: the other lines were stored) or a rejected batch (accept_partial=false:
 * nothing was stored); either way the count of stored lines is exact, and the error names the first
 * rejected line and why. A list as long as the server's cap may be cut short: then nothing is
 * counted as stored (the database may hold more: the account's bound still holds).
 */
export function v3WriteError(res: HttpResponse, lines: number, acceptPartial: boolean, nowMs: number): WriteError {
  const retryAfter = res.headers['retry-after']
  const base = { status: res.status, retryAfterMs: parseRetryAfter(typeof retryAfter === 'string' ? retryAfter : undefined, nowMs) }
  let parsed: { error?: unknown; data?: unknown } | undefined
  try {
    parsed = JSON.parse(res.body) as { error?: unknown; data?: unknown }
  } catch {
    // not JSON
  }
  const data = parsed?.data
  const rejected: RejectedLine[] = Array.isArray(data) ? (data as RejectedLine[]) : data && typeof data === 'object' ? [data] : []
  if (res.status === 400 && rejected.length > 0) {
    const first = rejected[0]!
    const reason = typeof first.error_message === 'string' ? first.error_message : typeof parsed?.error === 'string' ? parsed.error : 'rejected'
    const numbers = new Set(rejected.map((r) => r.line_number).filter((n): n is number => Number.isSafeInteger(n)))
    const partial = Array.isArray(data) && acceptPartial
    const complete = numbers.size < V3_REJECTED_LINES_LISTED
    const stored = partial && complete ? Math.max(0, lines - numbers.size) : 0
    const what = partial
      ? complete
        ? `${numbers.size} of ${lines} lines rejected, the others stored`
        : `at least ${numbers.size} of ${lines} lines rejected (the server lists ${V3_REJECTED_LINES_LISTED} at most: the others may be stored, and count failed)`
      : `the batch of ${lines} lines was rejected, none stored (accept_partial=false)`
    return new WriteError(
      `InfluxDB 3 answered 400: ${what}; line ${first.line_number ?? '?'}: ${reason}${explainV3(reason)} (line: ${String(first.original_line ?? '').slice(0, 200)})`,
      { ...base, pointsAccepted: stored, rejectedLines: partial ? numbers.size : lines },
    )
  }
  const msg = serverMessage(res)
  return new WriteError(`InfluxDB 3 answered ${res.status}: ${msg}${explainV3(msg)}`, base)
}

/**
 * InfluxDB 3 (Core, Enterprise, Cloud) over its v3 HTTP API: `/api/v3/write_lp` with nanosecond
 * timestamps (never `auto`: ours are nanoseconds, and auto guesses from magnitude), a Bearer
 * token, `/api/v3/configure/database`, and InfluxQL on `/api/v3/query_influxql` for candles and
 * verify (InfluxDB 3 has no Flux).
 */
export class InfluxV3Client {
  private readonly base: URL
  private readonly agent: http.Agent
  private readonly auth: Record<string, string>
  private readonly wire: WireClient
  private readonly redact: (text: string) => string

  constructor(
    private readonly target: InfluxV3Target,
    maxSockets = 4,
  ) {
    this.base = new URL(target.url)
    this.agent = keepAliveAgent(this.base, maxSockets)
    this.auth = target.token ? { authorization: `Bearer ${target.token}` } : {}
    const params: Record<string, string> = { db: target.db, precision: 'nanosecond', accept_partial: String(target.acceptPartial) }
    if (target.noSync) params.no_sync = 'true'
    const redactor = Redactor.forCredentials(target)
    this.redact = (t) => redactor.redact(t)
    this.wire = new WireClient(endpoint(this.base, '/api/v3/write_lp', params), { ...this.auth, ...writeHeaders(target.gzipLevel) }, maxSockets, this.redact)
  }

  /** Only a 204 is a stored write (the documented answer of /api/v3/write_lp). */
  async write(body: Buffer, lines: number): Promise<void> {
    const res = await this.wire.post(compress(body, this.target.gzipLevel), this.target.timeoutMs)
    if (res.status !== 204) throw v3WriteError(res, lines, this.target.acceptPartial, Date.now())
  }

  /** Creates the database; one that exists already (409) is fine. */
  async createDatabase(): Promise<void> {
    const res = await request(endpoint(this.base, '/api/v3/configure/database'), {
      method: 'POST',
      headers: { ...this.auth, 'content-type': 'application/json' },
      body: JSON.stringify({ db: this.target.db }),
      agent: this.agent,
      timeoutMs: this.target.timeoutMs,
      redact: this.redact,
    })
    if (res.status === 200 || res.status === 201 || res.status === 204 || res.status === 409) return
    const msg = serverMessage(res)
    throw new WriteError(`InfluxDB 3 answered ${res.status}: ${msg}${explainV3(msg)}`, { status: res.status })
  }

  /** `/ping` answers with the server's version; an InfluxDB that is not 3.x is said so. */
  async ping(): Promise<string> {
    let res: HttpResponse
    try {
      res = await request(endpoint(this.base, '/ping'), { method: 'GET', headers: this.auth, agent: this.agent, timeoutMs: 2000, redact: this.redact })
    } catch (e) {
      throw new SinkUnavailableError(`InfluxDB at ${this.base.host} is unreachable: ${(e as Error).message}`)
    }
    if (res.status === 401 || res.status === 403) throw new SinkUnavailableError(`InfluxDB 3 at ${this.base.host} refused the token (${res.status}): set INFLUX_TOKEN`)
    if (res.status !== 200 && res.status !== 204) throw new SinkUnavailableError(`InfluxDB ping answered ${res.status}: ${serverMessage(res)}`)
    const version = serverVersion(res)
    if (!version) throw notInflux(this.base.host, res)
    if (!/^v?3\./.test(version)) {
      throw new SinkUnavailableError(`the server at ${this.base.host} is InfluxDB ${version}, not 3.x: use INFLUX_API=${/^v?2\./.test(version) ? 'v2' : 'v1'} (--influx-api)`)
    }
    return version
  }

  /** InfluxQL through `/api/v3/query_influxql` (JSON: the same results shape as 1.x). */
  async query(q: string): Promise<InfluxQLResult> {
    const res = await request(endpoint(this.base, '/api/v3/query_influxql', { db: this.target.db, q, format: 'json' }), {
      method: 'GET',
      headers: this.auth,
      agent: this.agent,
      timeoutMs: this.target.timeoutMs,
      redact: this.redact,
    })
    if (res.status !== 200) {
      const msg = serverMessage(res)
      throw new WriteError(`InfluxDB 3 query failed (${res.status}): ${msg}`, { status: res.status })
    }
    const parsed = JSON.parse(res.body) as InfluxQLResult
    const failed = parsed.results?.find((r) => r.error)
    if (parsed.error || failed) throw new WriteError(`InfluxDB 3 query failed: ${parsed.error ?? failed?.error}`)
    return parsed
  }

  close(): void {
    this.agent.destroy()
    this.wire.close()
  }
}

/**
 * The most bytes a line of a load can take: measurement, the longest symbol, and our fields at
 * their widest (price with 8 decimals, size, side, an 11-digit trade id, a 19-digit timestamp).
 */
function maxLineBytes(spec: { measurement: string; symbols: readonly string[] }): number {
  const longest = spec.symbols.reduce((n, s) => Math.max(n, s.length), 0)
  return spec.measurement.length + longest + 120
}

/**
 * Said before a load to InfluxDB 3 whose batches could pass the server's request limit: each such
 * batch gets a 413 and is split in two (exact, but every split is a wasted request).
 */
export function v3BatchWarning(spec: { measurement: string; symbols: readonly string[]; batchSize: number }): string | undefined {
  const perLine = maxLineBytes(spec)
  const bytes = spec.batchSize * perLine
  if (bytes <= V3_MAX_REQUEST_BYTES) return undefined
  const fits = Math.floor(V3_MAX_REQUEST_BYTES / perLine)
  return `batches of ${spec.batchSize} lines can take ${(bytes / 2 ** 20).toFixed(1)} MiB, above InfluxDB 3's default request limit of 10 MiB: the server answers 413 and each such batch is split in two (exact, but slower); --batch-size ${fits} or less stays under it`
}

/** Columns a load's table has in InfluxDB 3, whatever the request: tags symbol and exchange, fields price, size, side and trade_id, and time. */
export const V3_COLUMNS_PER_LOAD = 7
