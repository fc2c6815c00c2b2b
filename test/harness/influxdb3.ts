import { gunzipSync } from 'node:zlib'
import { influx3, jsonAnswer, startFakeInflux, written, type Answer, type FakeRequest } from './fakeInflux.js'

/**
 * A FAKE InfluxDB 3 Core, for tests only: no InfluxDB 3 server can be installed on these machines.
 * It answers as InfluxDB 3's documentation shows, byte for byte where the documentation gives the
 * bytes:
 * - `POST /api/v3/write_lp?db&precision&accept_partial&no_sync`: 204 with no body; a rejected line
 *   gives 400 `{"error":"partial write of line protocol occurred","data":[{"original_line","line_number","error_message"}, ...]}`
 *   (accept_partial=true, the default: the other lines are stored) or 400
 *   `{"error":"parsing failed for write_lp endpoint","data":{...}}` (accept_partial=false: nothing is
 *   stored) (docs: write-data/http-api/v3-write-lp); a database is created by its first write (Core);
 * - `POST /api/v3/configure/database` `{"db"}`: 200, 409 when it exists;
 * - `GET /ping`: 200 `{"version","revision","process_id"}` with `x-influxdb-version` and
 *   `x-influxdb-build` headers; `GET /health`: 200 `OK`;
 * - `GET /api/v3/query_influxql?db&q&format=json`: InfluxQL answered in 1.x's JSON shape
 *   (`results[].series[]`), for the two statements this tool sends (candles, counts by symbol),
 *   computed from the stored points. Its time column is an RFC 3339 string without a zone.
 * Not documented byte for byte, so chosen here: the 401 and 413 bodies (`{"error": "..."}`) and
 * the exact time format of InfluxQL answers; the client code depends on neither.
 */

export interface FakeV3Options {
  /** a Bearer token every request must carry (none: no auth, `--without-auth`) */
  token?: string
  /** request body limit (Core's --max-http-request-size; 10 MiB by default) */
  maxBodyBytes?: number
  /** a line's rejection reason, or undefined when it is stored */
  reject?: (line: string, lineNumber: number) => string | undefined
  version?: string
}

interface Point {
  symbol: string
  ns: bigint
  price: number
  size: number
}

export interface FakeV3 {
  url: string
  /** every request, in order */
  requests: FakeRequest[]
  /** bodies of successful or partial writes, decompressed */
  bodies: Buffer[]
  /** bytes of each write body as it came over the wire (gzipped or not) */
  wireBytes: number[]
  databases: Set<string>
  /** points stored in `db` (last write of a series and timestamp wins, as in InfluxDB) */
  count(db: string, measurement?: string): number
  stop(): Promise<void>
}

const json = (status: number, body: unknown, headers: Record<string, string> = {}): Answer => jsonAnswer(status, JSON.stringify(body), headers)

/** Our encoder's lines: `m,symbol=S,exchange=X price=1.23,size=100i,side="buy",trade_id=7i 1709...`. */
function parseLine(line: string): { measurement: string; key: string; point: Point } | undefined {
  const [series, fields, ts] = line.split(' ')
  if (!series || !fields || !ts) return undefined
  const [measurement = '', ...tags] = series.split(',')
  const tag = Object.fromEntries(tags.map((t) => t.split('=') as [string, string]))
  const field = Object.fromEntries(fields.split(',').map((f) => f.split('=') as [string, string]))
  if (field.price === undefined || field.size === undefined || tag.symbol === undefined) return undefined
  return {
    measurement,
    key: `${series} ${ts}`,
    point: { symbol: tag.symbol, ns: BigInt(ts), price: Number(field.price), size: Number(field.size.replace(/i$/, '')) },
  }
}

const isoNoZone = (ms: number) => new Date(ms).toISOString().replace(/\.000Z$|Z$/, '')

export async function startFakeInfluxdb3(opts: FakeV3Options = {}): Promise<FakeV3> {
  const version = opts.version ?? '3.6.0'
  const maxBody = opts.maxBodyBytes ?? 10 * 1024 * 1024
  /** db -> measurement -> series+time -> point */
  const data = new Map<string, Map<string, Map<string, Point>>>()
  const databases = new Set<string>()
  const bodies: Buffer[] = []
  const wireBytes: number[] = []

  const table = (db: string, m: string) => {
    databases.add(db)
    let d = data.get(db)
    if (!d) data.set(db, (d = new Map<string, Map<string, Point>>()))
    let t = d.get(m)
    if (!t) d.set(m, (t = new Map<string, Point>()))
    return t
  }

  const candles = (points: Point[], symbol: string, fromMs: number, toMs: number, stepMs: number) => {
    const bins = new Map<number, Point[]>()
    for (const p of points) {
      const ms = Number(p.ns / 1_000_000n)
      if (p.symbol !== symbol || ms < fromMs || ms >= toMs) continue
      const start = Math.floor(ms / stepMs) * stepMs
      let b = bins.get(start)
      if (!b) bins.set(start, (b = []))
      b.push(p)
    }
    return [...bins.entries()]
      .sort((a, b) => a[0] - b[0])
      .map(([start, ps]) => {
        ps.sort((a, b) => (a.ns < b.ns ? -1 : a.ns > b.ns ? 1 : 0))
        return [isoNoZone(start), ps[0]!.price, Math.max(...ps.map((p) => p.price)), Math.min(...ps.map((p) => p.price)), ps.at(-1)!.price, ps.reduce((t, p) => t + p.size, 0), ps.length]
      })
  }

  const influxQL = (db: string, q: string): unknown => {
    const c = /^SELECT first\("price"\) AS "open", max\("price"\) AS "high", min\("price"\) AS "low", last\("price"\) AS "close", sum\("size"\) AS "volume", count\("price"\) AS "trades" FROM "(\w+)" WHERE "symbol" = '([A-Z0-9.-]+)' AND time >= (\d+)ms AND time < (\d+)ms GROUP BY time\((\d+)ms\) fill\(none\)$/.exec(q)
    if (c) {
      const [, m, symbol, from, to, step] = c as unknown as [string, string, string, string, string, string]
      const values = candles([...(data.get(db)?.get(m)?.values() ?? [])], symbol, Number(from), Number(to), Number(step))
      return { results: [{ statement_id: 0, ...(values.length ? { series: [{ name: m, columns: ['time', 'open', 'high', 'low', 'close', 'volume', 'trades'], values }] } : {}) }] }
    }
    const n = /^SELECT count\("trade_id"\) FROM "(\w+)" WHERE time >= (\d+)ms AND time < (\d+)ms GROUP BY "symbol"$/.exec(q)
    if (n) {
      const [, m, from, to] = n as unknown as [string, string, string, string]
      const bySymbol = new Map<string, number>()
      for (const p of data.get(db)?.get(m)?.values() ?? []) {
        const ms = Number(p.ns / 1_000_000n)
        if (ms >= Number(from) && ms < Number(to)) bySymbol.set(p.symbol, (bySymbol.get(p.symbol) ?? 0) + 1)
      }
      const series = [...bySymbol.entries()].sort().map(([symbol, count]) => ({ name: m, tags: { symbol }, columns: ['time', 'count'], values: [[isoNoZone(Number(from)), count]] }))
      return { results: [{ statement_id: 0, ...(series.length ? { series } : {}) }] }
    }
    return undefined
  }

  const respond = (req: FakeRequest): Answer => {
    let body = req.body
    if (req.path === '/health') return { status: 200, headers: { 'content-type': 'text/plain' }, body: 'OK' }
    if (opts.token !== undefined && req.headers.authorization !== `Bearer ${opts.token}`) return json(401, { error: 'the request was not authenticated' })
    if (req.path === '/ping') {
      return json(200, { version, revision: 'fake000', process_id: '00000000-0000-0000-0000-000000000000' }, { 'x-influxdb-version': version, 'x-influxdb-build': 'Core' })
    }
    if (req.path === '/api/v3/configure/database' && req.method === 'POST') {
      const db = (JSON.parse(body.toString()) as { db?: string }).db ?? ''
      if (databases.has(db)) return json(409, { error: 'attempted to create a resource that already exists' })
      databases.add(db)
      return influx3.created()
    }
    if (req.path === '/api/v3/write_lp' && req.method === 'POST') {
      if (body.length > maxBody) return json(413, { error: `the request was too large: ${body.length} bytes, at most ${maxBody}` })
      wireBytes.push(body.length)
      // the docs: gzip-encoded bodies are taken with Content-Encoding: gzip
      if (req.headers['content-encoding'] === 'gzip') body = gunzipSync(body)
      const db = req.params.get('db') ?? ''
      const acceptPartial = req.params.get('accept_partial') !== 'false'
      const lines = body.toString('utf8').split('\n').filter((l) => l !== '')
      const rejected: { original_line: string; line_number: number; error_message: string }[] = []
      const good: ReturnType<typeof parseLine>[] = []
      for (const [i, line] of lines.entries()) {
        const why = opts.reject?.(line, i + 1) ?? (parseLine(line) ? undefined : 'invalid line protocol')
        if (why) rejected.push({ original_line: line, line_number: i + 1, error_message: why })
        else good.push(parseLine(line))
      }
      if (rejected.length > 0 && !acceptPartial) return json(400, { error: 'parsing failed for write_lp endpoint', data: rejected[0] })
      bodies.push(body)
      for (const g of good) table(db, g!.measurement).set(g!.key, g!.point)
      if (rejected.length > 0) return json(400, { error: 'partial write of line protocol occurred', data: rejected })
      return written()
    }
    if (req.path === '/api/v3/query_influxql') {
      const db = req.params.get('db') ?? ''
      if (!databases.has(db)) return json(404, { error: `database not found: ${db}` })
      const answer = influxQL(db, req.params.get('q') ?? '')
      if (answer === undefined) return json(400, { error: 'the fake InfluxDB 3 does not know this statement' })
      return json(200, answer)
    }
    // InfluxDB 3 has no Flux: /api/v2/query is not there
    return json(404, { error: `no route ${req.method} ${req.path}` })
  }

  const server = await startFakeInflux(respond)
  return {
    url: server.url,
    requests: server.requests,
    bodies,
    wireBytes,
    databases,
    count: (db, measurement = 'trades') => data.get(db)?.get(measurement)?.size ?? 0,
    stop: () => server.close(),
  }
}
