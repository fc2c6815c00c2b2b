import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { runCli, startServe } from './harness/cli.js'
import { call, writing } from './harness/http.js'
import { until } from './harness/until.js'
import { countInflux, startFaultyInfluxd, type FaultyInfluxd } from './harness/servers.js'
import { expectAccountBalances } from './harness/account.js'
import type { AccountFile } from '../src/load/accountFile.js'
import type { LoadResult } from '../src/model/account.js'

describe('run --account-file / --resume-from, against a real influxd that dies mid-load', () => {
  let server: FaultyInfluxd
  beforeAll(async () => {
    server = await startFaultyInfluxd()
  })
  afterAll(async () => {
    await server.stop()
  })

  it('the failed run leaves an exact account; --resume-from completes the load exactly', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'ohlcv-resume-'))
    const env = { INFLUX_URL: server.url, INFLUX_DB: 'cli_resume', INFLUX_TIMEOUT_MS: '1000', WRITE_RETRY_MAX_MS: '1500', BREAKER_COOLDOWN_MS: '200' }
    const args = ['run', '--trades', '1500000', '--seed', 'cli-resume', '--from', '2024-05-01T00:00:00Z', '--to', '2024-05-02T00:00:00Z', '--pool-size', '2']
    const running = runCli(args, env, 60_000, { cwd })
    await until('200,000 points in the database', async () => (await countInflux(server.url, 'cli_resume').catch(() => 0)) >= 200_000, 60_000)
    await server.kill()
    const failed = await running
    expect(failed.code).toBe(1)
    expect(failed.stdout).toMatch(/^load failed: [\d,]+ points written of 1,500,000 planned/m)
    expect(failed.stdout).toMatch(/error: gave up: (circuit open and )?the database took no write for the whole retry budget/)
    const accountFile = 'ohlcv-loadgen-cli-resume.account.json'
    expect(failed.stdout).toContain(`resume with: ohlcv-loadgen run --resume-from ${accountFile}`)
    const saved = JSON.parse(readFileSync(join(cwd, accountFile), 'utf8')) as AccountFile
    expect(saved).toMatchObject({ status: 'failed', request: { seed: 'cli-resume', from: '2024-05-01T00:00:00.000Z' } })
    const a = saved.account
    expectAccountBalances(a, { planned: 1_500_000, inDoubt: 0 })

    await server.start()
    // Everything acknowledged is there. A batch influxd stored but could not answer before it died
    // is in doubt: sent, never acknowledged, so counted failed; resume rewrites it (same points).
    const held = await countInflux(server.url, 'cli_resume')
    expect(held).toBeGreaterThanOrEqual(a.pointsWritten)
    expect(held).toBeLessThanOrEqual(a.pointsWritten + a.pointsFailed)

    // load options next to --resume-from are refused: the file holds the request
    const mixed = await runCli(['run', '--resume-from', accountFile, '--trades', '5'], env, 30_000, { cwd })
    expect(mixed).toMatchObject({ code: 2, stdout: '' })
    expect(mixed.stderr).toBe('ohlcv-loadgen: --resume-from takes the request and seed from the account file: drop the load options\n')

    const resumed = await runCli(['run', '--json', '--resume-from', accountFile, '--pool-size', '1'], env, 60_000, { cwd })
    expect(resumed.code, resumed.stderr).toBe(0)
    expect(JSON.parse(resumed.stdout)).toMatchObject({ status: 'succeeded', pointsWritten: 1_500_000, pointsFailed: 0, pointsUnsent: 0, accountFile, datasetFormat: 3 })
    expect(await countInflux(server.url, 'cli_resume')).toBe(1_500_000)
    expect(JSON.parse(readFileSync(join(cwd, accountFile), 'utf8'))).toMatchObject({ status: 'succeeded', dataset: 3, account: { pointsWritten: 1_500_000 } })
  }, 120_000)

  it.each([
    ['a missing file', 'nope.json', /^ohlcv-loadgen: invalid --resume-from: cannot read nope\.json: ENOENT\n$/],
    ['not JSON', 'garbage.json', /^ohlcv-loadgen: invalid --resume-from: cannot read garbage\.json: not valid JSON\n$/],
    ['another format', 'other.json', /^ohlcv-loadgen: invalid --resume-from: other\.json is not an ohlcv-loadgen account file/],
    ['a bad shard entry', 'badshard.json', /^ohlcv-loadgen: invalid --resume-from: shards\[0\]\.acked must be sorted, disjoint/],
    ['an older dataset format', 'format1.json', /^ohlcv-loadgen: invalid --resume-from: format1\.json is for dataset format 1 and this version generates format 3: resuming would mix two datasets/],
  ])('--resume-from with %s exits 2 with one line', async (_what, file, message) => {
    const cwd = mkdtempSync(join(tmpdir(), 'ohlcv-resume-'))
    writeFileSync(join(cwd, 'garbage.json'), '{"format":')
    writeFileSync(join(cwd, 'other.json'), '{"format":"something-else"}')
    writeFileSync(
      join(cwd, 'badshard.json'),
      JSON.stringify({ format: 'ohlcv-loadgen-account/1', dataset: 2, request: {}, sink: {}, shards: [{ shard: 0, status: 'stopped', planned: 1, written: 0, failed: 0, bytes: 0, batches: 0, retries: 0, splits: 0, acked: [[5, 1]] }] }),
    )
    // written before the dataset format was recorded: format 1
    writeFileSync(join(cwd, 'format1.json'), JSON.stringify({ format: 'ohlcv-loadgen-account/1', request: { seed: 'x' }, sink: {}, shards: [] }))
    const res = await runCli(['run', '--resume-from', file], { INFLUX_URL: server.url }, 30_000, { cwd })
    expect(res.code).toBe(2)
    expect(res.stderr).toMatch(message)
  })
})

describe('memory stays bounded whatever the load size', () => {
  // 48 MB of old space for the main thread and each worker (V8 flags are process-wide): a tool
  // that kept per-point state would die here long before the end of these loads.
  it('5,000,000 trades to the null sink and 1,000,000 into influxd with --max-old-space-size=48', async () => {
    const nodeArgs = ['--max-old-space-size=48']
    const nul = await runCli(['run', '--json', '--sink', 'null', '--trades', '5000000', '--pool-size', '2', '--seed', 'heap'], {}, 120_000, { nodeArgs })
    expect(nul.code, nul.stderr).toBe(0)
    expect(JSON.parse(nul.stdout)).toMatchObject({ status: 'succeeded', pointsWritten: 5_000_000 })
    const influx = await runCli(['run', '--json', '--trades', '1000000', '--pool-size', '2', '--seed', 'heap', '--db', 'heap'], { INFLUX_URL: inject('influxUrl') }, 120_000, { nodeArgs })
    expect(influx.code, influx.stderr).toBe(0)
    expect(JSON.parse(influx.stdout)).toMatchObject({ status: 'succeeded', pointsWritten: 1_000_000 })
  }, 180_000)
})

describe('serve: shutdown and secrets', () => {
  const secrets = { password: 'pw-DO-NOT-LOG-71c2', apiToken: 'api-DO-NOT-LOG-0123456789', influxToken: 'tok-DO-NOT-LOG-9f3e' }

  it('SIGTERM: new loads get 503 at once, running ones get the grace period then are cancelled with exact accounts; exit 0; no secret in any log line', async () => {
    const s = startServe({
      INFLUX_URL: inject('influxUrl'),
      INFLUX_DB: 'shutdown',
      INFLUX_USERNAME: 'loader',
      INFLUX_PASSWORD: secrets.password,
      INFLUX_TOKEN: secrets.influxToken,
      API_TOKEN: secrets.apiToken,
      LOG_LEVEL: 'debug',
      SHUTDOWN_GRACE_MS: '1000',
      POOL_SIZE: '2',
    })
    const url = await s.listening
    const api = (method: string, path: string, body?: unknown, token = secrets.apiToken) => call<Record<string, unknown>>(url, method, path, body, token)
    expect((await api('GET', '/loads', undefined, 'wrong-token-that-must-not-be-logged')).status).toBe(401)
    const created = await api('POST', '/loads', { trades: 20_000_000, seed: 'shutdown' })
    expect(created.status).toBe(202)
    const id = created.body.id as string
    const view = await api('GET', `/loads/${id}`)
    expect(JSON.stringify(view.body)).not.toMatch(/DO-NOT-LOG/)
    await writing(url, id, 0, secrets.apiToken)

    const t0 = Date.now()
    s.child.kill('SIGTERM')
    await until('serve to log that it is shutting down', () => s.output().includes('shutting down: no new loads'), 1000)
    const refused = await api('POST', '/loads', { trades: 1000 })
    expect(refused.status).toBe(503)
    expect(refused.body.code).toBe('OHLCV_SHUTTING_DOWN')
    expect((await api('GET', '/readyz')).body).toMatchObject({ status: 'shutting-down' })
    expect(await s.exited).toBe(0)
    const took = Date.now() - t0
    expect(took).toBeGreaterThanOrEqual(1000)
    expect(took).toBeLessThan(6000)

    const lines = s.output().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { msg: string; result?: LoadResult })
    const msgs = lines.map((l) => l.msg)
    expect(msgs).toContain('shutting down: no new loads')
    expect(msgs).toContain('grace period over: cancelling running loads')
    expect(msgs).toContain('shut down')
    const finished = lines.find((l) => l.msg === 'load cancelled')?.result
    expect(finished).toBeDefined()
    expectAccountBalances(finished!, { planned: 20_000_000, inDoubt: 0 })
    expect(await countInflux(inject('influxUrl'), 'shutdown')).toBe(finished!.pointsWritten)
    // secrets never appear, whatever the level: not the password, the tokens, or a wrong token a client sent
    expect(s.output()).not.toMatch(/DO-NOT-LOG|wrong-token-that-must-not-be-logged/)
    expect(s.output()).not.toContain(Buffer.from(`loader:${secrets.password}`).toString('base64'))
  }, 60_000)

  it('refuses to listen on a non-loopback address without API_TOKEN (exit 2, one line)', async () => {
    const res = await runCli(['serve', '--host', '0.0.0.0'], { INFLUX_URL: inject('influxUrl') })
    expect(res.code).toBe(2)
    expect(res.stderr).toBe('ohlcv-loadgen: invalid --host / HOST: 0.0.0.0 is reachable from other machines: set API_TOKEN first\n')
  })
})
