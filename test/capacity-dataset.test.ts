import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, inject, it } from 'vitest'
import { InfluxV1Client } from '../src/influx/v1.js'
import { runCli } from './harness/cli.js'
import { countInflux } from './harness/servers.js'

// A capacity search read back as one dataset: every slice it wrote is checked, whatever rates its
// steps kept (so the counts come from the search itself, and these run with the integration tier).

describe('a capacity search is one dataset (real influxd)', () => {
  const url = inject('influxUrl')
  // 20k, 40k, 80k points/s (--max-rate), then 80k held again: 4 steps, each after a warm-up; a
  // 1-s step on a busy machine may miss its rate and add steps, so the counts below are read from
  // the search's own file (a CI run had 5 steps once), and what is checked is that every slice is
  // verified
  const SEARCH = ['--symbols', 'AAPL,MSFT', '--slo-p99', '2s', '--step-seconds', '1', '--warmup-seconds', '0.5', '--start-rate', '20000', '--max-rate', '80000', '--precision', '50%']

  it('verify --capacity checks every slice it wrote, warm-ups included; a lost point is named with its step; bad files are one line', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ohlcv-capacity-verify-'))
    const env = { INFLUX_URL: url, INFLUX_DB: 'capacity_verify', POOL_SIZE: '2' }
    try {
      const res = await runCli(['capacity', ...SEARCH, '--seed', 'capv', '--from', '2024-02-01T00:00:00Z'], env, 120_000, { cwd: dir })
      expect(res.code, res.stderr).toBe(0)
      expect(res.stdout).toContain('check it all with: ohlcv-loadgen verify --capacity ohlcv-loadgen-capacity-capv.json')
      const file = join(dir, 'ohlcv-loadgen-capacity-capv.json')
      const saved = JSON.parse(readFileSync(file, 'utf8')) as { slices: { kind: string; from: string; trades: number }[]; steps: { request: { from: string } }[] }
      const steps = saved.steps.length
      expect(steps).toBeGreaterThanOrEqual(4)
      expect(saved.slices.map((s) => s.kind)).toEqual(saved.steps.flatMap(() => ['warmup', 'step']))
      expect(saved.slices.filter((s) => s.kind === 'step').map((s) => s.from)).toEqual(saved.steps.map((s) => s.request.from))
      const total = saved.slices.reduce((t, s) => t + s.trades, 0)
      expect(await countInflux(url, 'capacity_verify')).toBe(total)

      const ok = await runCli(['verify', '--capacity', file], env)
      expect(ok.code, ok.stderr).toBe(0)
      expect(ok.stdout).toBe(`verify ok: capacity search, ${2 * steps} slices (${steps} steps, ${steps} warm-ups), ${total.toLocaleString('en-US')} points identical to the regenerated dataset (seed "capv")\n`)

      // ten minutes of MSFT lost in the second step's day
      const day = saved.slices[3]!.from.slice(0, 10)
      const influx = new InfluxV1Client({ kind: 'influx-v1', url, db: 'capacity_verify', timeoutMs: 30_000 }, 1)
      await influx.query(`DELETE FROM "trades" WHERE "symbol" = 'MSFT' AND time >= '${day}T12:00:00Z' AND time < '${day}T12:10:00Z'`, 'POST')
      influx.close()
      const bad = await runCli(['verify', '--capacity', file, '--json'], env)
      expect(bad.code).toBe(1)
      const report = JSON.parse(bad.stdout) as { ok: boolean; pointsFound: number; slices: { kind: string; report: { ok: boolean } }[] }
      expect(report.ok).toBe(false)
      expect(report.slices.map((s) => s.report.ok)).toEqual(saved.slices.map((_, i) => i !== 3))
      expect(report.pointsFound).toBeLessThan(total)
      const text = await runCli(['verify', '--capacity', file], env)
      expect(text.stdout).toMatch(new RegExp(`^verify found \\d+ difference\\(s\\) in 1 of ${2 * steps} slices \\(${steps} steps, ${steps} warm-ups\\)`))
      expect(text.stdout).toMatch(new RegExp(`\\n  step 2 \\(${day}T00:00:00.000Z .. `))
      expect(text.stdout).toMatch(/\n {4}MSFT count: expected \d+, found \d+\n {4}MSFT \S+ candle: expected present, found absent\n/)

      // bad input: one line, exit 2, nothing verified
      writeFileSync(join(dir, 'empty.json'), '{}')
      writeFileSync(join(dir, 'broken.json'), '{"load": {"seed": 1}, "slices": [{"kind": "step", "from": "yesterday", "to": "2024-01-02T00:00:00Z", "trades": 5}]}')
      for (const [args, message] of [
        [['--capacity', join(dir, 'nope.json')], /^ohlcv-loadgen: invalid --capacity: cannot read .*nope\.json: ENOENT$/],
        [['--capacity', join(dir, 'empty.json')], /^ohlcv-loadgen: invalid --capacity .*empty\.json: no `load` and `slices` in it/],
        [['--capacity', join(dir, 'broken.json')], /^ohlcv-loadgen: invalid --capacity .*broken\.json: invalid slices\[0\]\.from/],
        [['--capacity', file, '--symbols', 'AAPL'], /^ohlcv-loadgen: verify --capacity takes the load from .*: drop --symbols$/],
      ] as const) {
        const r = await runCli(['verify', ...args], env)
        expect(r.code, r.stderr).toBe(2)
        expect(r.stderr.trimEnd().split('\n')).toHaveLength(1)
        expect(r.stderr.trimEnd()).toMatch(message)
      }
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  }, 180_000)

  it('POST /capacity/:id/verify: 409 while it runs, then every slice verified; the view lists the slices; no load beside a search; its streams are capped', async () => {
    const { startCoordinator } = await import('./harness/coordinator.js')
    const co = await startCoordinator({ kind: 'influx-v1', url, db: 'capacity_verify_api', timeoutMs: 30_000 }, 2, undefined, { app: { maxStreamsPerLoad: 1 } })
    try {
      const created = await co.json<{ id: string; links: { events: string; verify: string } }>('POST', '/capacity', {
        load: { symbols: ['AAPL'], seed: 'capv-api', from: '2024-03-01T00:00:00Z' },
        sloP99: '2s', stepSeconds: 1, warmupSeconds: 0.5, startRate: 20_000, maxRate: 40_000, precision: '50%',
      })
      expect(created.status).toBe(202)
      expect(created.body.links.verify).toBe(`/capacity/${created.body.id}/verify`)
      expect((await co.json<{ code: string }>('POST', created.body.links.verify, {})).body).toMatchObject({ statusCode: 409, code: 'OHLCV_CAPACITY_RUNNING' })
      // a load now would share the pool and the sink with the steps: refused, with the search named
      const load = await co.json<{ code: string; message: string }>('POST', '/loads', { trades: 1000 })
      expect(load.body).toMatchObject({ statusCode: 409, code: 'OHLCV_CAPACITY_RUNNING' })
      expect(load.body.message).toContain(created.body.id)
      // one stream follows the running search (MAX_STREAMS_PER_LOAD 1 here); a second is refused
      const stream = await fetch(co.url + created.body.links.events)
      expect(stream.status).toBe(200)
      expect((await co.json('GET', created.body.links.events)).body).toMatchObject({ statusCode: 429, code: 'OHLCV_TOO_MANY_STREAMS' })
      await stream.text()
      const view = (await co.json<{ steps: unknown[]; slices: { kind: string; trades: number }[]; load: { seed: string } }>('GET', `/capacity/${created.body.id}`)).body
      expect(view.load.seed).toBe('capv-api')
      // 20k, 40k, then 40k held again when every step keeps its rate; a 1-s step on a busy machine may
      // miss it and add a step: the slices follow the steps either way
      expect(view.steps.length).toBeGreaterThanOrEqual(3)
      expect(view.slices.map((s) => s.kind)).toEqual(view.steps.flatMap(() => ['warmup', 'step']))
      const verified = await co.json<{ ok: boolean; pointsFound: number; slices: { report: { ok: boolean } }[] }>('POST', created.body.links.verify, { interval: '1h' })
      expect(verified.status).toBe(200)
      const total = view.slices.reduce((t, s) => t + s.trades, 0)
      expect(verified.body).toMatchObject({ ok: true, pointsFound: total })
      expect(verified.body.slices).toHaveLength(view.slices.length)
      expect(await countInflux(url, 'capacity_verify_api')).toBe(total)
      // the search has ended: loads are taken again
      expect((await co.json('POST', '/loads', { trades: 1000, symbols: ['AAPL'], from: '2024-03-20T00:00:00Z', to: '2024-03-21T00:00:00Z' })).status).toBe(202)
    } finally {
      await co.app.close()
    }
  }, 120_000)
})
