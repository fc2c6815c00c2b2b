import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import type { LoadView } from '../src/api/schemas.js'
import { DEFAULT_LOAD_OPTIONS } from '../src/load/run.js'
import { sample, startCoordinator, type Coordinator } from './harness/coordinator.js'
import { countInflux } from './harness/servers.js'
import { expectAccountBalances } from './harness/account.js'
import { until } from './harness/until.js'

const url = inject('influxUrl')

describe('resume over HTTP, against the real influxd', () => {
  let co: Coordinator
  beforeAll(async () => {
    co = await startCoordinator({ kind: 'influx-v1', url, db: 'resume_http', timeoutMs: 10_000 }, 2)
  })
  afterAll(async () => {
    await co.close()
  })

  it('a cancelled load resumes under the same id; only the missing shards run; the database count is exact', async () => {
    const created = await co.json<{ id: string }>('POST', '/loads', { trades: 1_200_000, seed: 'resume-http', from: '2024-04-01T00:00:00Z', to: '2024-04-02T00:00:00Z' })
    expect(created.status).toBe(202)
    const id = created.body.id
    // cancel once a part is in
    await until('200,000 points written', async () => (await co.json<LoadView>('GET', `/loads/${id}`)).body.progress.pointsWritten >= 200_000, 60_000)
    expect((await co.json('DELETE', `/loads/${id}`)).status).toBe(202)
    const cancelled = await co.waitDone(id)
    expect(cancelled.status).toBe('cancelled')
    const r = cancelled.result
    expectAccountBalances(r, { planned: 1_200_000, inDoubt: 0 })
    expect(r.pointsWritten).toBeLessThan(1_200_000)
    expect(await countInflux(url, 'resume_http')).toBe(r.pointsWritten)

    const resumed = await co.json<LoadView>('POST', `/loads/${id}/resume`)
    expect(resumed.status).toBe(202)
    expect(resumed.body).toMatchObject({ id, resumes: 1 })
    const done = await co.waitDone(id)
    expect(done.status).toBe('succeeded')
    expect(done.result).toMatchObject({ pointsPlanned: 1_200_000, pointsWritten: 1_200_000, pointsFailed: 0, pointsUnsent: 0, shardsDone: done.shards })
    expect(await countInflux(url, 'resume_http')).toBe(1_200_000)
    // /metrics counts what was sent in both runs: exactly the points, none twice
    const metrics = await (await fetch(`${co.url}/metrics`)).text()
    expect(sample(metrics, 'ohlcv_points_written_total')).toBe(1_200_000)

    // a succeeded load, an unknown one
    expect((await co.json('POST', `/loads/${id}/resume`)).body).toMatchObject({ statusCode: 409, code: 'OHLCV_NOT_RESUMABLE' })
    expect((await co.json('POST', '/loads/nope/resume')).status).toBe(404)
  }, 60_000)

  it('GET /loads/:id and /readyz show the circuit; /metrics has its gauge', async () => {
    const created = await co.json<{ id: string }>('POST', '/loads', { trades: 1000, seed: 'circuit' })
    const done = await co.waitDone(created.body.id)
    expect(done.circuit).toEqual({ state: 'closed', opens: 0, consecutiveFailures: 0 })
    expect((await co.json('GET', '/readyz')).body).toMatchObject({ status: 'ready', circuit: 'closed' })
    const metrics = await (await fetch(`${co.url}/metrics`)).text()
    expect(sample(metrics, 'ohlcv_circuit_state')).toBe(0)
    expect(metrics).toMatch(/^# HELP ohlcv_circuit_state /m)
    expect(sample(metrics, 'ohlcv_circuit_opens_total')).toBe(0)
  })
})

describe('limits', () => {
  let co: Coordinator
  beforeAll(async () => {
    co = await startCoordinator({ kind: 'influx-v1', url, db: 'limits', timeoutMs: 10_000 }, 1, DEFAULT_LOAD_OPTIONS, {
      limits: { maxConcurrentLoads: 1, maxTradesPerLoad: 5_000_000 },
    })
  })
  afterAll(async () => {
    await co.close()
  })

  it('MAX_CONCURRENT_LOADS: the next load gets 429 with Retry-After; once the first is done, it is taken', async () => {
    const first = await co.json<{ id: string }>('POST', '/loads', { trades: 2_000_000, seed: 'first' })
    expect(first.status).toBe(202)
    const second = await co.json<{ code: string; message: string }>('POST', '/loads', { trades: 1000 })
    expect(second.status).toBe(429)
    expect(second.body.code).toBe('OHLCV_TOO_MANY_LOADS')
    expect(second.body.message).toMatch(/1 load\(s\) already running/)
    expect(Number(second.headers.get('retry-after'))).toBeGreaterThanOrEqual(1)
    await co.json('DELETE', `/loads/${first.body.id}`)
    await co.waitDone(first.body.id)
    expect((await co.json('POST', '/loads', { trades: 1000 })).status).toBe(202)
  })

  it('MAX_TRADES_PER_LOAD: a bigger load is a 400 naming the field and the setting', async () => {
    const res = await co.json<{ message: string }>('POST', '/loads', { trades: 5_000_001 })
    expect(res.status).toBe(400)
    expect(res.body.message).toBe('trades: must be at most 5,000,000 on this coordinator (MAX_TRADES_PER_LOAD)')
  })

  it('the body size limit answers 413', async () => {
    const res = await co.app.inject({ method: 'POST', url: '/loads', payload: JSON.stringify({ seed: 'x'.repeat(2 * 1024 * 1024) }), headers: { 'content-type': 'application/json' } })
    expect(res.statusCode).toBe(413)
    expect(res.json<{ message: string }>().message).toMatch(/body/i)
  })
})

describe('API_TOKEN', () => {
  const token = 'test-token-0123456789abcdef'
  let co: Coordinator
  beforeAll(async () => {
    co = await startCoordinator({ kind: 'null' }, 1, DEFAULT_LOAD_OPTIONS, { apiToken: token })
  })
  afterAll(async () => {
    await co.close()
  })

  it.each([
    ['no header', undefined],
    ['wrong token', `Bearer ${token}x`],
    ['a prefix of it', `Bearer ${token.slice(0, 10)}`],
    ['another scheme', `Basic ${Buffer.from(`u:${token}`).toString('base64')}`],
  ])('%s: 401 on every route but /healthz and /metrics, and nothing starts', async (_what, header) => {
    for (const [method, path] of [['POST', '/loads'], ['GET', '/loads'], ['GET', '/loads/x'], ['DELETE', '/loads/x'], ['GET', '/readyz'], ['GET', '/candles'], ['GET', '/nowhere']] as const) {
      const res = await co.app.inject({ method, url: path, headers: header ? { authorization: header } : {} })
      expect(res.statusCode, `${method} ${path}`).toBe(401)
      expect(res.headers['www-authenticate']).toMatch(/^Bearer/)
      expect(res.body).not.toContain(token)
    }
    expect(co.manager.list()).toHaveLength(0)
    expect((await co.app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200)
    expect((await co.app.inject({ method: 'GET', url: '/metrics' })).statusCode).toBe(200)
  })

  it('the right token is let through', async () => {
    const res = await co.json<{ id: string }>('POST', '/loads', { trades: 1000 })
    expect(res.status).toBe(202)
    expect((await co.waitDone(res.body.id)).status).toBe('succeeded')
  })
})
