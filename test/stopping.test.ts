import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { BIN, runCli, startServe, type CliResult } from './harness/cli.js'
import { countInflux, startFaultyInfluxd, type FaultyInfluxd } from './harness/servers.js'
import { startFakeInflux, written } from './harness/fakeInflux.js'
import { until } from './harness/until.js'
import { expectAccountBalances } from './harness/account.js'
import type { AccountFile } from '../src/load/accountFile.js'

/** The CLI as a process a test can signal; resolves like runCli. */
function startCli(args: string[], env: Record<string, string>, cwd: string) {
  const child = spawn(process.execPath, [BIN, ...args], { cwd, env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()))
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()))
  const done = new Promise<CliResult>((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })))
  return { child, done, out: () => stdout + stderr }
}

function readAccount(path: string): AccountFile {
  return JSON.parse(readFileSync(path, 'utf8')) as AccountFile
}

describe('every way of stopping `run` leaves an account', () => {
  let server: FaultyInfluxd
  beforeAll(async () => {
    server = await startFaultyInfluxd()
  })
  afterAll(async () => {
    await server.stop()
  })
  const load = ['--trades', '3000000', '--from', '2024-07-01T00:00:00Z', '--to', '2024-07-02T00:00:00Z', '--pool-size', '2']

  async function whenWriting(db: string, at = 100_000) {
    await until(`${at} points in ${db}`, async () => (await countInflux(server.url, db).catch(() => 0)) >= at, 30_000)
  }

  it('SIGHUP (an ssh session dropping): the load stops, the summary is printed, the account file is written', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'ohlcv-hup-'))
    const run = startCli(['run', ...load, '--seed', 'hup'], { INFLUX_URL: server.url, INFLUX_DB: 'hup' }, cwd)
    await whenWriting('hup')
    run.child.kill('SIGHUP')
    const r = await run.done
    expect(r.code).toBe(130)
    expect(r.stdout).toMatch(/^load cancelled: [\d,]+ points written of 3,000,000 planned/m)
    expect(r.stdout).toContain('resume with: ohlcv-loadgen run --resume-from ohlcv-loadgen-hup.account.json')
    const saved = readAccount(join(cwd, 'ohlcv-loadgen-hup.account.json'))
    expect(saved.status).toBe('cancelled')
    expectAccountBalances(saved.account)
    expect(await countInflux(server.url, 'hup')).toBe(saved.account.pointsWritten)
  }, 60_000)

  it('a second Ctrl-C with the server stalled: writes in flight are abandoned (in doubt), the account is written at once; resume completes it exactly, reported per attempt and in total', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'ohlcv-int2-'))
    const env = { INFLUX_URL: server.url, INFLUX_DB: 'int2' }
    const run = startCli(['run', ...load, '--seed', 'int2'], env, cwd)
    await whenWriting('int2')
    server.freeze() // writes in flight now hang for the 30 s request timeout
    run.child.kill('SIGINT')
    await until('the first SIGINT to be taken', () => run.out().includes('SIGINT: stopping after the writes in flight'), 5000)
    const t0 = Date.now()
    run.child.kill('SIGINT')
    const r = await run.done
    server.thaw()
    expect(Date.now() - t0).toBeLessThan(10_000)
    expect(r.code).toBe(130)
    expect(r.stderr).toMatch(/not waiting for the writes in flight/)
    expect(r.stdout).toMatch(/^load cancelled: [\d,]+ points written of 3,000,000 planned \([1-9][\d,]* failed, /m)
    const path = join(cwd, 'ohlcv-loadgen-int2.account.json')
    const saved = readAccount(path)
    expectAccountBalances(saved.account)
    expect(saved.account.pointsInDoubt + saved.account.pointsFailed).toBeGreaterThan(0)
    await sleep(1500) // influxd works through what it read while frozen
    const held = await countInflux(server.url, 'int2')
    expect(held).toBeGreaterThanOrEqual(saved.account.pointsWritten)
    expect(held).toBeLessThanOrEqual(saved.account.pointsWritten + saved.account.pointsFailed + saved.account.pointsInDoubt)

    const resumed = await runCli(['run', '--resume-from', path], env, 90_000, { cwd })
    expect(resumed.code, resumed.stdout + resumed.stderr).toBe(0)
    expect(resumed.stdout).toMatch(/^load succeeded: 3,000,000 points written of 3,000,000 planned \(0 failed, 0 unsent\) in [\d.]+ s, [\d,]+ points\/s over 2 attempts$/m)
    expect(resumed.stdout).toMatch(/^this attempt \(2 of 2\): [\d,]+ points written in [\d.]+ s, [\d,]+ points\/s$/m)
    expect(await countInflux(server.url, 'int2')).toBe(3_000_000)
    expect(readAccount(path).attempts).toHaveLength(2)
  }, 120_000)

  it('an unwritable working directory: the account goes to the temporary directory, and the summary says where', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'ohlcv-gone-'))
    const run = startCli(['run', ...load, '--seed', 'gone-cwd', '--retry-max-ms', '1500'], { INFLUX_URL: server.url, INFLUX_DB: 'gone' }, cwd)
    await whenWriting('gone')
    rmSync(cwd, { recursive: true }) // the working directory disappears under the run
    await server.kill() // and the load fails: its account must go somewhere
    const r = await run.done
    await server.start()
    expect(r.code).toBe(1)
    const fallback = join(tmpdir(), 'ohlcv-loadgen-gone-cwd.account.json')
    expect(r.stdout).toMatch(/^load failed: [\d,]+ points written of 3,000,000 planned/m)
    expect(r.stdout).toContain(`could not write ohlcv-loadgen-gone-cwd.account.json (ENOENT): the account is in ${fallback} instead`)
    expect(r.stdout).toContain(`resume with: ohlcv-loadgen run --resume-from ${fallback}`)
    expectAccountBalances(readAccount(fallback).account)
    rmSync(fallback)
  }, 60_000)

  it('one account file, two runs at once: the second is refused with one line; an edited request is refused', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'ohlcv-lock-'))
    // an account file to resume from: a long null-sink load, interrupted
    const origin = startCli(['run', '--sink', 'null', '--trades', '5000000000', '--seed', 'lock', '--account-file', 'a.json', '--pool-size', '1'], {}, cwd)
    await sleep(1500)
    origin.child.kill('SIGINT')
    expect((await origin.done).code).toBe(130)
    const first = startCli(['run', '--sink', 'null', '--resume-from', 'a.json', '--pool-size', '1'], {}, cwd)
    await until('the first resume to lock a.json', () => existsSync(join(cwd, 'a.json.lock')), 5000)
    const second = await runCli(['run', '--sink', 'null', '--resume-from', 'a.json'], {}, 30_000, { cwd })
    expect(second.code).toBe(2)
    expect(second.stderr).toBe(`ohlcv-loadgen: invalid --resume-from: a.json is in use by another run (pid ${first.child.pid}); wait for it to end (or remove a.json.lock if that process is gone)\n`)
    first.child.kill('SIGINT')
    expect((await first.done).code).toBe(130)
    expect(existsSync(join(cwd, 'a.json.lock'))).toBe(false)

    const saved = JSON.parse(readFileSync(join(cwd, 'a.json'), 'utf8')) as { request: { trades: number } }
    saved.request.trades = 4_000_000_000
    writeFileSync(join(cwd, 'a.json'), JSON.stringify(saved))
    const edited = await runCli(['run', '--sink', 'null', '--resume-from', 'a.json'], {}, 30_000, { cwd })
    expect(edited.code).toBe(2)
    expect(edited.stderr).toBe('ohlcv-loadgen: invalid --resume-from: the request in a.json was changed after its load ran (its digest does not match): resuming would mix two datasets; start a new load with the changed request instead\n')
  }, 60_000)
})

describe('defects that ended a run badly', () => {
  it('an uncaught exception: one line with the account so far, workers stopped, exit 1, no stack trace', async () => {
    // a bug, simulated: something throws outside any promise chain a second into the load
    const bug = `data:text/javascript,setTimeout(() => { throw new Error('boom') }, 1000)`
    const r = await runCli(['run', '--sink', 'null', '--trades', '5000000000', '--seed', 'crash', '--pool-size', '1'], {}, 30_000, { nodeArgs: ['--import', bug] })
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(/^ohlcv-loadgen: internal error, stopping: Error: boom; account so far: \{"pointsPlanned":5000000000,"pointsWritten":\d+/m)
    expect(r.stderr).not.toMatch(/^\s+at /m)
  }, 60_000)

  it('an untrusted TLS certificate is permanent: the load fails at once and says what to do', async () => {
    const dir = new URL('./fixtures/tls/', import.meta.url)
    const tls = await startFakeInflux(() => written(), { tls: { key: readFileSync(new URL('key.pem', dir)), cert: readFileSync(new URL('cert.pem', dir)) } })
    try {
      const port = tls.port
      const t0 = Date.now()
      // no database creation first: the check that the server is InfluxDB meets the certificate first
      const r = await runCli(['run', '--trades', '20000', '--seed', 'tls', '--influx-url', `https://localhost:${port}`, '--create-db', 'false'], {}, 60_000)
      expect(r.code).toBe(1)
      expect(Date.now() - t0).toBeLessThan(10_000) // not the 60 s retry budget
      expect(r.stdout).toMatch(/^error: cannot reach localhost:\d+: its TLS certificate is not trusted \(DEPTH_ZERO_SELF_SIGNED_CERT\); fix the server's certificate, or give Node its CA with NODE_EXTRA_CA_CERTS=/m)
      expect(r.stdout).not.toMatch(/retries/)
    } finally {
      await tls.close()
    }
  }, 60_000)
})

describe('serve and a bug', () => {
  it('an uncaught exception: one fatal log line with the running loads\' accounts, loads cancelled, exit 1', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ohlcv-serve-bug-'))
    const bug = join(dir, 'bug.mjs')
    // the bug strikes once a load runs (a file says so): a timer could fire before a slow start-up ends
    const trigger = join(dir, 'strike')
    writeFileSync(bug, `import { existsSync } from 'node:fs'\nconst t = setInterval(() => { if (existsSync(${JSON.stringify(trigger)})) { clearInterval(t); throw new Error('boom') } }, 50)\nt.unref()\n`)
    const s = startServe({ SINK: 'null', POOL_SIZE: '1', NODE_OPTIONS: `--import ${bug}` })
    const url = await s.listening
    const created = await fetch(`${url}/loads`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ trades: 5_000_000_000, seed: 'bug' }) })
    expect(created.status).toBe(202)
    writeFileSync(trigger, '')
    expect(await s.exited).toBe(1)
    const fatal = s.output().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { msg: string; err?: string; running?: { account: { pointsPlanned: number } }[] }).find((l) => l.msg === 'internal error: cancelling running loads and exiting')
    expect(fatal?.err).toBe('Error: boom')
    expect(fatal?.running?.[0]?.account.pointsPlanned).toBe(5_000_000_000)
    expect(s.output()).not.toMatch(/^\s+at /m)
  }, 30_000)
})
