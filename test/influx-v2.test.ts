import { describe, expect, inject, it } from 'vitest'
import { runCli } from './harness/cli.js'
import { startCoordinator } from './harness/coordinator.js'
import { countVictoria } from './harness/servers.js'

// VictoriaMetrics stands in for InfluxDB 2.x: it serves the same /api/v2/write endpoint (org,
// bucket, token, precision), so the v2 path through @influxdata/influxdb-client is exercised for real.
const url = inject('victoriaUrl')

describe('InfluxDB v2 write API (VictoriaMetrics)', () => {
  it('CLI: every point lands and is counted back', async () => {
    const res = await runCli(
      ['run', '--json', '--influx-api', 'v2', '--org', 'acme', '--bucket', 'trades', '--measurement', 'vcli', '--trades', '120000', '--seed', 'v2', '--pool-size', '2', '--symbols', 'AAPL,MSFT'],
      { INFLUX_URL: url, INFLUX_TOKEN: 'secret-token' },
    )
    expect(res.code, res.stderr).toBe(0)
    const account = JSON.parse(res.stdout) as Record<string, unknown>
    expect(account).toMatchObject({ status: 'succeeded', pointsWritten: 120_000, sink: { kind: 'influx-v2', org: 'acme', bucket: 'trades' } })
    expect(res.stdout).not.toContain('secret-token')
    expect(await countVictoria(url, 'vcli')).toBe(120_000)
  })

  it('HTTP: a load over the v2 API matches the database', async () => {
    const co = await startCoordinator({ kind: 'influx-v2', url, org: 'acme', bucket: 'b', token: 't', timeoutMs: 30_000 }, 2)
    try {
      const { body } = await co.json<{ id: string }>('POST', '/loads', { measurement: 'vhttp', trades: 80_000, symbols: ['X', 'Y', 'Z'], seed: 3 })
      const done = await co.waitDone(body.id)
      expect(done.result).toMatchObject({ status: 'succeeded', pointsWritten: 80_000 })
      expect(await countVictoria(url, 'vhttp')).toBe(80_000)
      expect((await co.json('GET', '/readyz')).status).toBe(200)
    } finally {
      await co.close()
    }
  })
})
