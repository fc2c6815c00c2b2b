import type { TradeColumns } from '../market/trades.js'
import { escapeMeasurement, escapeTag, escapeStringField } from './escape.js'

/** A growable byte buffer holding one write body. Reused across batches: never shrink, never copy out. */
export class Body {
  buf: Buffer
  length = 0
  lines = 0
  constructor(capacity: number) {
    this.buf = Buffer.allocUnsafe(capacity)
  }
  reset(): void {
    this.length = 0
    this.lines = 0
  }
  /** Makes room for `extra` more bytes, keeping what is written. */
  reserve(extra: number): void {
    if (this.length + extra <= this.buf.length) return
    const bigger = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.length + extra))
    this.buf.copy(bigger, 0, 0, this.length)
    this.buf = bigger
  }
  view(): Buffer {
    return this.buf.subarray(0, this.length)
  }
}

const POW10 = Array.from({ length: 17 }, (_, i) => 10 ** i)

/** Writes a non-negative integer below 2^53 as ASCII digits; returns the new position. */
export function writeUInt(buf: Buffer, pos: number, v: number): number {
  let digits = 1
  while (digits < 16 && v >= POW10[digits]!) digits++
  let end = pos + digits
  const stop = end
  while (end > pos) {
    const q = Math.floor(v / 10)
    buf[--end] = 48 + (v - q * 10)
    v = q
  }
  return stop
}

/** Writes `v` (0 ≤ v < 10^width) as exactly `width` digits, zero-padded. */
export function writeFixed(buf: Buffer, pos: number, v: number, width: number): number {
  for (let i = pos + width - 1; i >= pos; i--) {
    const q = Math.floor(v / 10)
    buf[i] = 48 + (v - q * 10)
    v = q
  }
  return pos + width
}

/** '00'..'99' as byte pairs: two digits per integer division. */
const PAIRS = new Uint8Array(200)
for (let i = 0; i < 100; i++) {
  PAIRS[2 * i] = 48 + Math.floor(i / 10)
  PAIRS[2 * i + 1] = 48 + (i % 10)
}

/** Writes 0 ≤ v < 10^6 as exactly six digits (int32 arithmetic, three pairs). */
export function writeFixed6(buf: Buffer, pos: number, v: number): number {
  const a = (v / 10000) | 0
  const r = v - a * 10000
  const b = (r / 100) | 0
  const c = r - b * 100
  buf[pos] = PAIRS[2 * a]!
  buf[pos + 1] = PAIRS[2 * a + 1]!
  buf[pos + 2] = PAIRS[2 * b]!
  buf[pos + 3] = PAIRS[2 * b + 1]!
  buf[pos + 4] = PAIRS[2 * c]!
  buf[pos + 5] = PAIRS[2 * c + 1]!
  return pos + 6
}

/** Writes 0 ≤ v < 1000 as exactly three digits. */
function writeFixed3(buf: Buffer, pos: number, v: number): number {
  const a = (v / 100) | 0
  const r = v - a * 100
  buf[pos] = 48 + a
  buf[pos + 1] = PAIRS[2 * r]!
  buf[pos + 2] = PAIRS[2 * r + 1]!
  return pos + 3
}

/** Writes 0 ≤ v < 2^31 without padding (sizes, whole prices), two digits per division. */
function writeSmallUInt(buf: Buffer, pos: number, v: number): number {
  if (v < 10) {
    buf[pos] = 48 + v
    return pos + 1
  }
  if (v < 100) {
    buf[pos] = PAIRS[2 * v]!
    buf[pos + 1] = PAIRS[2 * v + 1]!
    return pos + 2
  }
  let digits = 3
  while (digits < 10 && v >= POW10[digits]!) digits++
  let end = pos + digits
  while (v >= 100) {
    const q = (v / 100) | 0
    const r = v - q * 100
    buf[--end] = PAIRS[2 * r + 1]!
    buf[--end] = PAIRS[2 * r]!
    v = q
  }
  if (v >= 10) {
    buf[--end] = PAIRS[2 * v + 1]!
    buf[--end] = PAIRS[2 * v]!
  } else {
    buf[--end] = 48 + v
  }
  return pos + digits
}

// Fixed fragments, as bytes: `i,side="buy",trade_id=` follows the size digits; `i ` the trade id.
const SIDE_FIELD = [
  new Uint8Array(Buffer.from(`i,side=${escapeStringField('buy')},trade_id=`)),
  new Uint8Array(Buffer.from(`i,side=${escapeStringField('sell')},trade_id=`)),
]
const SIZE_FIELD = new Uint8Array(Buffer.from(',size='))
// timestamp (19 digits) + ms/ns digits + fields: generous upper bound for one line after its prefix
const MAX_LINE_TAIL = 160

/** Copies a short byte fragment: a plain loop beats Buffer#copy's call overhead below ~64 bytes. */
function put(buf: Buffer, pos: number, bytes: Uint8Array): number {
  for (let i = 0; i < bytes.length; i++) buf[pos + i] = bytes[i]!
  return pos + bytes.length
}

/** ASCII digits of a non-negative integer, for parts of numbers that repeat from line to line. */
function digitsOf(v: number): Uint8Array {
  return new Uint8Array(Buffer.from(String(v)))
}

/**
 * Encodes trades as line protocol straight into a Body:
 *   trades,symbol=AAPL,exchange=XNAS price=190.12,size=100i,side="buy",trade_id=42i 1700000000000123456
 * Tag sets (with ` price=`) are escaped once per (symbol, exchange) and copied as bytes; numbers are
 * written digit by digit (no toFixed/toString, no intermediate strings). The leading digits of
 * timestamps (epoch ms / 10^6: they change every ~17 minutes) and of trade ids (id / 1000) are kept
 * as bytes and reused while they do not change.
 */
export class TradeEncoder {
  private prefixes: Uint8Array[] = []
  private maxPrefix = 0
  private readonly tickPow: number
  private msHigh = -1
  private msHighDigits: Uint8Array = new Uint8Array(0)
  private idHigh = -1
  private idHighDigits: Uint8Array = new Uint8Array(0)

  constructor(
    private readonly measurement: string,
    private readonly exchanges: readonly string[],
    private readonly tickDecimals: number,
  ) {
    this.tickPow = 10 ** tickDecimals
  }

  /** Pre-escapes the tag sets of one symbol (one per exchange), each followed by ` price=`. */
  useSymbol(symbol: string): void {
    const head = `${escapeMeasurement(this.measurement)},symbol=${escapeTag(symbol)},exchange=`
    this.prefixes = this.exchanges.map((ex) => new Uint8Array(Buffer.from(`${head}${escapeTag(ex)} price=`)))
    this.maxPrefix = Math.max(...this.prefixes.map((p) => p.length))
  }

  /**
   * Appends trades [from, to) of `cols` to `body`. `shardStartMs` + `timeNs` gives the timestamp;
   * `firstTradeId` is the id of trade `from`.
   */
  encode(cols: TradeColumns, from: number, to: number, shardStartMs: number, firstTradeId: number, body: Body): void {
    body.reserve((to - from) * (this.maxPrefix + MAX_LINE_TAIL))
    const buf = body.buf
    const pow = this.tickPow
    const decimals = this.tickDecimals
    const { exchange, priceUnits, size, side, timeNs } = cols
    let pos = body.length
    let idHigh = Math.floor(firstTradeId / 1000)
    let idLow = firstTradeId - idHigh * 1000
    for (let k = from; k < to; k++) {
      pos = put(buf, pos, this.prefixes[exchange[k]!]!)
      const ticks = priceUnits[k]!
      const whole = Math.floor(ticks / pow)
      pos = whole < 2147483648 ? writeSmallUInt(buf, pos, whole) : writeUInt(buf, pos, whole)
      if (decimals > 0) {
        buf[pos++] = 46 // '.'
        pos = writeFixed(buf, pos, ticks - whole * pow, decimals)
      }
      pos = put(buf, pos, SIZE_FIELD)
      const sz = size[k]!
      pos = sz < 2147483648 ? writeSmallUInt(buf, pos, sz) : writeUInt(buf, pos, sz)
      pos = put(buf, pos, SIDE_FIELD[side[k]!]!)
      // trade id = idHigh · 1000 + idLow
      if (idHigh > 0) {
        if (idHigh !== this.idHigh) {
          this.idHigh = idHigh
          this.idHighDigits = digitsOf(idHigh)
        }
        pos = put(buf, pos, this.idHighDigits)
        pos = writeFixed3(buf, pos, idLow)
      } else {
        pos = writeUInt(buf, pos, idLow)
      }
      if (++idLow === 1000) {
        idLow = 0
        idHigh++
      }
      buf[pos++] = 105 // 'i'
      buf[pos++] = 32 // ' '
      // ns epoch = (shardStartMs + whole ms of the offset) then the 6 sub-ms digits: exact, no 2^53 issue
      const t = timeNs[k]!
      const ms = Math.floor(t / 1e6)
      const epochMs = shardStartMs + ms
      const high = Math.floor(epochMs / 1e6)
      if (high > 0) {
        if (high !== this.msHigh) {
          this.msHigh = high
          this.msHighDigits = digitsOf(high)
        }
        pos = put(buf, pos, this.msHighDigits)
        pos = writeFixed6(buf, pos, epochMs - high * 1e6)
      } else {
        pos = writeUInt(buf, pos, epochMs)
      }
      pos = writeFixed6(buf, pos, t - ms * 1e6)
      buf[pos++] = 10 // '\n'
    }
    body.length = pos
    body.lines += to - from
  }
}
