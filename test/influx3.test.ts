import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, afterEach, describe, expect, inject, it } from 'vitest'
import { v3BatchWarning, v3WriteError, V3_COLUMNS_PER_LOAD, V3_MAX_REQUEST_BYTES } from '../src/influx/v3.js'
import { runCli, startServe } from './harness/cli.js'
import { startFakeInfluxdb3, type FakeV3 } from './harness/influxdb3.js'
import { expectAccountBalances } from './harness/account.js'
import type { RunReport } from '../src/app/runLoad.js'
import { call, finished } from './harness/http.js'

/**
 * InfluxDB 3 (`--influx-api v3`). THE SERVER HERE IS A FAKE (test/harness/influxdb3.ts): no
 * InfluxDB 3 server can be installed on these machines. The fake answers as InfluxDB 3's
 * documentation shows (status codes, the partial-write and rejected-batch bodies, the configure
 * endpoint, /ping's version); what it computes for InfluxQL it computes from the points it was
 * sent. What is tested for real: the line protocol (identical to what v1 and the file sink get),
 * the request's parameters and headers, the account through partial writes and 413 splits, and
 * the v3 client's refusal of a real influxd 1.x.
 */

const RANGE = ['--from', '2024-03-04T00:00:00Z', '--to', '2024-03-06T00:00:00Z']
const LOAD = ['--symbols', 'AAPL,MSFT', '--trades', '200000', '--seed', 'v3', ...RANGE]

const fakes: FakeV3[] = []
const dirs: string[] = []
async function fake(opts: Parameters<typeof startFakeInfluxdb3>[0] = {}): Promise<FakeV3> {
  const f = await startFakeInfluxdb3(opts)
  fakes.push(f)
  return f
}
afterEach(async () => {
  for (const f of fakes.splice(0)) await f.stop()
})
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true })
})

const v3env = (f: FakeV3, extra: Record<string, string> = {}) => ({ INFLUX_URL: f.url, INFLUX_API: 'v3', INFLUX_DB: 'market', INFLUX_TOKEN: 'apiv3_secret-token', POOL_SIZE: '2', ...extra })

describe('InfluxDB 3 writes (against a fake InfluxDB 3)', () => {
  it('run writes every point to /api/v3/write_lp with nanosecond precision and a Bearer token; the lines are the file sink\'s, byte for byte', async () => {
    const f = await fake({ token: 'apiv3_secret-token' })
    const res = await runCli(['run', ...LOAD, '--json'], v3env(f))
    expect(res.code, res.stderr).toBe(0)
    const r = JSON.parse(res.stdout) as RunReport
    expect(r).toMatchObject({ status: 'succeeded', pointsWritten: 200_000 })
    expect(f.count('market')).toBe(200_000)
    const writes = f.requests.filter((q) => q.path === '/api/v3/write_lp')
    expect(writes.length).toBe(40)
    for (const w of writes) {
      expect(Object.fromEntries(w.params)).toEqual({ db: 'market', precision: 'nanosecond', accept_partial: 'false' })
      expect(w.headers.authorization).toBe('Bearer apiv3_secret-token')
    }
    // the database was created first, through the configure endpoint
    expect(f.requests.map((q) => q.path).indexOf('/api/v3/configure/database')).toBeLessThan(f.requests.map((q) => q.path).indexOf('/api/v3/write_lp'))
    // the same lines as the file sink writes for the same request (v1 gets these too)
    const dir = mkdtempSync(join(tmpdir(), 'ohlcv-v3-'))
    dirs.push(dir)
    const file = join(dir, 'lines.lp')
    expect((await runCli(['run', ...LOAD, '--sink', 'file', '--out', file], { POOL_SIZE: '2' })).code).toBe(0)
    const sorted = (text: string) => text.split('\n').filter((l) => l !== '').sort()
    expect(sorted(Buffer.concat(f.bodies).toString('latin1'))).toEqual(sorted(readFileSync(file, 'latin1')))
    // a second run: the database exists (409 from the configure endpoint) and that is fine
    expect((await runCli(['run', ...LOAD, '--json'], v3env(f))).code).toBe(0)
  }, 60_000)

  it('--no-sync sends no_sync=true; INFLUX_CREATE_DB=false does not call the configure endpoint', async () => {
    const f = await fake()
    const res = await runCli(['run', '--trades', '20000', '--seed', 'nosync', '--no-sync', '--json'], v3env(f, { INFLUX_CREATE_DB: 'false' }))
    expect(res.code, res.stderr).toBe(0)
    expect(f.requests.some((q) => q.path === '/api/v3/configure/database')).toBe(false)
    for (const w of f.requests.filter((q) => q.path === '/api/v3/write_lp')) expect(w.params.get('no_sync')).toBe('true')
  }, 30_000)

  it('a partial write (INFLUX_ACCEPT_PARTIAL=true): the stored lines count written, the rejected failed, and the error names the first one and why', async () => {
    const f = await fake({ reject: (line) => (/trade_id=\d*777i/.test(line) ? "invalid column type for column 'price', expected iox::column_type::field::float, got iox::column_type::field::string" : undefined) })
    const res = await runCli(['run', ...LOAD, '--json'], v3env(f, { INFLUX_ACCEPT_PARTIAL: 'true' }))
    expect(res.code).toBe(1)
    const r = JSON.parse(res.stdout) as RunReport
    expectAccountBalances(r)
    expect(r.status).toBe('failed')
    expect(r.pointsFailed).toBeGreaterThan(0)
    // written is exactly what the database holds: every batch answered, none in doubt
    expect(r.pointsInDoubt).toBe(0)
    expect(r.pointsWritten).toBe(f.count('market'))
    expect(r.error!.message).toMatch(/^InfluxDB 3 answered 400: \d+ of 5000 lines rejected, the others stored; line \d+: invalid column type for column 'price'.*: the measurement already has a column of that name with another type/)
    expect(r.error!.message).toContain('(line: trades,symbol=')
  }, 30_000)

  it('a rejected batch by default (accept_partial=false): nothing of it is stored, all of it counts failed', async () => {
    const f = await fake({ reject: (line) => (/trade_id=\d*777i/.test(line) ? 'invalid line protocol' : undefined) })
    const res = await runCli(['run', ...LOAD, '--json'], v3env(f))
    expect(res.code).toBe(1)
    const r = JSON.parse(res.stdout) as RunReport
    expectAccountBalances(r)
    expect(r.pointsWritten).toBe(f.count('market'))
    expect(r.pointsFailed % 5000).toBe(0)
    expect(r.error!.message).toMatch(/^InfluxDB 3 answered 400: the batch of 5000 lines was rejected, none stored \(accept_partial=false\); line \d+: invalid line protocol/)
  }, 30_000)

  it('bodies over the server limit are split after its 413, and the load is exact', async () => {
    const f = await fake({ maxBodyBytes: 200_000 })
    const res = await runCli(['run', ...LOAD, '--json'], v3env(f))
    expect(res.code, res.stderr).toBe(0)
    const r = JSON.parse(res.stdout) as RunReport
    expect(r.batchesSplit).toBeGreaterThan(0)
    expect(r.pointsWritten).toBe(200_000)
    expect(f.count('market')).toBe(200_000)
  }, 30_000)

  it('warns before a load whose batches could pass 10 MiB, and says which batch size fits', async () => {
    expect(v3BatchWarning({ measurement: 'trades', symbols: ['AAPL'], batchSize: 5000 })).toBeUndefined()
    const w = v3BatchWarning({ measurement: 'trades', symbols: ['AAPL'], batchSize: 100_000 })
    expect(w).toMatch(/^batches of 100000 lines can take 12\.\d MiB, above InfluxDB 3's default request limit of 10 MiB: .* --batch-size (\d+) or less stays under it$/)
    const fits = Number(/--batch-size (\d+)/.exec(w!)![1])
    expect(v3BatchWarning({ measurement: 'trades', symbols: ['AAPL'], batchSize: fits })).toBeUndefined()
    expect(fits * (6 + 4 + 120)).toBeLessThanOrEqual(V3_MAX_REQUEST_BYTES)
    const f = await fake()
    const res = await runCli(['run', '--trades', '1000', '--batch-size', '100000'], v3env(f))
    expect(res.stderr).toContain("ohlcv-loadgen: warning: batches of 100000 lines can take")
    // a load's table has the same 7 columns whatever its request: far under Core's 500
    expect(V3_COLUMNS_PER_LOAD).toBeLessThan(500)
  }, 30_000)

  it('a rejected-lines answer cut at the server\'s 100 counts none of the batch as stored', () => {
    const data = Array.from({ length: 100 }, (_, i) => ({ original_line: `l${i}`, line_number: i + 1, error_message: 'bad' }))
    const e = v3WriteError({ status: 400, headers: {}, body: JSON.stringify({ error: 'partial write of line protocol occurred', data }) }, 5000, true, Date.now())
    expect(e.pointsAccepted).toBe(0)
    expect(e.kind).toBe('rejected')
    expect(e.message).toMatch(/at least 100 of 5000 lines rejected \(the server lists 100 at most/)
    const limit = v3WriteError({ status: 422, headers: {}, body: JSON.stringify({ error: 'database limit reached' }) }, 1, false, Date.now())
    expect(limit.message).toBe('InfluxDB 3 answered 422: database limit reached: the server holds as many databases as it allows (InfluxDB 3 Core: 5); drop one or reuse a database (INFLUX_DB)')
  })
})

describe('InfluxDB 3 candles and verify (against a fake InfluxDB 3)', () => {
  it('candles and verify read through InfluxQL on /api/v3/query_influxql, exact to the tick', async () => {
    const f = await fake()
    expect((await runCli(['run', ...LOAD], v3env(f))).code).toBe(0)
    const candles = await runCli(['candles', '--symbol', 'AAPL', '--interval', '1h', ...RANGE, '--json'], v3env(f))
    expect(candles.code, candles.stderr).toBe(0)
    const rows = JSON.parse(candles.stdout) as { time: string; trades: number }[]
    expect(rows.length).toBe(48)
    expect(rows[0]!.time).toBe('2024-03-04T00:00:00.000Z')
    const regenerated = await runCli(['candles', '--symbol', 'AAPL', '--interval', '1h', ...RANGE, '--regenerate', '--symbols', 'AAPL,MSFT', '--trades', '200000', '--seed', 'v3', '--json'], {})
    expect(JSON.parse(regenerated.stdout)).toEqual(rows)
    const verify = await runCli(['verify', ...LOAD], v3env(f))
    expect(verify.code, verify.stderr).toBe(0)
    expect(verify.stdout).toMatch(/^verify ok: 200,000 points in 2 symbols/)
    const q = f.requests.find((r) => r.path === '/api/v3/query_influxql')!
    expect(q.params.get('db')).toBe('market')
    expect(q.params.get('format')).toBe('json')
  }, 60_000)

  it('serve with INFLUX_API=v3: a load, GET /candles and POST verify; rejections counted as their own kind in /metrics', async () => {
    const f = await fake({ reject: (line) => (line.startsWith('rejected,') && /trade_id=\d*4242i/.test(line) ? 'invalid line protocol' : undefined) })
    const s = startServe({ ...v3env(f), LOG_LEVEL: 'warn' })
    const url = await s.listening
    try {
      const post = async (body: unknown) => (await call<{ id: string }>(url, 'POST', '/loads', body)).body
      const wait = async (id: string) => (await finished(url, id)).result
      const ok = await wait((await post({ symbols: ['AAPL'], trades: 30_000, seed: 'serve-v3', from: '2024-03-04T00:00:00Z', to: '2024-03-05T00:00:00Z' })).id)
      expect(ok).toMatchObject({ status: 'succeeded', pointsWritten: 30_000 })
      const candles = (await (await fetch(`${url}/candles?symbol=AAPL&interval=1h&from=2024-03-04T00:00:00Z&to=2024-03-05T00:00:00Z`)).json()) as unknown[]
      expect(candles).toHaveLength(24)
      const bad = await wait((await post({ symbols: ['MSFT'], trades: 200_000, seed: 'serve-v3-bad', measurement: 'rejected', from: '2024-03-04T00:00:00Z', to: '2024-03-05T00:00:00Z' })).id)
      expectAccountBalances(bad)
      expect(bad.status).toBe('failed')
      expect(bad.pointsWritten).toBe(f.count('market', 'rejected'))
      const metrics = await (await fetch(`${url}/metrics`)).text()
      expect(metrics).toMatch(/^ohlcv_write_errors_total\{kind="rejected",status="400"\} [1-9]/m)
    } finally {
      s.child.kill('SIGTERM')
      await s.exited
    }
  }, 60_000)
})

describe('the wrong API for the server, in one line', () => {
  it('INFLUX_API=v2 against an InfluxDB 3: use v3', async () => {
    const f = await fake()
    const res = await runCli(['run', '--trades', '1000'], { INFLUX_URL: f.url, INFLUX_API: 'v2', INFLUX_ORG: 'o', INFLUX_BUCKET: 'b', POOL_SIZE: '1' })
    expect(res.code).toBe(1)
    expect(res.stderr).toContain(`the server at ${new URL(f.url).host} is InfluxDB 3.6.0, which has no Flux: use INFLUX_API=v3 (--influx-api v3) with INFLUX_DB`)
    expect(res.stderr).not.toMatch(/^\s+at /m)
    expect(f.requests.some((q) => q.path.startsWith('/api/v2/write'))).toBe(false)
  }, 30_000)

  it('INFLUX_API=v3 against a real influxd 1.x: use v1', async () => {
    const url = inject('influxUrl')
    const res = await runCli(['run', '--trades', '1000'], { INFLUX_URL: url, INFLUX_API: 'v3', POOL_SIZE: '1' })
    expect(res.code).toBe(1)
    expect(res.stderr, res.stderr).toMatch(/is InfluxDB 1\.\d+\.\d+\S*, not 3\.x: use INFLUX_API=v1 \(--influx-api\)/)
  }, 30_000)
})
