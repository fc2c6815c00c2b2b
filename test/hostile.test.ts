import { readdirSync } from 'node:fs'
import { connect, type Socket } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startServe } from './harness/cli.js'
import { startCoordinator, type Coordinator } from './harness/coordinator.js'

/**
 * A tokenless coordinator on loopback (the default) used the way a hostile web page or client
 * would. The headers are the ones browsers send: `Origin` on every cross-origin POST (no-cors
 * included), `Sec-Fetch-Site`, a text/plain body for a no-cors fetch or a form.
 */
describe('a tokenless serve cannot be driven by a web page', () => {
  let co: Coordinator
  beforeAll(async () => {
    co = await startCoordinator({ kind: 'null' }, 1, undefined, { app: { maxStreamsPerLoad: 2 } })
  })
  afterAll(async () => {
    await co.close()
  })
  const own = () => co.url // http://127.0.0.1:PORT

  async function post(headers: Record<string, string>, body?: string) {
    const before = co.manager.list().length
    const res = await fetch(`${own()}/loads`, { method: 'POST', headers, ...(body !== undefined ? { body } : {}) })
    const json = (await res.json()) as { code?: string; message?: string; id?: string }
    return { status: res.status, json, started: co.manager.list().length - before }
  }

  it.each([
    ['a bodiless cross-site POST (fetch no-cors, a form)', { origin: 'https://evil.example' }, undefined, 403, 'OHLCV_CROSS_ORIGIN'],
    ['a cross-site POST that says only Sec-Fetch-Site', { 'sec-fetch-site': 'cross-site' }, undefined, 403, 'OHLCV_CROSS_ORIGIN'],
    ['an opaque origin (sandboxed iframe, file:)', { origin: 'null' }, undefined, 403, 'OHLCV_CROSS_ORIGIN'],
    ['a text/plain body, as no-cors sends', { 'content-type': 'text/plain;charset=UTF-8' }, '{"trades":1000000}', 415, 'OHLCV_UNSUPPORTED_MEDIA_TYPE'],
    ['a body with no content-type', {}, '{"trades":1000}', 415, 'OHLCV_UNSUPPORTED_MEDIA_TYPE'],
  ] as [string, Record<string, string>, string | undefined, number, string][])('%s: refused, no load starts', async (_name, headers, body, status, code) => {
    const r = await post(headers, body)
    expect(r.status).toBe(status)
    expect(r.json.code).toBe(code)
    expect(r.started).toBe(0)
  })

  it('the coordinator\'s own pages and non-browser clients still start loads', async () => {
    const host = new URL(own()).host
    expect((await post({ origin: own(), 'sec-fetch-site': 'same-origin', 'content-type': 'application/json' }, '{"trades":1000}')).status).toBe(202)
    expect((await post({ origin: `http://${host}` })).status).toBe(202) // bodiless, same origin: the default load
    expect((await post({})).status).toBe(202) // curl
  })

  it('answers only to allowed Host names (DNS rebinding)', async () => {
    const port = new URL(own()).port
    for (const host of [`evil.example:${port}`, `127.0.0.1.nip.io:${port}`, 'localhost.evil.example']) {
      const res = await co.app.inject({ method: 'GET', url: '/loads', headers: { host } })
      expect(res.statusCode, host).toBe(403)
      expect(res.json<{ code: string }>().code).toBe('OHLCV_FORBIDDEN_HOST')
    }
    for (const host of [`localhost:${port}`, `127.0.0.1:${port}`, `[::1]:${port}`, 'LOCALHOST']) {
      expect((await co.app.inject({ method: 'GET', url: '/healthz', headers: { host } })).statusCode, host).toBe(200)
    }
  })

  it('ALLOWED_HOSTS adds names; a bad one is refused at start-up with one line', async () => {
    const extra = await startCoordinator({ kind: 'null' }, 1, undefined, { app: { allowedHosts: ['localhost', 'loadgen.internal'] } })
    try {
      expect((await extra.app.inject({ method: 'GET', url: '/healthz', headers: { host: 'loadgen.internal:3000' } })).statusCode).toBe(200)
      expect((await extra.app.inject({ method: 'GET', url: '/healthz', headers: { host: 'other.internal' } })).statusCode).toBe(403)
    } finally {
      await extra.close()
    }
    const s = startServe({ ALLOWED_HOSTS: 'http://x.example:80', SINK: 'null' })
    expect(await s.exited).toBe(2)
    expect(s.output()).toBe('ohlcv-loadgen: invalid --allowed-hosts / ALLOWED_HOSTS: must be host names without scheme or port, or * (got "http://x.example:80")\n')
  })

  it('a __proto__ key is refused by name, not as "not valid JSON"', async () => {
    const r = await post({ 'content-type': 'application/json' }, '{"trades":1000,"__proto__":{"polluted":true}}')
    expect(r.status).toBe(400)
    expect(r.json.message).toBe('body: has a key "__proto__", which is refused: it could alter object prototypes')
    const c = await post({ 'content-type': 'application/json' }, '{"market":{"constructor":{"prototype":{"x":1}}}}')
    expect(c.status).toBe(400)
    expect(c.json.message).toMatch(/constructor\.prototype/)
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
  })

  it('the 202 echoes the normalised request: range, seed and every default', async () => {
    const res = await co.json<{ request: Record<string, unknown> }>('POST', '/loads', { trades: 1000, symbols: ['AAPL'] })
    expect(res.status).toBe(202)
    expect(res.body.request).toMatchObject({ symbols: ['AAPL'], trades: 1000, seed: 'seed-from-test', batchSize: 5000, distribution: 'poisson', measurement: 'trades', market: { tickSize: 0.01 } })
    const { from, to } = res.body.request as { from: string; to: string }
    expect(Date.parse(to) - Date.parse(from)).toBe(86_400_000)
  })
})

describe('one client cannot starve the coordinator', () => {
  let co: Coordinator
  beforeAll(async () => {
    co = await startCoordinator({ kind: 'null' }, 1, undefined, { app: { maxStreamsPerLoad: 2 } })
  })
  afterAll(async () => {
    await co.close()
  })

  it('GET /loads is paged, newest first, with requests in brief; the full request is at GET /loads/:id', async () => {
    const symbols = Array.from({ length: 10_000 }, (_, i) => `S${i}`)
    const ids: string[] = []
    for (let i = 0; i < 5; i++) {
      const r = await co.json<{ id: string }>('POST', '/loads', { trades: 10_000, symbols, seed: `page-${i}` })
      expect(r.status).toBe(202)
      ids.push(r.body.id)
      await co.waitDone(r.body.id)
    }
    const first = await fetch(`${co.url}/loads?limit=2`)
    const text = await first.text()
    const page = JSON.parse(text) as { loads: { id: string; request: { symbolCount: number; symbols: string[] } }[]; next: string }
    expect(page.loads.map((l) => l.id)).toEqual([ids[4], ids[3]])
    expect(page.loads[0]!.request).toMatchObject({ symbolCount: 10_000, symbols: symbols.slice(0, 10) })
    expect(text.length).toBeLessThan(4000) // two loads of 10,000 symbols each
    const second = await co.json<{ loads: { id: string }[]; next: string | null }>('GET', page.next)
    expect(second.status, JSON.stringify(second.body)).toBe(200)
    expect(second.body.loads.map((l) => l.id)).toEqual([ids[2], ids[1]])
    const rest = await co.json<{ loads: { id: string }[]; next: string | null }>('GET', second.body.next!)
    expect(rest.body.loads.map((l) => l.id)).toContain(ids[0])
    expect((await co.json<{ loads: unknown[] }>('GET', '/loads?status=failed')).body.loads).toEqual([])
    expect((await co.json('GET', '/loads?limit=0')).status).toBe(400)
    expect((await co.json('GET', '/loads?before=nope')).status).toBe(400)
    const full = await co.json<{ request: { symbols: string[] } }>('GET', `/loads/${ids[0]}`)
    expect(full.body.request.symbols).toHaveLength(10_000)
  }, 60_000)

  it('event streams per load are capped: the next one gets 429, a closed one frees its place', async () => {
    const r = await co.json<{ id: string }>('POST', '/loads', { trades: 200_000_000, seed: 'streams', ratePerSecond: 1000 })
    const id = r.body.id
    const controllers = [new AbortController(), new AbortController()]
    const open = await Promise.all(controllers.map((c) => fetch(`${co.url}/loads/${id}/events`, { signal: c.signal })))
    expect(open.map((o) => o.status)).toEqual([200, 200])
    const third = await fetch(`${co.url}/loads/${id}/events`)
    expect(third.status).toBe(429)
    expect(((await third.json()) as { code: string }).code).toBe('OHLCV_TOO_MANY_STREAMS')
    controllers[0]!.abort()
    let again = 429
    for (let i = 0; i < 50 && again === 429; i++) {
      await sleep(50)
      const res = await fetch(`${co.url}/loads/${id}/events`, { signal: AbortSignal.timeout(2000) }).catch(() => undefined)
      again = res?.status ?? 0
      if (res?.status === 200) await res.body?.cancel()
    }
    expect(again).toBe(200)
    controllers[1]!.abort()
    await co.json('DELETE', `/loads/${id}`)
  })

  it('a thousand idle sockets under a small open-files limit: /healthz answers throughout', async () => {
    // serve with 256 descriptors: before the cap, ~250 idle sockets left none for a probe.
    const s = startServe({ SINK: 'null', POOL_SIZE: '1' }, [], { ulimit: 256 })
    const sockets: Socket[] = []
    try {
      const url = new URL(await s.listening)
      for (let i = 0; i < 1200; i++) {
        const sock = connect(Number(url.port), url.hostname)
        sock.on('error', () => {})
        sockets.push(sock)
      }
      await sleep(1000)
      const fds = readdirSync(`/proc/${s.child.pid}/fd`).length
      const took: number[] = []
      for (let probe = 0; probe < 3; probe++) {
        const t0 = Date.now()
        const res = await fetch(`${url.origin}/healthz`, { signal: AbortSignal.timeout(10_000) })
        expect(res.status).toBe(200)
        took.push(Date.now() - t0)
      }
      expect(fds).toBeLessThan(256)
      console.info(`1,200 idle sockets against a 256-descriptor serve: ${fds} descriptors open, /healthz answered in ${took.join(', ')} ms`)
    } finally {
      for (const sock of sockets) sock.destroy()
      s.child.kill('SIGTERM')
      await s.exited
    }
  }, 60_000)
})
