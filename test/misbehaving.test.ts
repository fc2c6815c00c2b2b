import net from 'node:net'
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { runCli, startServe } from './harness/cli.js'
import { call, finished } from './harness/http.js'
import { expectAccountBalances } from './harness/account.js'
import { influx1, influx2, influx3, jsonAnswer, startFakeInflux, type Answer, type Script } from './harness/fakeInflux.js'
import type { RunReport } from '../src/app/runLoad.js'

/**
 * Servers that misbehave in ways a real InfluxDB cannot be made to on demand: an error body that
 * trickles or never ends, a 200 that carries an error, something that answers 204 to anything, bytes
 * that are not HTTP, a redirect, a proxy that echoes the credentials it was sent, a database that
 * drops most writes but stores some. Small fakes play them here, on purpose and only here; where
 * they play InfluxDB they give its documented answers (`/ping`: 204 with `X-Influxdb-Version`;
 * `CREATE DATABASE` on `/query`: 200 `{"results":[{"statement_id":0}]}`; a stored write: 204).
 */

const servers: { close(): unknown }[] = []
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close()
})

/** An InfluxDB 1.x fake: documented /ping and /query answers; `write` answers /write (and anything else). */
async function fake(write: Script, opts: { ping?: Answer } = {}): Promise<string> {
  const f = await startFakeInflux(
    (req) => {
      if (req.url.startsWith('/ping')) return opts.ping ?? influx1.ping()
      if (req.url.startsWith('/query')) return influx1.created()
      return write(req)
    },
    { keepAliveTimeoutMs: 60_000 },
  )
  servers.push(f)
  return f.url
}

const quick = ['--trades', '20000', '--seed', 'misbehaving', '--pool-size', '1', '--from', '2024-05-06T00:00:00Z', '--to', '2024-05-07T00:00:00Z']

describe('no answer may hang a load', () => {
  it.each([
    ['v1', {}],
    ['v2', { INFLUX_API: 'v2', INFLUX_ORG: 'o', INFLUX_BUCKET: 'b', INFLUX_TOKEN: 't' }],
    ['v3', { INFLUX_API: 'v3', INFLUX_TOKEN: 't' }],
  ])('%s: a 500 whose body trickles a byte every 200 ms: the request ends at its total deadline, the load within the retry budget', async (api, env) => {
    const url = await fake(
      (req) => {
        if (req.url.startsWith('/health')) return influx2.health()
        if (req.url.startsWith('/api/v3/configure')) return influx3.created()
        return { status: 500, headers: { 'content-type': 'text/plain', 'content-length': '1000' }, trickle: { chunk: 'x', everyMs: 200 } }
      },
      api === 'v3' ? { ping: influx3.ping() } : {},
    )
    const t0 = Date.now()
    // An idle timeout alone never fired here: a byte came every 200 ms, for 200 s.
    const r = await runCli(['run', ...quick, '--json'], { INFLUX_URL: url, INFLUX_TIMEOUT_MS: '1000', WRITE_RETRY_MAX_MS: '2000', ...env }, 60_000)
    const took = Date.now() - t0
    expect(r.code, r.stderr).toBe(1)
    const out = JSON.parse(r.stdout) as RunReport
    expect(out.error?.message).toMatch(/no complete answer from 127\.0\.0\.1:\d+ within 1000 ms/)
    expectAccountBalances(out, { inDoubt: 0 })
    expect(took).toBeLessThan(30_000) // 3 s of budget plus start-up; before: 200 s per attempt
  }, 70_000)

  it('a 500 with a 200 MB body: the client keeps the first 4 kB and drops the connection, the load ends in seconds', async () => {
    const sent: number[] = []
    const url = await fake(() => (res) => {
      const total = 200 * 2 ** 20
      res.writeHead(500, { 'content-type': 'text/plain', 'content-length': String(total) })
      const chunk = Buffer.alloc(2 ** 20, 'y')
      let n = 0
      const more = () => {
        while (n < total && !res.destroyed) {
          n += chunk.length
          if (!res.write(chunk)) return res.once('drain', more)
        }
        if (n >= total) res.end()
      }
      res.on('close', () => sent.push(n))
      more()
    })
    const t0 = Date.now()
    const r = await runCli(['run', ...quick, '--json'], { INFLUX_URL: url, WRITE_RETRY_MAX_MS: '1500' }, 60_000)
    expect(r.code, r.stderr).toBe(1)
    expect(Date.now() - t0).toBeLessThan(30_000)
    const out = JSON.parse(r.stdout) as RunReport
    expect(out.error?.message).toMatch(/^gave up: .*InfluxDB answered 500: y{100}/)
    expect(out.error!.message.length).toBeLessThan(1500) // the message quotes at most 1,000 characters of it
    // What the server got out before the client hung up: socket buffers' worth, not 200 MB per request.
    expect(sent.length).toBeGreaterThan(0)
    expect(Math.max(...sent)).toBeLessThan(64 * 2 ** 20)
  }, 70_000)
})

describe('a 2xx is not always a write', () => {
  it('/write answering 200 {"error": ...}: not counted as written, the load fails with the text', async () => {
    let writes = 0
    const url = await fake(() => {
      writes++
      return jsonAnswer(200, '{"error":"database is read-only"}', { 'x-influxdb-version': '1.8.10' })
    })
    const r = await runCli(['run', ...quick, '--json'], { INFLUX_URL: url }, 60_000)
    expect(r.code, r.stderr).toBe(1)
    const out = JSON.parse(r.stdout) as RunReport
    expect(writes).toBeGreaterThan(0)
    expect(out.status).toBe('failed')
    expect(out.pointsWritten).toBe(0)
    expect(out.error?.message).toMatch(/InfluxDB answered 200: database is read-only/)
  })

  it.each([
    ['v1 with INFLUX_CREATE_DB=false', { INFLUX_CREATE_DB: 'false' }],
    ['v2', { INFLUX_API: 'v2', INFLUX_ORG: 'o', INFLUX_BUCKET: 'b', INFLUX_TOKEN: 't0ken-value' }],
    ['v3', { INFLUX_API: 'v3', INFLUX_TOKEN: 't0ken-value' }],
  ])('a server that answers 204 to everything, %s: refused before the load, in one line naming what answered', async (_name, env) => {
    const blackHole = await startFakeInflux((req) => (req.url.startsWith('/health') ? { status: 200, headers: { server: 'black-hole/1.0' }, body: 'ok' } : { status: 204, headers: { server: 'black-hole/1.0' } }))
    servers.push(blackHole)
    const r = await runCli(['run', ...quick], { INFLUX_URL: blackHole.url, ...env }, 60_000)
    expect(r.code, r.stdout + r.stderr).toBe(1)
    expect(r.stdout).toMatch(/^error: the server at 127\.0\.0\.1:\d+ does not say it is InfluxDB \(no X-Influxdb-Version header .*"black-hole\/1\.0"/m)
    expect(r.stdout).toMatch(/load failed: 0 points written of 20,000 planned \(0 failed, 20,000 unsent\)/)
    // No batch went out: at most the checks (a ping, one empty write).
    expect(blackHole.requests.filter((q) => /write/.test(`${q.method} ${q.path}`)).length).toBeLessThanOrEqual(1)
  })
})

describe('messages that name what happened', () => {
  it('bytes that are not HTTP: "did not answer in HTTP", at once (no retry mends it)', async () => {
    const server = net.createServer((s) => s.end('SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n'))
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
    servers.push(server)
    const t0 = Date.now()
    const r = await runCli(['run', ...quick], { INFLUX_URL: `http://127.0.0.1:${(server.address() as AddressInfo).port}` }, 60_000)
    expect(r.code).toBe(1)
    expect(r.stdout).toMatch(/^error: 127\.0\.0\.1:\d+ did not answer in HTTP \(HPE_[A-Z_]+\)/m)
    expect(Date.now() - t0).toBeLessThan(20_000)
  })

  it('a 307: says it redirected, and where', async () => {
    const url = await fake(() => ({ status: 307, headers: { location: 'http://influx-7.internal:8086/write?db=ohlcv' } }))
    const r = await runCli(['run', ...quick], { INFLUX_URL: url }, 60_000)
    expect(r.code).toBe(1)
    expect(r.stdout).toMatch(/^error: InfluxDB answered 307: redirected to http:\/\/influx-7\.internal:8086\/write\?db=ohlcv: point the URL at where it redirects/m)
  })
})

describe('the retry budget ends a load only when the database has stopped taking writes', () => {
  it('a database that drops 4 writes in 5 but stores the fifth: every batch lands, though single batches try for longer than the budget', async () => {
    let n = 0
    let lines = 0
    /** per batch (its first line), when it was first tried and when it was stored */
    const batches = new Map<string, { first: number; stored?: number }>()
    const url = await fake(({ body }) => {
      const key = body.subarray(0, body.indexOf(10)).toString()
      const b = batches.get(key) ?? { first: Date.now() }
      batches.set(key, b)
      if (++n % 5 !== 0) return jsonAnswer(500, '{"error":"internal error"}')
      b.stored = Date.now()
      for (const c of body) if (c === 10) lines++
      return { status: 204, headers: { 'x-influxdb-version': '1.8.10' } }
    })
    const r = await runCli(['run', ...quick, '--trades', '40000', '--batch-size', '2000', '--pool-size', '2', '--json'], { INFLUX_URL: url, WRITE_RETRY_MAX_MS: '1500' }, 110_000)
    expect(r.code, r.stdout + r.stderr).toBe(0)
    const out = JSON.parse(r.stdout) as RunReport
    expect(out).toMatchObject({ status: 'succeeded', pointsWritten: 40_000, pointsFailed: 0 })
    expect(lines).toBe(40_000)
    // Some batch kept trying past 1.5 s (the old per-batch rule failed the load there), while others got through.
    const longest = Math.max(...[...batches.values()].map((b) => (b.stored ?? 0) - b.first))
    expect(longest).toBeGreaterThan(1500)
  }, 120_000)
})

/** What an echoing server may put in an error: every form the credentials travel in. */
const USER = 'alice'
const PASSWORD = 'pa55@w0rd:x/y'
const TOKEN = 'tok3n-V4lue+/=q'
const basic = Buffer.from(`${USER}:${PASSWORD}`).toString('base64')
const FORMS = [PASSWORD, basic, TOKEN, `${USER}:${PASSWORD}`, encodeURIComponent(PASSWORD), encodeURIComponent(TOKEN)]

function expectClean(where: string, text: string) {
  for (const f of FORMS) expect(text.includes(f), `${where} holds ${JSON.stringify(f)}:\n${text.slice(0, 3000)}`).toBe(false)
}

/** A proxy in front of "InfluxDB" that quotes the request's Authorization header, and the decoded Basic credentials, in a 400. */
function echoing(): Script {
  return (req) => {
    const auth = req.headers.authorization ?? ''
    const decoded = auth.startsWith('Basic ') ? Buffer.from(auth.slice(6), 'base64').toString() : ''
    const text = `bad request: authorization was "${auth}" (user:password ${decoded})`
    // JSON may escape '/' and '@' (\/ and \u0040): the raw text then holds no plain secret, the parsed message does
    const json = JSON.stringify({ error: text, message: text, code: 'invalid' }).replace(/\//g, '\\/').replace(/@/g, '\\u0040')
    return { status: 400, headers: { 'content-type': 'application/json', 'x-influxdb-error': text }, body: json }
  }
}

function filesIn(dir: string): string {
  return readdirSync(dir)
    .filter((f) => !f.startsWith('.'))
    .map((f) => readFileSync(join(dir, f), 'latin1'))
    .join('\n')
}

describe('no credential in anything the tool writes, when the server echoes it', () => {
  it.each([
    ['v1, Basic', { INFLUX_USERNAME: USER, INFLUX_PASSWORD: PASSWORD }],
    ['v2, Token', { INFLUX_API: 'v2', INFLUX_ORG: 'o', INFLUX_BUCKET: 'b', INFLUX_TOKEN: TOKEN }],
    ['v3, Bearer', { INFLUX_API: 'v3', INFLUX_TOKEN: TOKEN }],
  ])('run %s: stdout, stderr, --json, the account file and the --report page', async (name, env) => {
    const url = await (name.startsWith('v3')
      ? fake(echoing(), { ping: influx3.ping() })
      : name.startsWith('v2')
        ? fakeV2()
        : fake(echoing()))
    const cwd = mkdtempSync(join(tmpdir(), 'ohlcv-echo-'))
    const r = await runCli(['run', ...quick, '--json', '--report', 'report.html'], { INFLUX_URL: url, LOG_LEVEL: 'debug', ...env }, 60_000, { cwd })
    expect(r.code, r.stdout + r.stderr).toBe(1)
    const out = JSON.parse(r.stdout) as RunReport
    // The server's text is there (so the check below means something), with the secret masked.
    expect(out.error?.message).toMatch(/authorization was "(Basic|Token|Bearer) \*\*\*"/)
    expectClean('stdout', r.stdout)
    expectClean('stderr', r.stderr)
    const files = filesIn(cwd)
    expect(files).toMatch(/account/)
    expect(readdirSync(cwd)).toContain('report.html')
    expectClean('files', files)

    async function fakeV2(): Promise<string> {
      return fake((req) => (req.url.startsWith('/health') ? influx2.health() : echoing()(req)), { ping: influx2.ping() })
    }
  })

  it('serve: GET /loads/:id, the list, SSE, /metrics, the report, every log line and the store on disk', async () => {
    const url = await fake(echoing())
    const stateDir = mkdtempSync(join(tmpdir(), 'ohlcv-echo-state-'))
    const s = startServe({ INFLUX_URL: url, INFLUX_USERNAME: USER, INFLUX_PASSWORD: PASSWORD, LOG_LEVEL: 'debug', POOL_SIZE: '1', STATE_DIR: stateDir })
    try {
      const base = await s.listening
      const created = await call<{ id: string }>(base, 'POST', '/loads', { trades: 20_000, seed: 'echo', from: '2024-05-06T00:00:00Z', to: '2024-05-07T00:00:00Z' })
      expect(created.status).toBe(202)
      const view = await finished(base, created.body.id)
      expect(view.result.error?.message).toMatch(/authorization was "Basic \*\*\*"/)
      const texts = await Promise.all(
        ['/loads', `/loads/${created.body.id}`, `/loads/${created.body.id}/events`, `/loads/${created.body.id}/report`, '/metrics'].map(async (p) => [p, await (await fetch(base + p)).text()] as const),
      )
      for (const [p, text] of texts) expectClean(p, text)
      expect(texts.find(([p]) => p.endsWith('/events'))![1]).toMatch(/Basic \*\*\*/)
    } finally {
      s.child.kill('SIGTERM')
      await s.exited
    }
    expectClean('serve output', s.output())
    expectClean('the store', filesIn(stateDir))
  })
})
