import { spawnSync } from 'node:child_process'
import net from 'node:net'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { AddressInfo } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { WriteError } from '../src/errors.js'
import { WireClient } from '../src/influx/wire.js'

/**
 * The write path's HTTP client against answers a real influxd does not give on demand: chunked
 * bodies, bodies that run to the close, `connection: close`, a reply split across packets, an
 * answer that is not HTTP, silence, a connection dropped mid-answer. A raw TCP server plays the
 * database, on purpose and only here; the real influxd tests (loads, faults, partial writes,
 * 413 splits, auth) run through this client too.
 */
interface Raw {
  url: URL
  /** requests seen, as raw text */
  requests: string[]
  connections: number
  close(): Promise<void>
}

const servers: Raw[] = []
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()))
})

/** `reply(n, socket)` answers request n (0-based) however it likes. */
async function rawServer(reply: (n: number, socket: net.Socket) => void): Promise<Raw> {
  const sockets = new Set<net.Socket>()
  const raw = { requests: [] as string[], connections: 0 } as Raw
  const server = net.createServer((socket) => {
    raw.connections++
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
    let buf = ''
    socket.on('data', (c: Buffer) => {
      buf += c.toString('latin1')
      // one request = head + content-length bytes
      for (;;) {
        const end = buf.indexOf('\r\n\r\n')
        if (end < 0) return
        const length = Number(/content-length: (\d+)/i.exec(buf.slice(0, end))?.[1] ?? 0)
        if (buf.length < end + 4 + length) return
        raw.requests.push(buf.slice(0, end + 4 + length))
        buf = buf.slice(end + 4 + length)
        reply(raw.requests.length - 1, socket)
      }
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  raw.url = new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}/write?db=x&precision=ns`)
  raw.close = () =>
    new Promise((resolve) => {
      for (const s of sockets) s.destroy()
      server.close(() => resolve())
    })
  servers.push(raw)
  return raw
}

const body = Buffer.from('m f=1i 1\nm f=2i 2\n')

describe('write client (lean HTTP/1.1)', () => {
  it('sends one well-formed request per write and reuses its connection', async () => {
    const raw = await rawServer((_n, s) => s.write('HTTP/1.1 204 No Content\r\nX-Influxdb-Version: 1.6.7\r\n\r\n'))
    const client = new WireClient(raw.url, { authorization: 'Basic eDp5', 'content-type': 'text/plain; charset=utf-8' }, 2)
    for (let k = 0; k < 3; k++) expect((await client.post(body, 1000)).status).toBe(204)
    client.close()
    expect(raw.connections).toBe(1)
    expect(raw.requests[0]).toBe(
      `POST /write?db=x&precision=ns HTTP/1.1\r\nhost: ${raw.url.host}\r\nconnection: keep-alive\r\nauthorization: Basic eDp5\r\n` +
        `content-type: text/plain; charset=utf-8\r\ncontent-length: ${body.length}\r\n\r\n${body.toString()}`,
    )
  })

  it('sends a 4 MB body whole and keeps the connection; an answer before the body is sent ends it', async () => {
    const big = Buffer.alloc(4 << 20, 'm f=1i 1\n')
    const raw = await rawServer((_n, s) => s.write('HTTP/1.1 204 No Content\r\n\r\n'))
    const client = new WireClient(raw.url, {}, 1)
    for (let k = 0; k < 3; k++) expect((await client.post(big, 5000)).status).toBe(204)
    expect(raw.requests.map((r) => r.length - r.indexOf('\r\n\r\n') - 4)).toEqual([big.length, big.length, big.length])
    expect(raw.connections).toBe(1)
    client.close()

    // influxd answers 413 as soon as a body passes its limit, before it has read the rest
    const early = net.createServer((socket) => {
      socket.once('data', () => socket.write('HTTP/1.1 413 Request Entity Too Large\r\nContent-Length: 0\r\n\r\n'))
      socket.on('error', () => undefined)
    })
    await new Promise<void>((resolve) => early.listen(0, '127.0.0.1', resolve))
    let connections = 0
    early.on('connection', () => connections++)
    const port = (early.address() as AddressInfo).port
    const hasty = new WireClient(new URL(`http://127.0.0.1:${port}/write`), {}, 1)
    expect((await hasty.post(Buffer.alloc(32 << 20, 'x'), 5000)).status).toBe(413)
    expect((await hasty.post(body, 5000)).status).toBe(413)
    expect(connections).toBe(2) // the first connection was not reused with half a body in it
    hasty.close()
    await new Promise((resolve) => early.close(resolve))
  })

  it('reads bodies by length, in chunks (with trailers) and to the close; a reply split across packets', async () => {
    const json = '{"error":"partial write: field type conflict dropped=1"}'
    const raw = await rawServer((n, s) => {
      if (n === 0) s.write(`HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\nContent-Length: ${json.length}\r\n\r\n${json}`)
      if (n === 1) {
        s.write('HTTP/1.1 500 Internal Server Error\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel')
        setTimeout(() => s.write('lo\r\n6\r\n world\r\n0\r\nX-Trailer: 1\r\n\r\n'), 20)
      }
      if (n === 2) s.end('HTTP/1.1 503 Service Unavailable\r\nRetry-After: 2\r\n\r\nthe body runs to the close')
    })
    const client = new WireClient(raw.url, {}, 2)
    expect(await client.post(body, 1000)).toMatchObject({ status: 400, body: json, headers: { 'content-type': 'application/json' } })
    expect(await client.post(body, 1000)).toMatchObject({ status: 500, body: 'hello world' })
    expect(await client.post(body, 1000)).toMatchObject({ status: 503, body: 'the body runs to the close', headers: { 'retry-after': '2' } })
    client.close()
    expect(raw.connections).toBe(1)
  })

  it('opens a new connection after `connection: close`, and one per overlapping request', async () => {
    const raw = await rawServer((n, s) => {
      if (n === 0) s.end('HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n')
      else setTimeout(() => s.write('HTTP/1.1 204 No Content\r\n\r\n'), 30)
    })
    const client = new WireClient(raw.url, {}, 2)
    expect((await client.post(body, 1000)).status).toBe(204)
    const both = await Promise.all([client.post(body, 1000), client.post(body, 1000)])
    expect(both.map((r) => r.status)).toEqual([204, 204])
    expect(raw.connections).toBe(3)
    client.close()
  })

  it('a kept-alive connection closed under a request is retried once on a new one; a new one is not', async () => {
    // request 1 finds its idle connection dead (the server dropped it without a word)
    const raw = await rawServer((n, s) => (n === 1 ? s.destroy() : s.write('HTTP/1.1 204 No Content\r\n\r\n')))
    const client = new WireClient(raw.url, {}, 1)
    expect((await client.post(body, 1000)).status).toBe(204)
    expect((await client.post(body, 1000)).status).toBe(204)
    expect(raw.requests).toHaveLength(3)
    expect(raw.connections).toBe(2)
    client.close()

    const rude = await rawServer((_n, s) => s.destroy())
    const fresh = new WireClient(rude.url, {}, 1)
    await expect(fresh.post(body, 1000)).rejects.toThrow(/^response from 127\.0\.0\.1:\d+ broke off/)
    expect(rude.requests).toHaveLength(1)
    fresh.close()
  })

  it('fails retryably: refused, silent past the timeout, dropped mid-answer, not HTTP', async () => {
    const closed = await rawServer(() => undefined)
    const port = closed.url.port
    await closed.close()
    const refused = new WireClient(new URL(`http://127.0.0.1:${port}/write`), {}, 1)
    await expect(refused.post(body, 1000)).rejects.toThrow(/^cannot reach 127\.0\.0\.1:\d+: ECONNREFUSED$/)

    const answers: ((s: net.Socket) => void)[] = [
      () => undefined, // silence
      (s) => s.end('HTTP/1.1 204 No'), // cut mid-head
      (s) => s.write('SSH-2.0-OpenSSH_9.2\r\n\r\n'),
    ]
    const raw = await rawServer((n, s) => answers[n]?.(s))
    const client = new WireClient(raw.url, {}, 1)
    const errors = [await client.post(body, 200).catch((e: unknown) => e), await client.post(body, 1000).catch((e: unknown) => e), await client.post(body, 1000).catch((e: unknown) => e)]
    for (const e of errors) {
      expect(e).toBeInstanceOf(WriteError)
      expect((e as WriteError).status).toBeUndefined() // retryable
    }
    expect((errors[0] as Error).message).toBe(`no complete answer from ${raw.url.host} within 200 ms`)
    expect((errors[1] as Error).message).toMatch(/^response from 127\.0\.0\.1:\d+ broke off/)
    expect((errors[2] as Error).message).toMatch(/did not answer in HTTP\/1\.x: "SSH-2\.0/)
    client.close()
  })
})

describe('write client over TLS', () => {
  it('verifies the certificate and writes over https (a child process trusts the test CA)', async () => {
    // NODE_EXTRA_CA_CERTS is read at start-up only: the client runs in a child process.
    const dir = fileURLToPath(new URL('./fixtures/tls/', import.meta.url))
    const script = `
      const https = require('node:https'); const fs = require('node:fs')
      const srv = https.createServer({ key: fs.readFileSync('key.pem'), cert: fs.readFileSync('cert.pem') }, (req, res) => {
        let n = 0; req.on('data', (c) => (n += c.length)); req.on('end', () => res.writeHead(n === 8 ? 204 : 400).end())
      })
      srv.listen(0, '127.0.0.1', async () => {
        const { WireClient } = await import(${JSON.stringify(new URL('../dist/src/influx/wire.js', import.meta.url).href)})
        const port = srv.address().port
        const out = []
        const ok = new WireClient(new URL('https://localhost:' + port + '/write?db=x'), {}, 1)
        for (let i = 0; i < 2; i++) out.push((await ok.post(Buffer.from('m f=1 1\\n'), 3000)).status)
        ok.close()
        const wrongName = new WireClient(new URL('https://127.0.0.1:' + port + '/write'), {}, 1)
        out.push(await wrongName.post(Buffer.from('x'), 3000).then((r) => r.status, (e) => e.message))
        wrongName.close()
        console.log(JSON.stringify(out))
        srv.close()
      })`
    const child = spawnSync(process.execPath, ['-e', script], { cwd: dir, env: { ...process.env, NODE_EXTRA_CA_CERTS: join(dir, 'cert.pem') }, encoding: 'utf8', timeout: 20_000 })
    expect(child.status, child.stderr).toBe(0)
    const [first, second, third] = JSON.parse(child.stdout) as [number, number, string]
    expect([first, second]).toEqual([204, 204])
    expect(third).toMatch(/^cannot reach 127\.0\.0\.1:\d+: its TLS certificate is not trusted \(ERR_TLS_CERT_ALTNAME_INVALID\); fix the server's certificate/)
  })
})
