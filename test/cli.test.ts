import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { runCli } from './harness/cli.js'

describe('CLI input errors: exit 2, one readable line, nothing started', () => {
  const CASES: [string[], RegExp][] = [
    [['run', '--trades', 'lots'], /^ohlcv-loadgen: invalid --trades: must be integer$/],
    [['run', '--trades', '0'], /^ohlcv-loadgen: invalid --trades: must be >= 1$/],
    [['run', '--symbols', 'AAPL,bad'], /^ohlcv-loadgen: invalid --symbols\[1\]: must match/],
    [['run', '--from', '2024-01-02T00:00:00Z', '--to', '2024-01-01T00:00:00Z'], /^ohlcv-loadgen: invalid --from: must be before to$/],
    [['run', '--distribution', 'gaussian'], /^ohlcv-loadgen: invalid --distribution: must be one of uniform, poisson, intraday, bursty$/],
    [['run', '--batch-size', '1e9'], /^ohlcv-loadgen: invalid --batch-size: must be <= 100000$/],
    [['run', '--frobnicate'], /^ohlcv-loadgen: unknown option --frobnicate/],
    [['run', '--trades'], /^ohlcv-loadgen: option --trades needs a value$/],
    [['run', '--sink', 'kafka'], /^ohlcv-loadgen: invalid --sink \/ SINK: must be one of influx, null, file/],
    [['run', '--influx-api', 'v4'], /^ohlcv-loadgen: invalid --influx-api \/ INFLUX_API: must be one of v1, v2, v3/],
    [['run', '--influx-api', 'v2'], /^ohlcv-loadgen: invalid --org \/ INFLUX_ORG: is required for InfluxDB v2$/],
    [['run', '--influx-url', 'ftp://x'], /^ohlcv-loadgen: invalid --influx-url \/ INFLUX_URL: must be http/],
    [['run', '--pool-size', '0'], /^ohlcv-loadgen: invalid --pool-size \/ POOL_SIZE: must be an integer from 1 to 256/],
    [['run', '--sink', 'file', '--json'], /^ohlcv-loadgen: --json cannot share stdout/],
    [['launch'], /^ohlcv-loadgen: unknown command "launch"/],
    [['serve', '--trades', '5'], /^ohlcv-loadgen: load options belong to `run`/],
  ]

  it.each(CASES)('%j', async (args, message) => {
    const res = await runCli(args)
    expect(res.code).toBe(2)
    const lines = res.stderr.trimEnd().split('\n')
    expect(lines).toHaveLength(1)
    expect(lines[0]).toMatch(message)
    expect(res.stdout).toBe('')
  })

  it('reads settings from the environment, flags winning', async () => {
    const res = await runCli(['run', '--trades', '1000', '--json', '--sink', 'null'], { SINK: 'file', POOL_SIZE: '1' })
    expect(res.code).toBe(0)
    const account = JSON.parse(res.stdout) as { client: Record<string, number> }
    expect(account).toMatchObject({ status: 'succeeded', pointsWritten: 1000, poolSize: 1, sink: { kind: 'null' } })
    // what the tool cost: the load's share of the CPU is part of the whole process's
    const { cpuSeconds, cpuMicrosPerPoint, loadCpuSeconds, loadCpuMicrosPerPoint, peakRssMb } = account.client
    expect(loadCpuSeconds).toBeGreaterThan(0)
    expect(loadCpuSeconds).toBeLessThan(cpuSeconds!)
    expect(loadCpuMicrosPerPoint).toBeCloseTo((loadCpuSeconds! * 1e6) / 1000, 0)
    expect(cpuMicrosPerPoint).toBeGreaterThan(loadCpuMicrosPerPoint!)
    expect(peakRssMb).toBeGreaterThan(30)
    const bad = await runCli(['run', '--sink', 'null'], { POOL_SIZE: 'two' })
    expect(bad.code).toBe(2)
    expect(bad.stderr).toMatch(/POOL_SIZE: must be an integer/)
  })

  it('the file sink joins many shards to stdout without piling listeners on it', async () => {
    // 12 shards: more than Node's default of 10 listeners per emitter, where a leak would warn
    const res = await runCli(['run', '--sink', 'file', '--out', '-', '--trades', '1200000', '--seed', 'parts', '--pool-size', '2'])
    expect(res.code).toBe(0)
    expect(res.stdout.split('\n')).toHaveLength(1_200_001)
    expect(res.stderr).toMatch(/^load succeeded: 1,200,000 points written .* 12 shards/s)
    expect(res.stderr).not.toMatch(/Warning/)
  })

  it('help lists the commands, every flag and variable', async () => {
    const res = await runCli(['help'])
    expect(res.code).toBe(0)
    for (const word of ['run', 'serve', '--symbols', '--batch-size', '--pool-size', '--influx-url', 'INFLUX_TOKEN', '--json', '--sink', '--out']) {
      expect(res.stdout).toContain(word)
    }
    // each setting's flag and variable stand apart, however long the flag
    const settings = res.stdout.slice(res.stdout.indexOf('settings (flag')).split('\n').slice(1).filter(Boolean)
    expect(settings.length).toBeGreaterThan(20)
    for (const line of settings) expect(line).toMatch(/^ {2}--[a-z-]+ +[A-Z_0-9]+ +\S/)
    expect(res.stdout).toMatch(/--max-concurrent-loads +MAX_CONCURRENT_LOADS /)
    expect((await runCli([])).code).toBe(2)
  })

  it('serve listens, answers, and exits 0 on SIGTERM', async () => {
    const { spawn } = await import('node:child_process')
    const { BIN } = await import('./harness/cli.js')
    const child = spawn(process.execPath, [BIN, 'serve'], { env: { ...process.env, PORT: '0', STATE_DIR: ':memory:', SINK: 'null', POOL_SIZE: '1', LOG_LEVEL: 'warn' } })
    let err = ''
    const address = await new Promise<string>((resolve, reject) => {
      child.stderr.on('data', (c: Buffer) => {
        err += c.toString()
        const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(err)
        if (m?.[1]) resolve(m[1])
      })
      child.on('exit', () => reject(new Error(err)))
    })
    const res = await fetch(`${address}/loads`, { method: 'POST', body: '{"trades": 5000}', headers: { 'content-type': 'application/json' } })
    expect(res.status).toBe(202)
    const exit = new Promise<number | null>((r) => child.on('exit', (code) => r(code)))
    child.kill('SIGTERM')
    expect(await exit).toBe(0)
  })
})

describe('run --report', () => {
  it('writes the load as one HTML file with the account, the timeline and the environment embedded; an unwritable path is said, not fatal', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ohlcv-report-cli-'))
    const file = join(dir, 'load.html')
    const res = await runCli(['run', '--sink', 'null', '--trades', '2000000', '--seed', 'report', '--report', file], { POOL_SIZE: '2' })
    expect(res.code).toBe(0)
    expect(res.stdout).toContain(`report in ${file}\n`)
    const html = readFileSync(file, 'utf8')
    // nothing loaded from elsewhere: no script or stylesheet by URL, no url() to a server
    expect(/<script[^>]+src=|<link[^>]+href="(?!data:)|url\(\s*["']?https?:/.exec(html)?.[0]).toBeUndefined()
    const data = JSON.parse(/<script type="application\/json" id="report-data">(.*?)<\/script>/s.exec(html)![1]!) as {
      view: { status: string; seed: string; result: { pointsWritten: number } }
      timeline: { samples: { written: number }[] }
      environment: { poolSize: number; node: string }
    }
    expect(data.view).toMatchObject({ status: 'succeeded', seed: 'report', result: { pointsWritten: 2_000_000 } })
    expect(data.timeline.samples.at(-1)!.written).toBe(2_000_000)
    expect(data.environment).toMatchObject({ poolSize: 2, node: process.version })
    // a report that cannot be written does not change the load's outcome
    const bad = await runCli(['run', '--sink', 'null', '--trades', '1000', '--report', join(dir, 'missing', 'x.html')], { POOL_SIZE: '1' })
    expect(bad.code).toBe(0)
    expect(bad.stdout).toContain(`report not written: cannot write ${join(dir, 'missing', 'x.html')} (ENOENT)`)
    rmSync(dir, { recursive: true, force: true })
  })
})
