import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runCli } from './harness/cli.js'
import { startInfluxd, type RunningServer } from './harness/servers.js'

// A second influxd with auth-enabled = true: credentials travel as HTTP Basic auth, and wrong
// ones are a permanent error reported at once, never echoed back.
describe('InfluxDB 1.x with authentication', () => {
  let server: RunningServer
  beforeAll(async () => {
    server = await startInfluxd({ authEnabled: true })
    // With no users yet, influxd accepts creating the first admin without credentials.
    const q = new URLSearchParams({ q: "CREATE USER loader WITH PASSWORD 's3cret-pw' WITH ALL PRIVILEGES" })
    const res = await fetch(`${server.url}/query`, { method: 'POST', body: q })
    expect(res.status).toBe(200)
  })
  afterAll(async () => {
    await server.stop()
  })

  it('loads with INFLUX_USERNAME / INFLUX_PASSWORD', async () => {
    const res = await runCli(['run', '--json', '--trades', '20000', '--db', 'authdb'], {
      INFLUX_URL: server.url,
      INFLUX_USERNAME: 'loader',
      INFLUX_PASSWORD: 's3cret-pw',
    })
    expect(res.code, res.stderr).toBe(0)
    expect(JSON.parse(res.stdout)).toMatchObject({ status: 'succeeded', pointsWritten: 20_000 })
    expect(res.stdout + res.stderr).not.toContain('s3cret-pw')
    const q = new URLSearchParams({ db: 'authdb', q: 'SELECT count(trade_id) FROM trades', u: 'loader', p: 's3cret-pw' })
    const counted = (await (await fetch(`${server.url}/query?${q.toString()}`)).json()) as { results: { series: { values: number[][] }[] }[] }
    expect(counted.results[0]?.series[0]?.values[0]?.[1]).toBe(20_000)
  })

  it('wrong credentials fail the load at once with the server message, without retrying', async () => {
    const t0 = Date.now()
    const res = await runCli(['run', '--trades', '20000', '--password', 'wrong-pw', '--username', 'loader'], { INFLUX_URL: server.url })
    expect(res.code).toBe(1)
    expect(res.stdout).toMatch(/load failed: 0 points written of 20,000 planned/)
    expect(res.stdout).toMatch(/error: cannot create database ohlcv .*401.*authorization failed/)
    expect(res.stdout + res.stderr).not.toContain('wrong-pw')
    expect(Date.now() - t0).toBeLessThan(5000)
  })
})
