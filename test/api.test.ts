import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { LoadView } from '../src/api/schemas.js'
import { startCoordinator, type Coordinator } from './harness/coordinator.js'

// Routes through app.inject(), with a real pool behind them and the null sink (no database needed
// to check what the API accepts and answers).
describe('HTTP API', () => {
  let co: Coordinator
  beforeAll(async () => {
    co = await startCoordinator({ kind: 'null' }, 1)
  })
  afterAll(async () => {
    await co.close()
  })

  const post = (payload: string, contentType = 'application/json') =>
    co.app.inject({ method: 'POST', url: '/loads', payload, headers: { 'content-type': contentType } })

  // [body, status, words in the message]
  const BAD: [string, number, RegExp][] = [
    ['{"trades": "many"}', 400, /^body\.trades: must be integer$/],
    ['{"trades": 0}', 400, /^body\.trades: must be >= 1$/],
    ['{"trades": 10000000001}', 400, /^body\.trades: must be <= 10000000000$/],
    ['{"symbols": ["AAPL", "bad sym"]}', 400, /^body\.symbols\[1\]: must match/],
    ['{"distribution": "normal"}', 400, /^body\.distribution: must be one of uniform, poisson, intraday, bursty$/],
    ['{"colour": "red"}', 400, /^body\.colour: is not a known field$/],
    ['{"from": "2024-01-02T00:00:00Z", "to": "2024-01-01T00:00:00Z"}', 400, /^from: must be before to$/],
    ['{"from": "last tuesday"}', 400, /^from: must be an ISO-8601 instant/],
    ['{"measurement": "a,b"}', 400, /^body\.measurement: must match/],
    ['{"batchSize": 0}', 400, /^body\.batchSize: must be >= 1$/],
    ['[1, 2]', 400, /^body: must be object$/],
    ['{"trades": 1000', 400, /JSON/],
    ['', 400, /empty/i],
  ]

  it.each(BAD)('POST /loads %s → %i', async (payload, status, message) => {
    const res = await post(payload)
    expect(res.statusCode).toBe(status)
    const body = res.json<{ statusCode: number; code: string; message: string }>()
    expect(body.statusCode).toBe(status)
    expect(body.message).toMatch(message)
    expect(body.code).toMatch(/^(OHLCV_INVALID_REQUEST|FST_)/)
    expect(JSON.stringify(body)).not.toMatch(/\bat .*\.(js|ts):\d+/) // no stack trace
  })

  it('no load starts on bad input', async () => {
    const before = co.manager.list().length
    await post('{"trades": -1}')
    expect(co.manager.list().length).toBe(before)
  })

  it('rejects a body that is not JSON with 415, and oversized bodies with 413', async () => {
    expect((await post('trades=5', 'application/x-www-form-urlencoded')).statusCode).toBe(415)
    const huge = JSON.stringify({ symbols: Array.from({ length: 100_000 }, (_, i) => `SYM${i}`) })
    expect((await post(huge)).statusCode).toBe(413)
  })

  it('an empty POST starts the default load, and GET reports it', async () => {
    const res = await co.app.inject({ method: 'POST', url: '/loads' })
    expect(res.statusCode).toBe(202)
    const created = res.json<{ id: string; seed: string; shards: number }>()
    expect(res.headers.location).toBe(`/loads/${created.id}`)
    expect(created.seed).toBe('seed-from-test')
    expect(created.shards).toBe(10)
    const done = await co.waitDone(created.id)
    expect(done.request.symbols).toEqual(['AAPL', 'MSFT', 'GOOG', 'AMZN', 'TSLA'])
    expect(done.result).toMatchObject({ status: 'succeeded', pointsPlanned: 1_000_000, pointsWritten: 1_000_000 })
    expect(Date.parse(done.request.to) - Date.parse(done.request.from)).toBe(86_400_000)
    expect(done.finishedAt).toBeDefined()
  })

  it('GET /loads/:id progress fields are present while running', async () => {
    const res = await post(JSON.stringify({ trades: 3_000_000, seed: 'progress' }))
    const { id } = res.json<{ id: string }>()
    const view = (await co.app.inject({ method: 'GET', url: `/loads/${id}` })).json<LoadView>()
    expect(view.progress).toEqual(
      expect.objectContaining({ pointsPlanned: 3_000_000, shardsTotal: 30, pointsPerSecond: expect.any(Number) as number }),
    )
    expect('etaSeconds' in view.progress).toBe(true)
    await co.waitDone(id)
  })

  it('unknown ids and routes are 404 with a message', async () => {
    for (const [method, url] of [['GET', '/loads/nope'], ['DELETE', '/loads/nope'], ['GET', '/nowhere']] as const) {
      const res = await co.app.inject({ method, url })
      expect(res.statusCode).toBe(404)
      expect(res.json<{ message: string }>().message).toMatch(/nope|nowhere/)
    }
  })

  it('DELETE is idempotent: asked again while the load stops, or after a cancel stopped it, 202 again; a load that succeeded is 409', async () => {
    const { id } = (await post(JSON.stringify({ trades: 2_000_000_000, seed: 'twice' }))).json<{ id: string }>()
    const first = await co.app.inject({ method: 'DELETE', url: `/loads/${id}` })
    const second = await co.app.inject({ method: 'DELETE', url: `/loads/${id}` })
    expect([first.statusCode, second.statusCode]).toEqual([202, 202])
    await co.waitDone(id)
    // before: 409 OHLCV_LOAD_FINISHED "load ... has already cancelled"
    const after = await co.app.inject({ method: 'DELETE', url: `/loads/${id}` })
    expect(after.statusCode).toBe(202)
    expect(after.json<LoadView>()).toMatchObject({ id, status: 'cancelled' })
    const { id: small } = (await post(JSON.stringify({ trades: 1000, seed: 'done' }))).json<{ id: string }>()
    await co.waitDone(small)
    const finished = await co.app.inject({ method: 'DELETE', url: `/loads/${small}` })
    expect([finished.statusCode, finished.json<{ code: string }>().code]).toEqual([409, 'OHLCV_LOAD_FINISHED'])
  })

  it('an integer seed beyond 2^53 is refused naming seed (JSON has lost its digits); as a string it is kept exactly', async () => {
    const big = await post('{"trades": 1000, "seed": 12345678901234567890}')
    // before: 202, stored and echoed as 12345678901234567000
    expect(big.statusCode).toBe(400)
    expect(big.json()).toMatchObject({
      code: 'OHLCV_INVALID_REQUEST',
      field: 'seed',
      message: 'seed: integers beyond 2^53 lose digits in JSON (this one arrived as 12345678901234567000): pass the seed as a string, e.g. "seed": "12345678901234567890", to keep every digit',
    })
    expect((await post('{"trades": 1000, "seed": 9007199254740991}')).statusCode).toBe(202) // 2^53 - 1: exact
    const asText = await post('{"trades": 1000, "seed": "12345678901234567890"}')
    expect(asText.statusCode).toBe(202)
    const { id, seed } = asText.json<{ id: string; seed: string }>()
    expect(seed).toBe('12345678901234567890')
    expect((await co.waitDone(id)).request.seed).toBe('12345678901234567890')
  })

  it('/healthz and /readyz answer', async () => {
    expect((await co.app.inject({ url: '/healthz' })).json()).toEqual({ status: 'ok' })
    expect((await co.app.inject({ url: '/readyz' })).statusCode).toBe(200)
  })
})

describe('the OpenAPI document', () => {
  let co: Coordinator
  beforeAll(async () => {
    co = await startCoordinator({ kind: 'null' }, 1, undefined, { apiToken: 'a-token-of-16-chars-or-more' })
  })
  afterAll(async () => {
    await co.close()
  })

  it('GET /openapi.json describes every route, with its request and response schemas, without a token', async () => {
    const res = await fetch(`${co.url}/openapi.json`)
    expect(res.status).toBe(200)
    const doc = (await res.json()) as { openapi: string; paths: Record<string, Record<string, { responses: Record<string, unknown>; requestBody?: unknown; parameters?: unknown[] }>>; components: unknown }
    expect(doc.openapi).toBe('3.0.3')
    const routes = co.app.routeList().filter((r) => r.url !== '/openapi.json')
    expect(routes.length).toBeGreaterThanOrEqual(11)
    for (const r of routes) {
      const path = r.url.replace(/:([A-Za-z]+)/g, '{$1}')
      expect(doc.paths[path]?.[r.method.toLowerCase()], `${r.method} ${r.url}`).toBeDefined()
    }
    expect(doc.paths['/loads']!.post!.requestBody).toBeDefined()
    expect(Object.keys(doc.paths['/loads']!.post!.responses)).toEqual(expect.arrayContaining(['202', '400', '429']))
    expect(doc.paths['/loads']!.get!.parameters).toEqual(expect.arrayContaining([expect.objectContaining({ name: 'limit', in: 'query' })]))
    expect(JSON.stringify(doc.components)).toContain('bearer')
  })

  it('the Authorization scheme is case-insensitive (RFC 7235): bearer and BEARER are taken, the token is not', async () => {
    const get = (authorization: string) => fetch(`${co.url}/loads`, { headers: { authorization } })
    for (const scheme of ['Bearer', 'bearer', 'BEARER']) expect((await get(`${scheme} a-token-of-16-chars-or-more`)).status, scheme).toBe(200)
    expect((await get('bearer A-TOKEN-OF-16-CHARS-OR-MORE')).status).toBe(401)
    expect((await get('bearer')).status).toBe(401)
  })
})
