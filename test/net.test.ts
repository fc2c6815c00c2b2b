import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { countInflux } from './harness/servers.js'
import { netLabUnavailable, startNetLab, type NetLab } from './harness/netns.js'
import type { RunReport } from '../src/app/runLoad.js'

/**
 * Rates over a real network: Linux network namespaces and veth links made by the test
 * (test/harness/netns.ts), influxd on one host, the CLI on another, the link shaped with tc's tbf.
 * What a cut link, hosts apart and a round trip do to a load's account is in net-faults.test.ts
 * (integration tier); here, in the system tier, nothing else runs beside the measured rates.
 */
const why = netLabUnavailable()
if (why) console.warn(`skipping the network tests: ${why}`)

const report = (stdout: string) => JSON.parse(stdout) as RunReport

const RANGE = ['--from', '2024-03-04T00:00:00Z', '--to', '2024-03-08T00:00:00Z']

describe.skipIf(why !== undefined)('over a real network (network namespaces)', () => {
  let lab: NetLab
  beforeAll(async () => {
    lab = await startNetLab(3)
  }, 60_000)
  afterAll(async () => {
    await lab?.destroy()
  })
  const env = (gen: number, db: string, extra: Record<string, string> = {}) => ({ INFLUX_URL: lab.influxFor(gen), INFLUX_DB: db, POOL_SIZE: '2', ...extra })

  it('a link shaped to 200 Mbit/s: the load is exact at what the link carries; with --gzip, exact and clearly faster (the CPU, not the link, limits it on 2 cores)', async () => {
    lab.shape(0, '200mbit')
    const args = ['run', '--symbols', 'AAPL,MSFT', '--trades', '600000', '--seed', 'shaped', ...RANGE, '--json']
    const plain = await lab.run(0, [...args, '--gzip', 'off'], env(0, 'shaped')).done
    expect(plain.code, plain.stderr).toBe(0)
    const p = report(plain.stdout)
    expect(p.pointsWritten).toBe(600_000)
    expect(await countInflux(lab.influxUrl, 'shaped')).toBe(600_000)
    const bytesPerLine = p.bytesWritten / p.pointsWritten
    const linkLimit = 200e6 / 8 / bytesPerLine
    const packed = await lab.run(0, [...args, '--gzip', '1'], env(0, 'shaped_gzip')).done
    expect(packed.code, packed.stderr).toBe(0)
    const g = report(packed.stdout)
    expect(g.pointsWritten).toBe(600_000)
    expect(await countInflux(lab.influxUrl, 'shaped_gzip')).toBe(600_000)
    console.log(
      `200 Mbit/s: ${bytesPerLine.toFixed(1)} bytes a line, so at most ${Math.round(linkLimit).toLocaleString('en-US')} points/s; ` +
        `plain ${p.pointsPerSecond.toLocaleString('en-US')} points/s (${((p.pointsPerSecond / linkLimit) * 100).toFixed(0)} % of it), ` +
        `gzip level 1 ${g.pointsPerSecond.toLocaleString('en-US')} points/s (${(g.pointsPerSecond / p.pointsPerSecond).toFixed(1)}x)`,
    )
    // the link is the limit: never above it, and most of it used
    expect(p.pointsPerSecond).toBeLessThanOrEqual(linkLimit * 1.05)
    expect(p.pointsPerSecond).toBeGreaterThan(linkLimit * 0.5)
    // compressed, the link carries ~6.7x the lines; on this 2-core machine the CPU (two workers
    // compressing, influxd parsing) becomes the limit well before that, so only "faster": 1.7-1.9x
    // in the full suite (nothing else running), 1.28x with the other core busy: the bound is 1.1x
    expect(g.pointsPerSecond).toBeGreaterThan(p.pointsPerSecond * 1.1)
  }, 120_000)

  it('capacity over a 50 Mbit/s link converges on what the link carries; fixed-rate loads at 90 % and 110 % of the found rate confirm it', async () => {
    // 50 Mbit/s (~60,000 points/s), a quarter of what influxd takes on this machine: the link is the
    // limit by far, so a step is judged on the link and not on one of influxd's snapshot stalls
    // (at 200 Mbit/s the two were close, and one stall on a 4 s step failed it: 1 CI run in 4)
    lab.shape(0, '50mbit')
    const e = env(0, 'capacity', { INFLUX_GZIP: 'off' })
    // precision 5 %, not looser: a rate found up to 12 % under the limit (as a 12 % search may end)
    // puts 110 % of it still under the link, and that fixed load passes (a CI run did exactly that)
    const res = await lab.run(0, ['capacity', '--symbols', 'AAPL,MSFT', '--seed', 'cap-net', '--from', '2024-01-01T00:00:00Z', '--slo-p99', '1s', '--step-seconds', '2', '--warmup-seconds', '1', '--start-rate', '50000', '--max-rate', '70000', '--precision', '5%', '--deadline', '150s', '--json'], e).done
    expect(res.code, res.stderr).toBe(0)
    const r = JSON.parse(res.stdout) as { sustainablePointsPerSecond: number; confirmed: boolean; steps: { targetPointsPerSecond: number; achievedPointsPerSecond: number; p99Ms: number; hostCpu: number; passed: boolean; limitedBy?: string; reasons: string[]; request: { from: string; to: string; trades: number } }[] }
    // every step wrote its own slice of one dataset: verify checks one with its slice and the seed
    const slice = r.steps.find((x) => x.passed)!.request
    const verified = await lab.run(0, ['verify', '--symbols', 'AAPL,MSFT', '--seed', 'cap-net', '--from', slice.from, '--to', slice.to, '--trades', String(slice.trades)], e).done
    expect(verified.code, verified.stderr).toBe(0)
    expect(verified.stdout).toMatch(new RegExp(`^verify ok: ${slice.trades.toLocaleString('en-US')} points in 2 symbols`))
    const linkLimit = 50e6 / 8 / 103.5
    const found = r.sustainablePointsPerSecond
    console.log(
      `capacity over 50 Mbit/s (link carries ~${Math.round(linkLimit).toLocaleString('en-US')} points/s): ${found.toLocaleString('en-US')} points/s${r.confirmed ? ', confirmed' : ''}; steps ` +
        r.steps.map((s) => `${Math.round(s.targetPointsPerSecond / 1000)}k${s.passed ? '+' : `-(${s.limitedBy ?? 'latency'}, host ${Math.round(s.hostCpu * 100)} %)`}`).join(' '),
    )
    expect(found).toBeLessThanOrEqual(linkLimit * 1.02)
    expect(found).toBeGreaterThan(linkLimit * 0.6)
    // the failed steps failed on the rate, and never blame the generator: the link took no more
    // (named the database's side, or the host's when this shared machine had no CPU left)
    const failed = r.steps.filter((s) => !s.passed)
    expect(failed.length).toBeGreaterThan(0)
    for (const s of failed) expect(s.limitedBy, s.reasons.join('; ')).not.toBe('generator')
    const fixed = async (rate: number) => {
      const out = await lab.run(0, ['run', '--symbols', 'AAPL,MSFT', '--seed', `cap-net-${rate}`, '--from', '2024-06-01T00:00:00Z', '--to', '2024-06-02T00:00:00Z', '--trades', String(rate * 4), '--rate-per-second', String(rate), '--json'], e).done
      expect(out.code, out.stderr).toBe(0)
      const j = report(out.stdout)
      expect(j.pointsWritten).toBe(rate * 4)
      // judged as a capacity step is: the rate the paced run kept, and its p99
      const pps = j.attempts[0]!.pace!.achievedPointsPerSecond
      return { passed: pps >= rate * 0.99 && j.writeLatencyMs.p99 <= 1000, pps, p99: j.writeLatencyMs.p99 }
    }
    const below = await fixed(Math.round(found * 0.9))
    const above = await fixed(Math.round(found * 1.1))
    console.log(`90 %: ${below.pps.toLocaleString('en-US')} points/s, p99 ${below.p99} ms (${below.passed ? 'pass' : 'fail'}); 110 %: ${above.pps.toLocaleString('en-US')} points/s, p99 ${above.p99} ms (${above.passed ? 'pass' : 'fail'})`)
    expect(below.passed).toBe(true)
    expect(above.passed).toBe(false)
  }, 240_000)
})
