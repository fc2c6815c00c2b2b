import { setTimeout as sleep } from 'node:timers/promises'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { countInflux } from './harness/servers.js'
import { netLabUnavailable, startNetLab, type NetLab } from './harness/netns.js'
import { expectAccountBalances } from './harness/account.js'
import type { RunReport } from '../src/app/runLoad.js'

/**
 * Over a real network, what happens to a load's account (the rates are measured in net.test.ts,
 * in the system tier): Linux network namespaces and veth links made by the test
 * (test/harness/netns.ts), influxd on one host, the CLI on others. Bandwidth is shaped with tc's
 * tbf; links are cut with `ip link set down`. This kernel has no netem, so where latency is needed
 * a delaying TCP relay of the test's own (test/harness/delay-relay.mjs) sits on the database host
 * in front of influxd and holds every chunk 10 ms each way: a 20 ms round trip.
 */
const why = netLabUnavailable()
if (why) console.warn(`skipping the network tests: ${why}`)

const report = (stdout: string) => JSON.parse(stdout) as RunReport

/** Waits until the database holds at least `n` points (it may not exist yet). */
async function reached(lab: NetLab, db: string, n: number): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if ((await countInflux(lab.influxUrl, db).catch(() => 0)) >= n) return
    await sleep(50)
  }
  throw new Error(`${db} never reached ${n} points`)
}
const RANGE = ['--from', '2024-03-04T00:00:00Z', '--to', '2024-03-08T00:00:00Z']

describe.skipIf(why !== undefined)('links cut, hosts apart, a round trip (network namespaces)', () => {
  let lab: NetLab
  beforeAll(async () => {
    lab = await startNetLab(3)
  }, 60_000)
  afterAll(async () => {
    await lab?.destroy()
  })
  const env = (gen: number, db: string, extra: Record<string, string> = {}) => ({ INFLUX_URL: lab.influxFor(gen), INFLUX_DB: db, POOL_SIZE: '2', ...extra })

  it('the link cut for 8 s in the middle of a load, then restored: the load rides it out, exact', async () => {
    lab.shape(1, '200mbit')
    const load = lab.run(1, ['run', '--symbols', 'AAPL', '--trades', '800000', '--seed', 'cut', ...RANGE, '--gzip', 'off', '--json'], env(1, 'cut'))
    await reached(lab, 'cut', 100_000)
    lab.cut(1)
    const atCut = await countInflux(lab.influxUrl, 'cut')
    await sleep(8000)
    lab.restore(1)
    const res = await load.done
    expect(res.code, res.stderr).toBe(0)
    const r = report(res.stdout)
    expect(r.pointsWritten).toBe(800_000)
    expect(atCut).toBeLessThan(800_000)
    expect(await countInflux(lab.influxUrl, 'cut')).toBe(800_000)
    console.log(`cut for 8 s at ${atCut.toLocaleString('en-US')} points: ${r.retries} retries, ${(r.durationMs / 1000).toFixed(1)} s in all, exact`)
  }, 120_000)

  it('cut for longer than the retry budget: the load fails with a clear message and an exact account; --resume-from completes it exactly', async () => {
    const args = ['--symbols', 'MSFT', '--trades', '600000', '--seed', 'long-cut', ...RANGE, '--gzip', 'off']
    const e = env(2, 'long_cut', { WRITE_RETRY_MAX_MS: '3000', INFLUX_TIMEOUT_MS: '2000' })
    lab.shape(2, '200mbit')
    const load = lab.run(2, ['run', ...args, '--account-file', 'long-cut.account.json', '--json'], e)
    await reached(lab, 'long_cut', 100_000)
    lab.cut(2)
    const res = await load.done
    lab.restore(2)
    expect(res.code).toBe(1)
    const r = report(res.stdout)
    expect(r.status).toBe('failed')
    expectAccountBalances(r)
    expect(r.error!.message).toMatch(/cannot reach|no complete answer from|gave up/)
    const inDb = await countInflux(lab.influxUrl, 'long_cut')
    expect(inDb).toBeGreaterThanOrEqual(r.pointsWritten)
    expect(inDb).toBeLessThanOrEqual(r.pointsWritten + r.pointsFailed + r.pointsInDoubt)
    const resumed = await lab.run(2, ['run', '--resume-from', 'long-cut.account.json', '--json'], e).done
    expect(resumed.code, resumed.stderr).toBe(0)
    expect(report(resumed.stdout).pointsWritten).toBe(600_000)
    expect(await countInflux(lab.influxUrl, 'long_cut')).toBe(600_000)
    console.log(`cut past a 3 s budget: failed with "${r.error!.message.slice(0, 90)}", ${r.pointsWritten.toLocaleString('en-US')} written; resumed to 600,000`)
  }, 120_000)

  it('scale-out across hosts: three generator hosts each run one partition of one load; the database holds exactly the load and verify is ok', async () => {
    const load = ['--symbols', 'AAPL,MSFT,NVDA', '--trades', '900000', '--seed', 'scale', ...RANGE]
    const runs = [0, 1, 2].map((g) => lab.run(g, ['run', ...load, '--partition', `${g}/3`, '--json'], env(g, 'scale_out')).done)
    const results = await Promise.all(runs)
    for (const res of results) expect(res.code, res.stderr).toBe(0)
    const written = results.map((res) => report(res.stdout).pointsWritten)
    expect(written.reduce((a, b) => a + b, 0)).toBe(900_000)
    expect(await countInflux(lab.influxUrl, 'scale_out')).toBe(900_000)
    const verify = await lab.run(0, ['verify', ...load], env(0, 'scale_out')).done
    expect(verify.code, verify.stderr).toBe(0)
    expect(verify.stdout).toMatch(/^verify ok: 900,000 points in 3 symbols/)
    console.log(`three hosts: ${written.map((n) => n.toLocaleString('en-US')).join(' + ')} = 900,000, verify ok`)
  }, 120_000)

  it('a 20 ms link (the delaying relay): the load is exact, and every batch pays the round trip', async () => {
    const url = await lab.delayed(1, 10)
    const res = await lab.run(1, ['run', '--symbols', 'AAPL', '--trades', '300000', '--seed', 'rtt', ...RANGE, '--gzip', 'off', '--json'], { ...env(1, 'rtt'), INFLUX_URL: url }).done
    expect(res.code, res.stderr).toBe(0)
    const r = JSON.parse(res.stdout) as RunReport
    expect(r.pointsWritten).toBe(300_000)
    expect(await countInflux(lab.influxUrl, 'rtt')).toBe(300_000)
    // a write is at least a request and its answer across the link
    expect(r.writeLatencyMs.p50).toBeGreaterThanOrEqual(20)
    console.log(`20 ms link: ${r.pointsPerSecond.toLocaleString('en-US')} points/s, write latency p50 ${r.writeLatencyMs.p50} ms, p99 ${r.writeLatencyMs.p99} ms`)
    // and the capacity over it: the round trip in every write's latency, the search still converges.
    // Beside other tests (integration tier) a p99 of 500 ms at 50,000 points/s failed the very first
    // step once: what is checked here is the round trip in each step, so the objective is loose
    const cap = await lab.run(1, ['capacity', '--symbols', 'AAPL,MSFT', '--seed', 'cap-rtt', '--from', '2025-01-01T00:00:00Z', '--slo-p99', '5s', '--step-seconds', '2', '--warmup-seconds', '1', '--start-rate', '20000', '--precision', '30%', '--deadline', '7s', '--json'], { ...env(1, 'capacity_rtt'), INFLUX_URL: url, INFLUX_GZIP: 'off' }).done
    expect(cap.code, cap.stderr).toBe(0)
    const c = JSON.parse(cap.stdout) as { sustainablePointsPerSecond: number; confirmed: boolean; steps: { targetPointsPerSecond: number; achievedPointsPerSecond: number; p50Ms: number; p99Ms: number; passed: boolean }[] }
    expect(c.steps.every((x) => x.p50Ms >= 20)).toBe(true)
    console.log(
      `capacity over the 20 ms link: ${c.sustainablePointsPerSecond.toLocaleString('en-US')} points/s${c.confirmed ? ', confirmed' : ''}; steps ` +
        c.steps.map((x) => `${Math.round(x.targetPointsPerSecond / 1000)}k${x.passed ? '+' : '-'}(p99 ${Math.round(x.p99Ms)} ms)`).join(' '),
    )
  }, 240_000)
})
