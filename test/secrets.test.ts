import { readdirSync, readFileSync } from 'node:fs'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Redactor, redactUrl, redactUrlValue } from '../src/secrets.js'
import { runCli, startServe } from './harness/cli.js'
import { influx2, startFakeInflux, written, type FakeInflux } from './harness/fakeInflux.js'
import { startInfluxd, type RunningServer } from './harness/servers.js'
import { finished } from './harness/http.js'

/** Secrets full of what URLs, shells, JSON and Basic headers treat specially. */
const USER = 'u$er'
const PASSWORD = 'p@ss:w/rd%?&#=+"é'
const TOKEN = 'tok/en+=?&%@#:-Zq9'
const API_TOKEN = 'Api%Tok/en+=?&@#:x"y-0123'

/** Every form a secret could leak in: raw, URL-encoded, JSON-escaped, base64 (alone and as a Basic header). */
function forms(): string[] {
  const b64 = (s: string) => Buffer.from(s).toString('base64')
  const out: string[] = []
  for (const s of [PASSWORD, TOKEN, API_TOKEN]) out.push(s, encodeURIComponent(s), JSON.stringify(s).slice(1, -1), b64(s))
  out.push(b64(`${USER}:${PASSWORD}`), encodeURIComponent(`${USER}:${PASSWORD}`))
  return out
}

function expectClean(where: string, text: string) {
  for (const f of forms()) expect(text.includes(f), `${where} holds ${JSON.stringify(f)}:\n${text.slice(0, 2000)}`).toBe(false)
}

/** Every file a run left in its working directory (account files). */
function filesIn(dir: string): string {
  return readdirSync(dir).map((f) => readFileSync(join(dir, f), 'utf8')).join('\n')
}

const env = { INFLUX_USERNAME: USER, INFLUX_PASSWORD: PASSWORD, INFLUX_TOKEN: TOKEN, API_TOKEN, LOG_LEVEL: 'debug', WRITE_RETRY_MAX_MS: '300', INFLUX_TIMEOUT_MS: '500' }
const quick = ['--trades', '20000', '--seed', 'secret', '--pool-size', '1']

describe('secrets never printed', () => {
  let auth: RunningServer
  let tls: FakeInflux
  let v2: FakeInflux
  beforeAll(async () => {
    auth = await startInfluxd({ authEnabled: true })
    await fetch(`${auth.url}/query`, { method: 'POST', body: new URLSearchParams({ q: "CREATE USER admin WITH PASSWORD 'admin-pw' WITH ALL PRIVILEGES" }) })
    const dir = new URL('./fixtures/tls/', import.meta.url)
    tls = await startFakeInflux(() => written(), { tls: { key: readFileSync(new URL('key.pem', dir)), cert: readFileSync(new URL('cert.pem', dir)) } })
    // An InfluxDB 2.x that refuses the token, with the documented answer.
    v2 = await startFakeInflux((req) => (req.url.startsWith('/health') ? influx2.health() : influx2.unauthorized()))
  })
  afterAll(async () => {
    await tls.close()
    await v2.close()
    await auth.stop()
  })

  it.each([
    ['a bad URL with userinfo (flag)', () => ['run', ...quick, '--influx-url', `http://${USER}:${PASSWORD}@127.0.0.1:8086`], {}, 2],
    ['a bad URL with userinfo (variable)', () => ['run', ...quick], { INFLUX_URL: `http://user:${PASSWORD}@host:8086` }, 2],
    ['a well-formed URL with userinfo', () => ['run', ...quick, '--influx-url', `http://user:${encodeURIComponent(PASSWORD)}@127.0.0.1:8086`], {}, 2],
    ['unreachable', () => ['run', ...quick, '--influx-url', 'http://127.0.0.1:1'], {}, 1],
    ['401 from influxd', () => ['run', ...quick, '--influx-url', auth.url], {}, 1],
    ['401 from a v2 server (token)', () => ['run', ...quick, '--influx-api', 'v2', '--org', 'o', '--bucket', 'b', '--influx-url', `http://127.0.0.1:${v2.port}`], {}, 1],
    ['a TLS certificate nobody trusts', () => ['run', ...quick, '--influx-url', `https://localhost:${tls.port}`], {}, 1],
    ['an unknown flag after the password', () => ['run', '--password', PASSWORD, '--pasword', PASSWORD], {}, 2],
    ['a password where a number goes', () => ['run', '--pool-size', PASSWORD, '--password', PASSWORD], {}, 2],
    ['a token as a stray argument', () => ['run', TOKEN, '--token', TOKEN], {}, 2],
    ['a flag given twice (=value form)', () => ['run', ...quick, `--password=${PASSWORD}`, '--influx-url', 'http://127.0.0.1:1'], { INFLUX_PASSWORD: 'other-secret-pw' }, 1],
    ['serve: an API token too short', () => ['serve', '--api-token', PASSWORD.slice(0, 10)], { API_TOKEN: '' }, 2],
    ['serve: not loopback without a token', () => ['serve', '--host', '0.0.0.0', '--influx-url', `http://u:${PASSWORD}@x`], { API_TOKEN: '' }, 2],
  ] as [string, () => string[], Record<string, string>, number][])('%s', async (_name, args, extra, code) => {
    const cwd = mkdtempSync(join(tmpdir(), 'ohlcv-secret-'))
    const r = await runCli(args(), { ...env, ...extra }, 60_000, { cwd })
    expect(r.code, r.stdout + r.stderr).toBe(code)
    expect(r.stdout + r.stderr).not.toBe('')
    expectClean('output', r.stdout + r.stderr)
    expectClean('account file', filesIn(cwd))
    if (extra.INFLUX_PASSWORD) expect(r.stdout + r.stderr).not.toContain(extra.INFLUX_PASSWORD)
  })

  it('serve: start-up, a failing load, its API answers and every log line at debug', async () => {
    const s = startServe({ ...env, INFLUX_URL: auth.url, POOL_SIZE: '1' })
    try {
      const url = await s.listening
      const headers = { authorization: `Bearer ${API_TOKEN}`, 'content-type': 'application/json' }
      const created = await fetch(`${url}/loads`, { method: 'POST', headers, body: JSON.stringify({ trades: 20_000, seed: 'secret' }) })
      expect(created.status).toBe(202)
      const { id } = (await created.json()) as { id: string }
      await finished(url, id, 10_000, API_TOKEN)
      const text = await (await fetch(`${url}/loads/${id}`, { headers })).text()
      expect(text).toMatch(/"status":"failed"/)
      expect(text).toMatch(/401/)
      for (const path of ['/loads', `/loads/${id}`, '/readyz', '/metrics', '/nope']) expectClean(path, await (await fetch(url + path, { headers })).text())
      expectClean('401 answer', await (await fetch(`${url}/loads`, { headers: { authorization: `Bearer ${TOKEN}` } })).text())
    } finally {
      s.child.kill('SIGTERM')
      await s.exited
    }
    expect(s.output()).toMatch(/"level":/)
    expectClean('serve output', s.output())
  }, 60_000)

  it('redacts URL userinfo up to the last @, and every form of a secret', () => {
    expect(redactUrlValue(`http://user:${PASSWORD}@host:8086`)).toBe('http://***@host:8086')
    expect(redactUrl('got "http://user:p@ss:w/rd%@host:8086" and more')).toBe('got "http://***@host:8086" and more')
    expect(redactUrl('see https://example.com/a@b')).toBe('see https://***@b')
    const r = new Redactor([PASSWORD])
    for (const f of [PASSWORD, encodeURIComponent(PASSWORD), Buffer.from(PASSWORD).toString('base64')]) expect(r.redact(`x ${f} y`)).toBe('x *** y')
  })
})
