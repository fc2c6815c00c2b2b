import { randomBytes } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import type { LoadView } from '../src/api/schemas.js'
import { InfluxV1Client } from '../src/influx/v1.js'
import { planLoad } from '../src/plan/plan.js'
import type { SinkConfig } from '../src/sink/target.js'
import { runCli } from './harness/cli.js'
import { sample, startCoordinator, type Coordinator } from './harness/coordinator.js'
import { spec } from './harness/load.js'
import { countInflux, freePort } from './harness/servers.js'
import { expectAccountBalances } from './harness/account.js'
import { writing } from './harness/http.js'

const url = inject('influxUrl')
const dbName = (tag: string) => `t_${tag}_${randomBytes(4).toString('hex')}`
const v1 = (db: string): SinkConfig & { kind: 'influx-v1' } => ({ kind: 'influx-v1', url, db, timeoutMs: 30_000 })
const count = (db: string, measurement = 'trades') => countInflux(url, db, measurement)

describe('CLI run into a real influxd (1.x /write)', () => {
  it('creates the database, loads every point, and the database counts them back exactly', async () => {
    const db = dbName('cli')
    const req = { symbols: ['AAPL', 'MSFT', 'GOOG'], from: '2024-01-08T00:00:00Z', to: '2024-01-10T00:00:00Z', trades: 300_001, seed: 'cli' }
    const res = await runCli(
      ['run', '--json', '--symbols', req.symbols.join(','), '--from', req.from, '--to', req.to, '--trades', '300_001', '--seed', req.seed, '--pool-size', '2'],
      { INFLUX_URL: url, INFLUX_DB: db },
    )
    expect(res.stderr).toBe('')
    expect(res.code).toBe(0)
    const account = JSON.parse(res.stdout) as Record<string, unknown>
    expect(account).toMatchObject({ status: 'succeeded', pointsPlanned: 300_001, pointsWritten: 300_001, pointsFailed: 0, pointsUnsent: 0, seed: 'cli', poolSize: 2, batchSize: 5000 })
    expect(account.pointsPerSecond).toBeGreaterThan(0)
    expect(await count(db)).toBe(300_001)

    // per symbol too: the split is the plan's, point for point
    const c = new InfluxV1Client(v1(db), 1)
    const r = await c.query('SELECT count(trade_id), max(trade_id) FROM trades GROUP BY symbol')
    c.close()
    const plan = planLoad(spec(req))
    const bySymbol = Object.fromEntries(
      (r.results?.[0]?.series ?? []).map((s) => [(s as unknown as { tags: { symbol: string } }).tags.symbol, s.values[0]!.slice(1)]),
    )
    req.symbols.forEach((sym, j) => expect(bySymbol[sym]).toEqual([plan.symbolTotal(j), plan.symbolTotal(j)]))
  })

  it('a load that cannot reach the database exits 1 with the reason', async () => {
    const port = await freePort()
    const res = await runCli(['run', '--trades', '1000', '--retries', '1'], { INFLUX_URL: `http://127.0.0.1:${port}` })
    expect(res.code).toBe(1)
    expect(res.stdout).toMatch(/load failed: 0 points written of 1,000 planned \(0 failed, 1,000 unsent\)/)
    expect(res.stdout).toMatch(/error: cannot reach 127\.0\.0\.1:\d+: ECONNREFUSED/)
  })
})

describe('HTTP coordinator into a real influxd', () => {
  let co: Coordinator
  const db = dbName('http')
  beforeAll(async () => {
    co = await startCoordinator(v1(db), 2)
  })
  afterAll(async () => {
    await co.close()
  })

  it('POST /loads runs in the background; the account, the database and /metrics agree', async () => {
    const created = await co.json<LoadView>('POST', '/loads', {
      symbols: ['AAPL', 'TSLA'],
      from: '2024-02-01T00:00:00Z',
      to: '2024-02-02T00:00:00Z',
      trades: 250_000,
      seed: 7,
      batchSize: 2000,
      distribution: 'uniform',
    })
    expect(created.status).toBe(202)
    expect(['queued', 'running']).toContain(created.body.status)
    expect(created.body).toMatchObject({ seed: 7, shards: 3, links: { self: `/loads/${created.body.id}` } })

    const done = await co.waitDone(created.body.id)
    expect(done).toMatchObject({
      status: 'succeeded',
      request: { symbols: ['AAPL', 'TSLA'], trades: 250_000, seed: 7, batchSize: 2000, distribution: 'uniform', measurement: 'trades', from: '2024-02-01T00:00:00.000Z' },
      sink: { kind: 'influx-v1', db },
      progress: { pointsPlanned: 250_000, pointsWritten: 250_000, pointsFailed: 0, shardsDone: 3, shardsTotal: 3 },
      result: { status: 'succeeded', pointsWritten: 250_000, pointsFailed: 0, pointsUnsent: 0, batchesWritten: 126 },
    })
    expect(done.result.durationMs).toBeGreaterThan(0)
    expect(await count(db)).toBe(250_000)

    const metrics = await (await fetch(`${co.url}/metrics`)).text()
    expect(sample(metrics, 'ohlcv_points_written_total')).toBe(250_000)
    expect(sample(metrics, 'ohlcv_batches_written_total')).toBe(126)
    expect(sample(metrics, 'ohlcv_write_duration_seconds_count')).toBe(126)
    expect(sample(metrics, 'ohlcv_bytes_written_total')).toBe(done.result.bytesWritten)
    expect(sample(metrics, 'ohlcv_pool_threads')).toBe(2)
    expect(metrics).toMatch(/^ohlcv_pool_queue_size \d+$/m)
    expect(metrics).toMatch(/^ohlcv_loads_finished_total\{status="succeeded"\} 1$/m)
    expect(metrics).toMatch(/^process_cpu_user_seconds_total /m)

    const list = await co.json<{ loads: { id: string }[] }>('GET', '/loads')
    expect(list.body.loads.map((l) => l.id)).toContain(created.body.id)
  })

  it('DELETE /loads/:id stops the load after the batches in flight; the account is exact', async () => {
    const cancelDb = dbName('cancel')
    const cc = await startCoordinator(v1(cancelDb), 2)
    try {
      const { body } = await cc.json<{ id: string }>('POST', '/loads', { trades: 5_000_000, seed: 'cancel', batchSize: 5000 })
      // wait until some data has landed, then cancel
      await writing(cc.url, body.id)
      const del = await cc.json<LoadView>('DELETE', `/loads/${body.id}`)
      expect(del.status).toBe(202)
      const t0 = Date.now()
      const done = await cc.waitDone(body.id)
      expect(Date.now() - t0).toBeLessThan(5000)
      const r = done.result
      expect(r.status).toBe('cancelled')
      expect(r.pointsWritten).toBeGreaterThan(0)
      expect(r.pointsUnsent).toBeGreaterThan(0)
      expectAccountBalances(r, { planned: 5_000_000, inDoubt: 0 })
      expect(await count(cancelDb)).toBe(r.pointsWritten)
      // idempotent: a second DELETE of a cancelled load answers as the first did
      expect((await cc.json('DELETE', `/loads/${body.id}`)).status).toBe(202)
    } finally {
      await cc.close()
    }
  })

  it('a permanent write error from the server fails the load with its message; nothing is lost from the account', async () => {
    const conflictDb = dbName('conflict')
    const c = new InfluxV1Client(v1(conflictDb), 1)
    await c.createDatabase()
    // A real fault: `price` already exists as an integer in this shard group, so influxd rejects
    // our float prices with 400 "field type conflict" (a partial write naming what it dropped).
    await c.write(Buffer.from('trades,symbol=ZZZ price=1i 1709251200000000000\n'), 1)
    c.close()
    const cc = await startCoordinator(v1(conflictDb), 2)
    try {
      const { body } = await cc.json<{ id: string }>('POST', '/loads', { from: '2024-03-01T00:00:00Z', to: '2024-03-02T00:00:00Z', trades: 300_000, seed: 1 })
      const done = await cc.waitDone(body.id)
      expect(done.status).toBe('failed')
      expect(done.error).toMatchObject({ code: 'OHLCV_WRITE_FAILED', status: 400 })
      expect(done.error?.message).toMatch(/field type conflict/)
      const r = done.result
      expect(r.pointsFailed).toBeGreaterThan(0)
      expectAccountBalances(r, { planned: 300_000, inDoubt: 0 })
      expect(await count(conflictDb)).toBe(r.pointsWritten)
      const metrics = await (await fetch(`${cc.url}/metrics`)).text()
      expect(metrics).toMatch(/^ohlcv_write_errors_total\{kind="permanent",status="400"\} [1-9]/m)
      expect(sample(metrics, 'ohlcv_points_failed_total')).toBe(r.pointsFailed)
    } finally {
      await cc.close()
    }
  })

  it('/readyz checks the database; /healthz only the process', async () => {
    expect(await co.json('GET', '/readyz')).toMatchObject({ status: 200, body: { status: 'ready' } })
    const dead = await startCoordinator({ kind: 'influx-v1', url: `http://127.0.0.1:${await freePort()}`, db: 'x', timeoutMs: 1000 }, 1)
    try {
      const r = await dead.json<Record<string, string>>('GET', '/readyz')
      expect(r.status).toBe(503)
      expect(r.body.error).toMatch(/ECONNREFUSED/)
      expect((await dead.json('GET', '/healthz')).status).toBe(200)
    } finally {
      await dead.close()
    }
  })
})
