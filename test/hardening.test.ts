import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { InfluxV1Client } from '../src/influx/v1.js'
import { Body, TradeEncoder } from '../src/lineprotocol/encoder.js'
import { escapeMeasurement, escapeTag } from '../src/lineprotocol/escape.js'
import { allocColumns, EXCHANGES } from '../src/market/trades.js'
import { MEASUREMENT_PATTERN, SYMBOL_PATTERN } from '../src/model/request.js'
import { startCoordinator, type Coordinator } from './harness/coordinator.js'

/** Fields the load request knows; anything else is rejected. */
const KNOWN = ['symbols', 'from', 'to', 'trades', 'seed', 'batchSize', 'ratePerSecond', 'distribution', 'measurement', 'weights', 'market', 'session']

const symbolRe = new RegExp(SYMBOL_PATTERN)
const measurementRe = new RegExp(MEASUREMENT_PATTERN)

/** Strings built to break things: separators, quotes, escapes, control bytes, unicode, length. */
const hostileString = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.constantFrom('A,B', 'A B', 'A=B', 'A\nB', 'A"B', "A'B", 'A\\', '\\', 'A\0B', '\u2028', 'x'.repeat(100_000), '日本', '', ' ', '__proto__', 'constructor', '${x}', '%00', '../../etc/passwd'),
)

/** A value of the wrong type or outside the limits, for each known field. */
const invalidValue: Record<string, fc.Arbitrary<unknown>> = {
  symbols: fc.oneof(fc.constant([]), hostileString.filter((s) => !symbolRe.test(s)).map((s) => [s]), fc.jsonValue().filter((v) => !Array.isArray(v))),
  from: fc.oneof(hostileString, fc.integer(), fc.constant(null)),
  to: fc.oneof(fc.integer(), fc.constant(null), fc.boolean()),
  trades: fc.oneof(fc.integer({ max: 0 }), fc.double({ noInteger: true }), fc.constant(10_000_000_001), hostileString, fc.constant(null)),
  seed: fc.oneof(fc.constant(''), fc.double({ noInteger: true }), fc.boolean(), fc.constant(null), fc.constant('s'.repeat(300))),
  batchSize: fc.oneof(fc.integer({ max: 0 }), fc.integer({ min: 100_001 }), hostileString),
  ratePerSecond: fc.oneof(fc.double({ max: 0 }), fc.constant(2e9), hostileString),
  distribution: hostileString.filter((s) => !['uniform', 'poisson', 'intraday', 'bursty'].includes(s)),
  measurement: hostileString.filter((s) => !measurementRe.test(s)),
  weights: fc.oneof(fc.constant({ AAPL: -1 }), fc.constant({ 'a b': 1 }), fc.constant([1])),
  market: fc.oneof(fc.constant({ tickSize: 0 }), fc.constant({ colour: 1 }), hostileString),
  session: fc.oneof(fc.constant({ open: '25:00' }), fc.constant({ timeZone: 'Mars/Olympus' , open: '09:30', close: '09:00' }), hostileString),
}

/** Bodies that must be refused: an invalid known field, or an unknown one, or not an object. */
const hostileBody = fc.oneof(
  fc
    .uniqueArray(fc.constantFrom(...KNOWN), { minLength: 1, maxLength: 3 })
    .chain((fields) => fc.tuple(...fields.map((f) => invalidValue[f]!.map((v) => [f, v] as const))))
    .map((pairs) => JSON.stringify(Object.fromEntries(pairs))),
  fc
    .dictionary(fc.string({ minLength: 1 }).filter((k) => !KNOWN.includes(k)), fc.jsonValue(), { minKeys: 1, maxKeys: 4 })
    .map((d) => JSON.stringify(d)),
  fc.jsonValue().filter((v) => v === null || typeof v !== 'object' || Array.isArray(v)).map((v) => JSON.stringify(v)),
  hostileString.filter((s) => {
    try {
      JSON.parse(s)
      return false
    } catch {
      return true
    }
  }),
)

describe('hostile input on every route (fast-check)', () => {
  let co: Coordinator
  beforeAll(async () => {
    co = await startCoordinator({ kind: 'null' }, 1)
  })
  afterAll(async () => {
    await co.close()
  })

  const refused = (res: { statusCode: number; body: string }) => {
    expect(res.statusCode, res.body).toBeGreaterThanOrEqual(400)
    expect(res.statusCode, res.body).toBeLessThan(500)
    const body = JSON.parse(res.body) as { message?: unknown; code?: unknown }
    expect(typeof body.message).toBe('string')
    expect((body.message as string).length).toBeGreaterThan(0)
    expect(typeof body.code).toBe('string')
  }

  it('POST /loads: every hostile body gets a 4xx with a message; no load starts', async () => {
    await fc.assert(
      fc.asyncProperty(hostileBody, fc.constantFrom('application/json', 'text/plain', 'application/x-www-form-urlencoded'), async (payload, type) => {
        refused(await co.app.inject({ method: 'POST', url: '/loads', payload, headers: { 'content-type': type } }))
      }),
      { numRuns: 400 },
    )
    expect(co.manager.list()).toHaveLength(0)
  })

  it('routes with ids and query strings: every hostile path or query gets a 4xx; the server stays up', async () => {
    const routes = [
      ['GET', (s: string) => `/loads/${s}`],
      ['DELETE', (s: string) => `/loads/${s}`],
      ['POST', (s: string) => `/loads/${s}/resume`],
      ['POST', (s: string) => `/loads/${s}/verify`],
      ['GET', (s: string) => `/candles?${s}`],
      ['GET', (s: string) => `/candles?symbol=${s}&from=${s}&to=${s}&interval=${s}`],
      ['PUT', (s: string) => `/${s}`],
    ] as const
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...routes), hostileString, async ([method, url], s) => {
        refused(await co.app.inject({ method, url: url(encodeURIComponent(s)) }))
      }),
      { numRuns: 400 },
    )
    expect(co.manager.list()).toHaveLength(0)
    expect((await co.app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200)
  })
})

/**
 * How InfluxDB 1.x splits the series key of a line: a comma, space or `=` is a separator unless the
 * byte before it is a backslash (models/points.go looks one byte back, nothing more).
 */
function seriesKeyParts(line: string): { measurement: string; tags: [string, string][]; rest: string } {
  const escaped = (i: number) => i > 0 && line[i - 1] === '\\'
  const parts: string[] = []
  let start = 0
  let i = 0
  for (; i < line.length; i++) {
    const c = line[i]!
    if ((c === ',' || c === ' ') && !escaped(i)) {
      parts.push(line.slice(start, i))
      start = i + 1
      if (c === ' ') break
    }
  }
  const [measurement = '', ...tagParts] = parts
  const tags = tagParts.map((t) => {
    let eq = -1
    for (let k = 0; k < t.length; k++) if (t[k] === '=' && !(k > 0 && t[k - 1] === '\\')) {
      eq = k
      break
    }
    return [t.slice(0, eq), t.slice(eq + 1)] as [string, string]
  })
  return { measurement, tags, rest: line.slice(i + 1) }
}

describe('escaping cannot be used to inject line protocol', () => {
  it('any measurement and tag value stays one measurement and one tag (random strings)', () => {
    fc.assert(
      fc.property(hostileString, hostileString, (m, v) => {
        if (m === '' || v === '') return
        if (m.endsWith('\\') || v.endsWith('\\')) {
          // the one thing line protocol cannot carry: refused, never written
          expect(() => `${escapeMeasurement(m)},symbol=${escapeTag(v)}`).toThrow(/cannot end with a backslash/)
          return
        }
        const line = `${escapeMeasurement(m)},symbol=${escapeTag(v)},exchange=X price=1 1`
        expect(line).not.toMatch(/[\n\r]/)
        const parsed = seriesKeyParts(line)
        expect(parsed.tags.map(([k]) => k)).toEqual(['symbol', 'exchange'])
        expect(parsed.tags[1]![1]).toBe('X')
        expect(parsed.rest).toBe('price=1 1')
      }),
      { numRuns: 2000 },
    )
  })

  it('hostile symbols and measurements written by the encoder reach a real influxd as one point each, fields intact', async () => {
    const url = inject('influxUrl')
    const db = 'hostile'
    const client = new InfluxV1Client({ kind: 'influx-v1', url, db, timeoutMs: 10_000 })
    await client.createDatabase()
    const hostile = ['A,B', 'A B', 'A=B', 'A"B', "A'B", 'A\\B', 'A\\ B', 'A\\,B', 'A\\=B', 'tab\tnl\nB', '日本', 'x'.repeat(5000), 'price=1', 'a b=c,d=e f=1']
    const cols = allocColumns(1)
    cols.timeNs[0] = 1000
    cols.priceUnits[0] = 12345
    cols.size[0] = 7
    cols.side[0] = 0
    cols.exchange[0] = 0
    try {
      for (const [n, s] of hostile.entries()) {
        const measurement = `m${n}`
        const body = new Body(64)
        const encoder = new TradeEncoder(measurement, EXCHANGES, 2)
        encoder.useSymbol(s)
        encoder.encode(cols, 0, 1, Date.parse('2024-01-01T00:00:00Z'), 42, body)
        await client.write(body.view(), 1)
        const r = await client.query(`SELECT * FROM "${measurement}"`)
        const series = r.results?.[0]?.series ?? []
        expect(series).toHaveLength(1)
        const row = Object.fromEntries(series[0]!.columns.map((c, k) => [c, series[0]!.values[0]![k]]))
        expect(series[0]!.values).toHaveLength(1)
        expect(row).toMatchObject({ price: 123.45, size: 7, trade_id: 42, side: 'buy' })
        // The tag holds the symbol (control characters and backslashes as their escapes); nothing leaked into other keys.
        expect(Object.keys(row).sort()).toEqual(['exchange', 'price', 'side', 'size', 'symbol', 'time', 'trade_id'])
        if (!/[\t\n]/.test(s)) expect(row.symbol).toBe(s)
      }
    } finally {
      client.close()
    }
  })
})
