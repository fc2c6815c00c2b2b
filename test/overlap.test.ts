import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, inject, it } from 'vitest'
import { runCli, startServe } from './harness/cli.js'
import { call, finished } from './harness/http.js'

const url = inject('influxUrl')
const RANGE = { from: '2024-07-01T00:00:00Z', to: '2024-07-02T00:00:00Z' }

/** Two loads into one measurement and range share the database: said before the second starts, never refused. */
describe('a load into a range another load wrote', () => {
  it('run: warns on stderr when the database already holds points there; the load still runs; --json stays JSON', async () => {
    const env = { INFLUX_URL: url, INFLUX_DB: 'overlap_run' }
    const load = ['run', '--trades', '20000', '--from', RANGE.from, '--to', RANGE.to, '--pool-size', '1', '--json']
    const first = await runCli([...load, '--seed', 'a'], env)
    expect(first.code, first.stderr).toBe(0)
    expect(first.stderr).not.toMatch(/already holds/)
    const second = await runCli([...load, '--seed', 'b'], env)
    expect(second.code, second.stderr).toBe(0)
    expect(second.stderr).toMatch(/warning: the database already holds points of measurement "trades" in 2024-07-01T00:00:00\.000Z \.\. 2024-07-02T00:00:00\.000Z .*verify will count them too/)
    expect(JSON.parse(second.stdout)).toMatchObject({ status: 'succeeded', pointsWritten: 20_000 })
    // another measurement is a dataset of its own: nothing to say
    const other = await runCli([...load, '--seed', 'c', '--measurement', 'trades_c'], env)
    expect(other.stderr).not.toMatch(/already holds/)
  })

  it('POST /loads: warnings name the earlier load from the store; another measurement or range gets none', async () => {
    const s = startServe({ INFLUX_URL: url, INFLUX_DB: 'overlap_serve', POOL_SIZE: '1', STATE_DIR: mkdtempSync(join(tmpdir(), 'ohlcv-overlap-')) })
    try {
      const base = await s.listening
      const a = await call<{ id: string; warnings?: string[] }>(base, 'POST', '/loads', { trades: 20_000, seed: 'a', ...RANGE })
      expect(a.status).toBe(202)
      expect(a.body.warnings).toBeUndefined()
      await finished(base, a.body.id)
      const b = await call<{ id: string; warnings?: string[] }>(base, 'POST', '/loads', { trades: 20_000, seed: 'b', from: '2024-07-01T12:00:00Z', to: '2024-07-03T00:00:00Z' })
      expect(b.status).toBe(202)
      expect(b.body.warnings).toHaveLength(1)
      expect(b.body.warnings![0]).toMatch(new RegExp(`^load ${a.body.id} \\(succeeded, seed "a"\\) wrote measurement "trades" over 2024-07-01T00:00:00.000Z .. 2024-07-02T00:00:00.000Z`))
      await finished(base, b.body.id)
      // verify of the first counts the second's points too, and says whose they probably are
      const v = await call<{ ok: boolean; pointsFound: number; pointsExpected: number; hint?: string }>(base, 'POST', `/loads/${a.body.id}/verify`, {})
      expect(v.status).toBe(200)
      expect(v.body.ok).toBe(false)
      expect(v.body.pointsFound).toBeGreaterThan(v.body.pointsExpected)
      expect(v.body.hint).toMatch(new RegExp(`^[\\d,]+ point\\(s\\) more than this dataset has: another load or dataset wrote into this measurement and range; the store names load ${b.body.id} \\(succeeded, seed "b"\\)`))
      for (const body of [{ seed: 'c', ...RANGE, measurement: 'elsewhere' }, { seed: 'd', from: '2024-07-05T00:00:00Z', to: '2024-07-06T00:00:00Z' }]) {
        const c = await call<{ id: string; warnings?: string[] }>(base, 'POST', '/loads', { trades: 10_000, ...body })
        expect(c.status).toBe(202)
        expect(c.body.warnings).toBeUndefined()
        await finished(base, c.body.id)
      }
    } finally {
      s.child.kill('SIGTERM')
      await s.exited
    }
  })
})
