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

const SIDE_FIELD = [Buffer.from(`,side=${escapeStringField('buy')},trade_id=`), Buffer.from(`,side=${escapeStringField('sell')},trade_id=`)]
const PRICE_FIELD = Buffer.from(' price=')
const SIZE_FIELD = Buffer.from(',size=')
// timestamp (19 digits) + ms/ns digits + fields: generous upper bound for one line after its prefix
const MAX_LINE_TAIL = 160

/**
 * Encodes trades as line protocol straight into a Body:
 *   trades,symbol=AAPL,exchange=XNAS price=190.12,size=100i,side="buy",trade_id=42i 1700000000000123456
 * Tag sets are escaped once per (symbol, exchange) and copied as bytes; numbers are written digit by
 * digit (no toFixed/toString, no intermediate strings).
 */
export class TradeEncoder {
  private prefixes: Buffer[] = []
  private maxPrefix = 0
  private readonly tickPow: number

  constructor(
    private readonly measurement: string,
    private readonly exchanges: readonly string[],
    private readonly tickDecimals: number,
  ) {
    this.tickPow = 10 ** tickDecimals
  }

  /** Pre-escapes the tag sets of one symbol (one per exchange). */
  useSymbol(symbol: string): void {
    const head = `${escapeMeasurement(this.measurement)},symbol=${escapeTag(symbol)},exchange=`
    this.prefixes = this.exchanges.map((ex) => Buffer.from(head + escapeTag(ex)))
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
    let pos = body.length
    for (let k = from; k < to; k++) {
      const prefix = this.prefixes[cols.exchange[k]!]!
      pos += prefix.copy(buf, pos)
      pos += PRICE_FIELD.copy(buf, pos)
      const ticks = cols.priceUnits[k]!
      const whole = Math.floor(ticks / pow)
      pos = writeUInt(buf, pos, whole)
      if (decimals > 0) {
        buf[pos++] = 46 // '.'
        pos = writeFixed(buf, pos, ticks - whole * pow, decimals)
      }
      pos += SIZE_FIELD.copy(buf, pos)
      pos = writeUInt(buf, pos, cols.size[k]!)
      buf[pos++] = 105 // 'i'
      pos += SIDE_FIELD[cols.side[k]!]!.copy(buf, pos)
      pos = writeUInt(buf, pos, firstTradeId + (k - from))
      buf[pos++] = 105 // 'i'
      buf[pos++] = 32 // ' '
      // ns epoch = (shardStartMs + whole ms of the offset) then the 6 sub-ms digits: exact, no 2^53 issue
      const t = cols.timeNs[k]!
      const ms = Math.floor(t / 1e6)
      pos = writeUInt(buf, pos, shardStartMs + ms)
      pos = writeFixed(buf, pos, t - ms * 1e6, 6)
      buf[pos++] = 10 // '\n'
    }
    body.length = pos
    body.lines += to - from
  }
}
