import net from 'node:net'
import tls from 'node:tls'
import { WriteError } from '../errors.js'
import { ERROR_BODY_BYTES, scrubbed, transportError, type HttpResponse } from './http.js'

/** A response head longer than this is not a database's answer. */
const MAX_HEAD_BYTES = 64 * 1024

/**
 * A lean HTTP/1.1 client for the write path: keep-alive sockets, a request head formatted once per
 * client, head and body handed to the kernel in one writev, and a response parser that reads only
 * what a write answer has (status line, headers, a body by length, chunks or close).
 *
 * Why not node:http: per request it builds a ClientRequest, an IncomingMessage, stream state and
 * agent bookkeeping, and runs too rarely (once per batch) for V8 to optimise any of it: ~0.5 ms of
 * CPU per request here, i.e. 0.1 µs per point at the default 5,000-line batch (measured with
 * `run --batch-size 5000` against `--batch-size 20000`). Queries and pings stay on node:http.
 *
 * Why not undici (issue 14's A/B, 2026-12-01): its Pool (keep-alive, one connection per in-flight
 * write, a Buffer body) in place of this client, `run --trades 3000000 --pool-size 2 --json` into a
 * local influxd 1.6, four interleaved rounds, `client.loadCpuMicrosPerPoint`:
 *   batch  5,000: this client 0.266 0.247 0.280 0.251 | undici 0.366 0.347 0.340 0.322  (+33%)
 *   batch 20,000: this client 0.183 0.205 0.178 0.174 | undici 0.238 0.242 0.244 0.237  (+33%)
 * Points/s were the same (the database sets them). The bar was 5%: this client stays.
 *
 * Errors are WriteErrors as node:http's path makes them: without a status (retryable) for a
 * connection that cannot be made, breaks off or times out.
 *
 * No answer can hold a write: `timeoutMs` bounds the whole exchange (a 500 trickled a byte every
 * 10 s ran 150 s under an idle timeout alone), a body is kept only up to ERROR_BODY_BYTES (a write
 * answer has none worth more; the connection is dropped rather than drained), and the bytes kept
 * are bounded, so reading costs linear time.
 */
export class WireClient {
  private readonly idle: Wire[] = []
  private readonly all = new Set<Wire>()
  private readonly head: string
  private readonly tlsOn: boolean
  private readonly port: number

  constructor(
    private readonly url: URL,
    headers: Record<string, string>,
    /** idle connections kept; more may be open at once while requests overlap */
    private readonly keep: number,
    /** scrubs the client's credentials out of answers (a proxy may echo the Authorization header) */
    private readonly redact?: (text: string) => string,
  ) {
    this.tlsOn = url.protocol === 'https:'
    this.port = url.port ? Number(url.port) : this.tlsOn ? 443 : 80
    const lines = [`POST ${url.pathname}${url.search} HTTP/1.1`, `host: ${url.host}`, 'connection: keep-alive']
    for (const [k, v] of Object.entries(headers)) lines.push(`${k}: ${v}`)
    this.head = `${lines.join('\r\n')}\r\ncontent-length: `
  }

  /**
   * POSTs body; resolves with the answer (any status), rejects with a retryable WriteError. A
   * kept-alive connection that closes before any answer was stale (the server closed or restarted
   * while it sat idle): the idle ones are dropped and the request goes once more on a new
   * connection, so the error, if any, is about the server now. Writes are idempotent (the same
   * points overwrite themselves), and nothing was acknowledged.
   */
  post(body: Buffer, timeoutMs: number): Promise<HttpResponse> {
    const reused = this.idle.pop()?.ref()
    return this.exchange(reused ?? this.connect(), body, timeoutMs).catch((e: unknown) => {
      if (!reused || !reused.stale) throw e
      for (const w of this.idle.splice(0)) this.drop(w)
      return this.exchange(this.connect(), body, timeoutMs)
    })
  }

  private exchange(wire: Wire, body: Buffer, timeoutMs: number): Promise<HttpResponse> {
    return wire.exchange(Buffer.from(`${this.head}${body.length}\r\n\r\n`, 'latin1'), body, timeoutMs).then(
      (res) => {
        // idle sockets do not keep the process alive (as node:http's agent does it)
        if (wire.reusable && this.idle.length < this.keep) this.idle.push(wire.unref())
        else this.drop(wire)
        return scrubbed(res, this.redact)
      },
      (e: unknown) => {
        this.drop(wire)
        throw e
      },
    )
  }

  close(): void {
    for (const w of this.all) w.socket.destroy()
    this.all.clear()
    this.idle.length = 0
  }

  private connect(): Wire {
    const host = this.url.hostname.replace(/^\[(.*)\]$/, '$1')
    const socket = this.tlsOn
      ? tls.connect({ host, port: this.port, servername: net.isIP(host) ? undefined : host, ALPNProtocols: ['http/1.1'] })
      : net.connect({ host, port: this.port })
    socket.setNoDelay(true)
    const wire = new Wire(socket, this.url.host, () => {
      // closed by the server or broken while idle: forget it
      const i = this.idle.indexOf(wire)
      if (i >= 0) this.idle.splice(i, 1)
      this.all.delete(wire)
    })
    this.all.add(wire)
    return wire
  }

  private drop(wire: Wire): void {
    this.all.delete(wire)
    wire.socket.destroy()
  }
}

const CRLF2 = Buffer.from('\r\n\r\n')

/** One keep-alive connection and its one exchange in progress. */
class Wire {
  reusable = true
  private pending: { resolve: (r: HttpResponse) => void; reject: (e: Error) => void } | undefined
  private buf: Buffer = Buffer.alloc(0)
  private connected = false
  private timeoutMs = 0
  /** the exchange's total deadline */
  private deadline: NodeJS.Timeout | undefined
  /** the request's last byte has left: an answer before that (e.g. an early 413) ends the connection */
  private sent = false
  /** the last exchange ended by a clean close or reset before any byte of an answer */
  stale = false

  constructor(
    readonly socket: net.Socket,
    private readonly host: string,
    onGone: () => void,
  ) {
    socket.on(socket instanceof tls.TLSSocket ? 'secureConnect' : 'connect', () => (this.connected = true))
    socket.on('data', (chunk: Buffer) => this.onData(chunk))
    socket.on('timeout', () => socket.destroy(transportError.noAnswer(host, this.timeoutMs)))
    socket.on('error', (e: NodeJS.ErrnoException) => this.fail(e))
    socket.on('close', () => {
      this.reusable = false
      this.fail(undefined)
      onGone()
    })
  }

  ref(): this {
    this.socket.ref()
    return this
  }

  unref(): this {
    this.socket.unref()
    return this
  }

  exchange(head: Buffer, body: Buffer, timeoutMs: number): Promise<HttpResponse> {
    return new Promise((resolve, reject) => {
      this.pending = { resolve, reject }
      this.buf = Buffer.alloc(0)
      this.timeoutMs = timeoutMs
      this.socket.setTimeout(timeoutMs)
      this.deadline = setTimeout(() => this.socket.destroy(transportError.noAnswer(this.host, timeoutMs)), timeoutMs)
      this.sent = false
      this.socket.cork()
      this.socket.write(head)
      this.socket.write(body, () => (this.sent = true))
      this.socket.uncork()
    })
  }

  /** The connection ended (e undefined: closed cleanly) or broke while an exchange was pending. */
  private fail(e: NodeJS.ErrnoException | undefined): void {
    const p = this.pending
    if (!p) return
    if (e === undefined && this.closeDelimited()) return this.finish(this.buf.length) // the body ran to the close
    this.pending = undefined
    clearTimeout(this.deadline)
    this.stale = this.connected && this.buf.length === 0 && !(e instanceof WriteError)
    if (e instanceof WriteError) return p.reject(e)
    const detail = e?.code ?? e?.message ?? 'connection closed'
    p.reject(this.connected ? transportError.brokeOff(this.host, detail, e) : transportError.unreachable(this.host, detail, e))
  }

  private onData(chunk: Buffer): void {
    if (!this.pending) {
      this.socket.destroy() // bytes nobody asked for: the connection cannot be trusted
      return
    }
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk])
    const end = this.responseEnd()
    if (end >= 0) return this.finish(end)
    if (!this.pending) return // destroyed while parsing
    if (!this.parsed) {
      if (this.buf.length > MAX_HEAD_BYTES) this.socket.destroy(new WriteError(`${this.host} sent a response head of over ${MAX_HEAD_BYTES} bytes`))
      return
    }
    // More body than a write answer has: keep its start for the message, drop the connection.
    // (buf stays bounded, so the concatenation above is linear in what arrives.)
    if (this.buf.length - this.parsed.bodyAt > ERROR_BODY_BYTES) this.finish(-1)
  }

  private parsed: { status: number; headers: Record<string, string>; bodyAt: number; bodyEnd: number; chunked: boolean; toClose: boolean } | undefined
  /** a chunked body, decoded once its last chunk is in */
  private dechunked: Buffer | undefined

  /** Where the response ends in buf, or -1 while more is to come. */
  private responseEnd(): number {
    if (!this.parsed) {
      const at = this.buf.indexOf(CRLF2)
      if (at < 0) return -1
      const lines = this.buf.toString('latin1', 0, at).split('\r\n')
      const m = /^HTTP\/1\.([01]) (\d{3})/.exec(lines[0] ?? '')
      if (!m) {
        this.socket.destroy(new WriteError(`${this.host} did not answer in HTTP/1.x: ${JSON.stringify((lines[0] ?? '').slice(0, 80))}`))
        return -1
      }
      const headers: Record<string, string> = {}
      for (const line of lines.slice(1)) {
        const colon = line.indexOf(':')
        if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim()
      }
      const status = Number(m[2])
      const noBody = status === 204 || status === 304 || status < 200
      const chunked = !noBody && /chunked/i.test(headers['transfer-encoding'] ?? '')
      const length = headers['content-length']
      const bodyAt = at + 4
      // no body, a length, chunks, or else the body runs to the close (bodyEnd -1 for the last two)
      const bodyEnd = noBody ? bodyAt : !chunked && length !== undefined ? bodyAt + Number(length) : -1
      const closes = /close/i.test(headers.connection ?? '') || (m[1] === '0' && !/keep-alive/i.test(headers.connection ?? ''))
      this.parsed = { status, headers, bodyAt, bodyEnd, chunked, toClose: closes || (bodyEnd < 0 && !chunked) }
    }
    const p = this.parsed
    if (p.bodyEnd >= 0) return this.buf.length >= p.bodyEnd ? p.bodyEnd : -1
    if (p.chunked) return this.chunks(p.bodyAt)
    return -1 // close-delimited: finished in fail() when the socket closes
  }

  private closeDelimited(): boolean {
    return this.parsed !== undefined && !this.parsed.chunked && this.parsed.bodyEnd < 0
  }

  /**
   * Walks a chunked body from `from`: its end (trailers skipped) once the last chunk is in, with the
   * body decoded into `dechunked`; -1 while more is to come.
   */
  private chunks(from: number): number {
    const parts: Buffer[] = []
    let at = from
    for (;;) {
      const eol = this.buf.indexOf('\r\n', at, 'latin1')
      if (eol < 0) return -1
      const size = parseInt(this.buf.toString('latin1', at, eol), 16)
      if (Number.isNaN(size)) {
        this.socket.destroy(new WriteError(`${this.host} sent a malformed chunked body`))
        return -1
      }
      if (size === 0) {
        // "0\r\n", any trailers, then an empty line
        const end = this.buf.indexOf(CRLF2, eol)
        if (end < 0) return -1
        this.dechunked = Buffer.concat(parts)
        return end + 4
      }
      parts.push(this.buf.subarray(eol + 2, eol + 2 + size))
      at = eol + 2 + size + 2
      if (at > this.buf.length) return -1
    }
  }

  /** The answer is complete at `end` in buf; -1: cut short at ERROR_BODY_BYTES, the rest unread. */
  private finish(end: number): void {
    const p = this.parsed!
    const pending = this.pending!
    this.pending = undefined
    this.parsed = undefined
    clearTimeout(this.deadline)
    const cut = end < 0
    const body = cut ? cutBody(this.buf.subarray(p.bodyAt), p.chunked) : p.chunked ? this.dechunked! : this.buf.subarray(p.bodyAt, end)
    this.dechunked = undefined
    const extra = cut || this.buf.length > end
    this.buf = Buffer.alloc(0)
    this.socket.setTimeout(0)
    if (p.toClose || extra || !this.sent) this.reusable = false
    pending.resolve({ status: p.status, headers: p.headers, body: body.toString('utf8') })
  }
}

/** The first ERROR_BODY_BYTES of a body cut short; chunk-size lines dropped from a chunked one (best effort: it is only quoted). */
function cutBody(raw: Buffer, chunked: boolean): Buffer {
  const text = chunked ? Buffer.from(raw.toString('latin1').replace(/(^|\r\n)[0-9a-fA-F]+(;[^\r\n]*)?\r\n/g, ''), 'latin1') : raw
  return text.subarray(0, ERROR_BODY_BYTES)
}
