import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { capacityOptions } from '../src/capacity/options.js'
import { judge, nextStep, type SearchOptions, type StepOutcome } from '../src/capacity/search.js'
import type { StepMeasure } from '../src/model/capacity.js'
import { runCli } from './harness/cli.js'

/** Runs the search against a server that passes every rate up to `capacity` (and, if given, fails some confirmations). */
function search(capacity: number, o: SearchOptions, flaky = new Set<number>()): { steps: StepOutcome[]; found: number | undefined; confirmed: boolean } {
  const steps: StepOutcome[] = []
  for (let i = 0; i < 100; i++) {
    const next = nextStep(steps, o)
    if ('done' in next) return { steps, found: next.sustainable, confirmed: next.confirmed }
    const confirm = next.phase === 'confirm'
    const passed = next.rate <= capacity && !(confirm && flaky.has(next.rate))
    steps.push({ rate: next.rate, passed, confirm })
  }
  throw new Error('the search did not end')
}

describe('the capacity search', () => {
  const o = { startRate: 10_000, maxRate: 10_000_000, precision: 0.02 }

  it('doubles until a step fails, then halves the gap to within the precision, then holds the rate once more', () => {
    const r = search(333_333, o)
    expect(r.steps.slice(0, 7).map((s) => s.rate)).toEqual([10_000, 20_000, 40_000, 80_000, 160_000, 320_000, 640_000])
    expect(r.steps[6]!.passed).toBe(false)
    expect(r.found).toBeLessThanOrEqual(333_333)
    expect(r.found).toBeGreaterThanOrEqual(333_333 / 1.02)
    expect(r.confirmed).toBe(true)
    expect(r.steps.at(-1)).toEqual({ rate: r.found, passed: true, confirm: true })
  })

  it('stops at once when the first step fails', () => {
    expect(search(5_000, o)).toMatchObject({ found: undefined, confirmed: false, steps: [{ rate: 10_000, passed: false }] })
  })

  it('a confirmation that fails resumes the search below it', () => {
    const first = search(333_333, o).found!
    const r = search(333_333, o, new Set([first]))
    expect(r.found).toBeLessThan(first)
    expect(r.confirmed).toBe(true)
  })

  it('never goes past the max rate, and says so', () => {
    const r = search(1e12, { ...o, maxRate: 50_000 })
    expect(Math.max(...r.steps.map((s) => s.rate))).toBe(50_000)
    expect(r.found).toBe(50_000)
  })

  it('judges a step on its rate, latency and errors, and says who could not keep up', () => {
    const m: StepMeasure = { targetPointsPerSecond: 100_000, achievedPointsPerSecond: 99_500, p50Ms: 10, p90Ms: 50, p99Ms: 150, errors: 0, attempts: 100, clientCpu: 0.3, hostCpu: 0.5, failed: false }
    expect(judge(m, { p99Ms: 200, maxErrorRate: 0 })).toEqual({ passed: true, reasons: [] })
    expect(judge({ ...m, achievedPointsPerSecond: 90_000 }, { p99Ms: 200, maxErrorRate: 0 })).toMatchObject({ passed: false, limitedBy: 'database' })
    expect(judge({ ...m, achievedPointsPerSecond: 90_000, clientCpu: 0.95 }, { p99Ms: 200, maxErrorRate: 0 })).toMatchObject({ passed: false, limitedBy: 'generator' })
    // a machine with no CPU left, most of it not the client's: the host, with both shares said
    const starved = judge({ ...m, achievedPointsPerSecond: 90_000, clientCpu: 0.35, hostCpu: 0.97 }, { p99Ms: 200, maxErrorRate: 0 })
    expect(starved).toMatchObject({ passed: false, limitedBy: 'host' })
    expect(starved.reasons[0]).toMatch(/CPU was saturated: 97 % busy, 35 % of it the generator/)
    expect(judge(m, { p99Ms: 100, p50Ms: 5, maxErrorRate: 0 }).reasons).toEqual(['p50 10 ms over 5 ms', 'p99 150 ms over 100 ms'])
    expect(judge({ ...m, errors: 2 }, { p99Ms: 200, maxErrorRate: 0.01 }).reasons).toEqual(['error rate 2.00 % over 1.00 %'])
    expect(judge({ ...m, failed: true, failure: 'InfluxDB answered 400: bad' }, { p99Ms: 200, maxErrorRate: 0 }).reasons).toEqual(['the load failed: InfluxDB answered 400: bad'])
  })

  it('reads its options, and refuses bad ones naming the flag', () => {
    expect(capacityOptions({ 'slo-p99': '200ms', precision: '5%', deadline: '90s', 'max-error-rate': '1%' })).toMatchObject({ slo: { p99Ms: 200, maxErrorRate: 0.01 }, precision: 0.05, deadlineMs: 90_000, stepSeconds: 30, startRate: 10_000 })
    expect(capacityOptions({ 'slo-p99': '1.5s', 'slo-p50': '20' }).slo).toMatchObject({ p99Ms: 1500, p50Ms: 20 })
  })
})

describe('ohlcv-loadgen capacity', () => {
  it.each([
    [[], /^ohlcv-loadgen: capacity needs --slo-p99/],
    [['--slo-p99', 'fast'], /^ohlcv-loadgen: invalid --slo-p99: "fast" is not a duration like 200ms, 1s or 15m/],
    [['--slo-p99', '200ms', '--precision', '150%'], /^ohlcv-loadgen: invalid --precision/],
    [['--slo-p99', '200ms', '--start-rate', '1000', '--max-rate', '10'], /^ohlcv-loadgen: invalid --max-rate: 10 is below --start-rate 1000/],
    [['--slo-p99', '200ms', '--trades', '5'], /^ohlcv-loadgen: capacity sets the trades of each step/],
  ])('bad options %j: exit 2, one line', async (args, message) => {
    const res = await runCli(['capacity', '--sink', 'null', ...args])
    expect(res.code).toBe(2)
    expect(res.stderr.trimEnd().split('\n')).toHaveLength(1)
    expect(res.stderr).toMatch(message)
  })

  it('finds the null sink\'s rate (the generator\'s ceiling): JSON with the steps, a chart, exit 0', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ohlcv-capacity-'))
    const res = await runCli(['capacity', '--sink', 'null', '--symbols', 'AAPL', '--seed', 'cap', '--slo-p99', '1s', '--step-seconds', '1', '--warmup-seconds', '0.5', '--start-rate', '500000', '--max-rate', '4000000', '--precision', '25%', '--json'], { POOL_SIZE: '2' }, 120_000, { cwd: dir })
    expect(res.code, res.stderr).toBe(0)
    const r = JSON.parse(res.stdout) as { sustainablePointsPerSecond: number; confirmed: boolean; chart: string; steps: { targetPointsPerSecond: number; achievedPointsPerSecond: number; p50Ms: number; p90Ms: number; p99Ms: number; errors: number; passed: boolean; request: { from: string; to: string; trades: number } }[] }
    expect(r.sustainablePointsPerSecond).toBeGreaterThanOrEqual(500_000)
    expect(r.steps[0]).toMatchObject({ targetPointsPerSecond: 500_000, errors: 0, passed: true })
    for (const s of r.steps) for (const k of ['targetPointsPerSecond', 'achievedPointsPerSecond', 'p50Ms', 'p90Ms', 'p99Ms', 'errors', 'passed']) expect(s).toHaveProperty(k)
    // consecutive, disjoint slices of one timeline
    for (let i = 1; i < r.steps.length; i++) expect(Date.parse(r.steps[i]!.request.from)).toBeGreaterThan(Date.parse(r.steps[i - 1]!.request.from))
    expect(existsSync(join(dir, r.chart))).toBe(true)
    expect(readFileSync(join(dir, r.chart), 'utf8')).toMatch(/^<svg .*sustainable [\d,]+ points\/s/s)
    rmSync(dir, { recursive: true, force: true })
  }, 120_000)

  it('a database that cannot be reached is said so, not taken for a rate it cannot carry: exit 1, the reason', async () => {
    const res = await runCli(['capacity', '--slo-p99', '200ms', '--step-seconds', '1', '--warmup-seconds', '0', '--chart', '/dev/null'], { INFLUX_URL: 'http://127.0.0.1:9', POOL_SIZE: '1' })
    expect(res.code).toBe(1)
    expect(res.stderr).toContain('ohlcv-loadgen: cannot reach 127.0.0.1:9: ECONNREFUSED')
    expect(res.stdout).not.toContain('no sustainable rate')
  }, 60_000)

  it('exit 1 when even the start rate misses the objective', async () => {
    const res = await runCli(['capacity', '--sink', 'null', '--symbols', 'AAPL', '--slo-p99', '0.0001ms', '--step-seconds', '1', '--warmup-seconds', '0', '--start-rate', '100000', '--chart', '/dev/null'], { POOL_SIZE: '1' })
    expect(res.code).toBe(1)
    expect(res.stdout).toContain('no sustainable rate: the start rate 100,000 points/s failed its objectives')
  }, 60_000)
})

describe('POST /capacity', () => {
  it('runs the search in the coordinator: steps as events, the view, the chart, metrics; one at a time; bad options named by field', async () => {
    const { startCoordinator } = await import('./harness/coordinator.js')
    const co = await startCoordinator({ kind: 'null' }, 2)
    try {
      const bad = await co.json<{ statusCode: number; field?: string; message: string }>('POST', '/capacity', { sloP99: 'soon' })
      expect(bad.status).toBe(400)
      expect(bad.body).toMatchObject({ field: 'body.sloP99' })
      expect(bad.body.message).toContain('body.sloP99')
      expect((await co.json('POST', '/capacity', {})).body).toMatchObject({ statusCode: 400, field: 'body.sloP99' })
      // a problem between two options names the one that is wrong, and the other by its body name
      expect((await co.json('POST', '/capacity', { sloP99: '1s', startRate: 1000, maxRate: 10 })).body).toMatchObject({ statusCode: 400, field: 'body.maxRate', message: 'body.maxRate: 10 is below body.startRate 1000' })
      const created = await co.json<{ id: string; status: string; links: { events: string; chart: string } }>('POST', '/capacity', {
        load: { symbols: ['AAPL'], seed: 'api-cap', from: '2024-01-01T00:00:00Z' },
        sloP99: '1s',
        stepSeconds: 1,
        warmupSeconds: 0,
        startRate: 200_000,
        maxRate: 800_000,
        precision: '25%',
      })
      expect(created.status).toBe(202)
      const second = await co.json<{ code: string; message: string }>('POST', '/capacity', { sloP99: 1000 })
      expect(second.body).toMatchObject({ statusCode: 409, code: 'OHLCV_CAPACITY_RUNNING' })
      expect(second.body.message).toContain(`a capacity search is already running: ${created.body.id}`)
      expect((await co.json('GET', '/capacity/nope')).body).toMatchObject({ statusCode: 404, code: 'OHLCV_CAPACITY_NOT_FOUND', message: 'no capacity search with id "nope"' })
      const events = await (await fetch(co.url + created.body.links.events)).text()
      const names = [...events.matchAll(/^event: (\w+)$/gm)].map((m) => m[1])
      expect(names.at(-1)).toBe('done')
      expect(names.filter((n) => n === 'step').length).toBeGreaterThanOrEqual(3)
      const view = (await co.json<{ status: string; sustainablePointsPerSecond: number; confirmed: boolean; steps: { passed: boolean }[] }>('GET', `/capacity/${created.body.id}`)).body
      expect(view).toMatchObject({ status: 'done', sustainablePointsPerSecond: 800_000, confirmed: true })
      expect(await (await fetch(co.url + created.body.links.chart)).text()).toMatch(/^<svg /)
      const metrics = await (await fetch(`${co.url}/metrics`)).text()
      expect(metrics).toMatch(/^ohlcv_capacity_sustainable_points_per_second 800000$/m)
      expect(metrics).toMatch(/^ohlcv_capacity_step_passed 1$/m)
      expect(metrics).toMatch(/^ohlcv_capacity_step_target_points_per_second 800000$/m)
    } finally {
      await co.app.close()
    }
  }, 120_000)
})
