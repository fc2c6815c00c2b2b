import type { TradeColumns } from '../market/trades.js'
import { escapeMeasurement, escapeTag, escapeStringField } from './escape.js'

/**
 * Bytes past `length` the encoder may scribble on: numbers and fragments are written a 4- or
 * 8-byte word at a time, and the next write overwrites the tail of the last word.
 */
const SLACK = 8

/** A growable byte buffer holding one write body. Reused across batches: never shrink, never copy out. */
export class Body {
  buf: Buffer
  /** little-endian word access to `buf` (TurboFan inlines DataView's unaligned stores) */
  dv: DataView
  length = 0
  lines = 0
  constructor(capacity: number) {
    this.buf = Buffer.allocUnsafe(capacity + SLACK)
    this.dv = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength)
  }
  reset(): void {
    this.length = 0
    this.lines = 0
  }
  /** Makes room for `extra` more bytes, keeping what is written. */
  reserve(extra: number): void {
    if (this.length + extra + SLACK <= this.buf.length) return
    const bigger = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.length + extra + SLACK))
    this.buf.copy(bigger, 0, 0, this.length)
    this.buf = bigger
    this.dv = new DataView(bigger.buffer, bigger.byteOffset, bigger.byteLength)
  }
  view(): Buffer {
    return this.buf.subarray(0, this.length)
  }
}

/** ASCII bytes of `s` as a little-endian uint32: byte i of the string is byte i of the word. */
function packAscii4(s: string): number {
  let v = 0
  for (let i = s.length - 1; i >= 0; i--) v = v * 256 + s.charCodeAt(i)
  return v
}

/** DIG4[v]: v (0 ≤ v < 10^4) as exactly four digits, zero-padded, one word. */
const DIG4 = new Uint32Array(10_000)
/** LEFT4[v]: v (0 ≤ v < 10^4) as its digits, unpadded, from the word's first byte; LEN4[v] of them. */
const LEFT4 = new Uint32Array(10_000)
const LEN4 = new Uint8Array(10_000)
for (let v = 0; v < 10_000; v++) {
  DIG4[v] = packAscii4(String(v).padStart(4, '0'))
  LEFT4[v] = packAscii4(String(v))
  LEN4[v] = String(v).length
}

/**
 * Writes a non-negative integer below 2^53 as ASCII digits; returns the new position. Up to 7
 * bytes past it may be scribbled on (see SLACK).
 */
export function writeUInt(dv: DataView, pos: number, v: number): number {
  if (v < 10_000) {
    dv.setUint32(pos, LEFT4[v]!, true)
    return pos + LEN4[v]!
  }
  if (v < 100_000_000) {
    const hi = (v / 10_000) | 0
    dv.setUint32(pos, LEFT4[hi]!, true)
    pos += LEN4[hi]!
    dv.setUint32(pos, DIG4[v - hi * 10_000]!, true)
    return pos + 4
  }
  let hi = Math.floor(v / 100_000_000)
  let lo = v - hi * 100_000_000
  if (lo < 0) {
    // v / 10^8 rounded up to the next integer (only possible near 2^53)
    hi--
    lo += 100_000_000
  }
  pos = writeUInt(dv, pos, hi)
  const mid = (lo / 10_000) | 0
  dv.setUint32(pos, DIG4[mid]!, true)
  dv.setUint32(pos + 4, DIG4[lo - mid * 10_000]!, true)
  return pos + 8
}

/** Writes `v` (0 ≤ v < 10^width, width ≤ 8) as exactly `width` digits, zero-padded. */
export function writeFixed(dv: DataView, pos: number, v: number, width: number): number {
  const v8 = v * 10 ** (8 - width) // exact: an integer below 10^8
  const hi = (v8 / 10_000) | 0
  dv.setUint32(pos, DIG4[hi]!, true)
  if (width > 4) dv.setUint32(pos + 4, DIG4[v8 - hi * 10_000]!, true)
  return pos + width
}

/**
 * A constant byte string as little-endian 8-byte words, written a word at a time. Words are
 * float64s (the widest store TurboFan inlines without BigInt); a store moves their bits untouched
 * unless they are a NaN, which UTF-8 text cannot form (it would need byte 7 = 0x7F or 0xFF after
 * a byte ≥ 0xF0). The constructor checks it all the same.
 */
export class Fragment {
  readonly words: Float64Array
  readonly length: number
  constructor(
    bytes: Uint8Array | Float64Array,
    /** the text, where it was made from one */
    readonly text = '',
    /** with `bytes` already as words (Fragment.ascii): how many bytes they hold */
    byteLength?: number,
  ) {
    if (bytes instanceof Float64Array) {
      this.words = bytes
      this.length = byteLength ?? bytes.length * 8
      return
    }
    this.length = bytes.length
    const padded = new Uint8Array(Math.ceil(bytes.length / 8) * 8)
    padded.set(bytes)
    const dv = new DataView(padded.buffer)
    this.words = new Float64Array(padded.length / 8)
    for (let i = 0; i < this.words.length; i++) {
      const w = dv.getFloat64(8 * i, true)
      if (Number.isNaN(w)) throw new RangeError(`line protocol fragment is not UTF-8 text: ${Buffer.from(bytes).toString('hex')}`)
      this.words[i] = w
    }
  }
  static of(text: string): Fragment {
    return Fragment.ascii(text) ?? new Fragment(new Uint8Array(Buffer.from(text)), text)
  }

  /**
   * The fast way for ASCII text (symbols, measurement names and numbers are): its bytes go
   * straight into the words through one scratch buffer, with no Buffer, DataView or check per
   * fragment (ASCII cannot form a NaN word). A load of 10,000 symbols makes ~8 fragments per
   * series, ~10 trades per series: the general path cost more than generating the trades.
   * Undefined for other text.
   */
  static ascii(text: string): Fragment | undefined {
    const n = text.length
    const wordsLength = (n + 7) >> 3
    if (wordsLength > SCRATCH_WORDS || !LITTLE_ENDIAN) return undefined
    SCRATCH_WORDS_VIEW.fill(0, 0, wordsLength)
    for (let i = 0; i < n; i++) {
      const c = text.charCodeAt(i)
      if (c > 0x7f) return undefined
      SCRATCH_BYTES[i] = c
    }
    return new Fragment(SCRATCH_WORDS_VIEW.slice(0, wordsLength), text, n)
  }
}

/** the scratch's bytes become words in the machine's order; `put` stores them little-endian */
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1
const SCRATCH_WORDS = 64
const SCRATCH_WORDS_VIEW = new Float64Array(SCRATCH_WORDS)
const SCRATCH_BYTES = new Uint8Array(SCRATCH_WORDS_VIEW.buffer)

/** Writes a fragment at `pos`; returns the position after it. Up to 7 bytes past it are scribbled on. */
function put(dv: DataView, pos: number, f: Fragment): number {
  const words = f.words
  for (let i = 0; i < words.length; i++) dv.setFloat64(pos + 8 * i, words[i]!, true)
  return pos + f.length
}

// Fixed fragments: `i,side="buy",trade_id=` follows the size digits; `,size=` the price.
const SIDE_FIELD = [Fragment.of(`i,side=${escapeStringField('buy')},trade_id=`), Fragment.of(`i,side=${escapeStringField('sell')},trade_id=`)]
const SIZE_FIELD = Fragment.of(',size=')
const ID_END = Fragment.of('i ')
// timestamp (19 digits) + fields + word slack: generous upper bound for one line after its prefix
const MAX_LINE_TAIL = 160

/**
 * `i ` and a timestamp in the first 10^6 ms (17 minutes) of 1970, where the epoch milliseconds have
 * fewer than 7 digits: out of the encoder's loop, which it would only make bigger.
 */
function writeEarlyTimestamp(dv: DataView, pos: number, epochMs: number, sub: number): number {
  pos = put(dv, pos, ID_END)
  // the first millisecond of 1970: no leading zeros
  if (epochMs === 0) return writeUInt(dv, pos, sub)
  pos = writeUInt(dv, pos, epochMs)
  return writeFixed(dv, pos, sub, 6)
}

/**
 * Fragments an encoder builds that do not depend on the batch: tag sets per symbol, timestamp
 * heads per 17-minute window. Encoders of one measurement and exchange list may share one (a
 * worker's shards do); an encoder's own state (the current symbol) is never shared.
 */
export interface FragmentCache {
  symbols: Map<string, { prefixes: Fragment[]; maxPrefix: number }>
  ms: Map<number, Fragment>
}

export function newFragmentCache(): FragmentCache {
  return { symbols: new Map(), ms: new Map() }
}

/** Symbols whose tag sets an encoder keeps (a request has at most 10,000): ~1 kB each. */
const MAX_CACHED_SYMBOLS = 10_000
/** 17-minute windows whose timestamp fragments it keeps: a 12-day shard spans ~1,000 */
const MAX_CACHED_MS = 4096

/**
 * Integer quotients n / d (d a power of ten) are taken as floor((n + 0.5) · (1/d)): a multiply
 * instead of a division, ~6 ns a line (bench:encode). (n + 0.5)/d lies at least 0.5/d from an
 * integer and the rounding errors add at most (n/d)·2^-52, so the floor is exact for n < 2^51.
 * Below EXACT_BELOW: every timestamp offset in a shard (≤ 6.05e14 ns) and any sane price in ticks;
 * larger prices take the division.
 */
const EXACT_BELOW = 2 ** 50

/**
 * Encodes trades as line protocol straight into a Body:
 *   trades,symbol=AAPL,exchange=XNAS price=190.12,size=100i,side="buy",trade_id=42i 1700000000000123456
 * Tag sets (with ` price=`) are escaped once per (symbol, exchange) and kept as Fragments; numbers
 * are written four digits per store from tables (no toFixed/toString, no intermediate strings). The
 * leading digits of timestamps (epoch ms / 10^6: they change every ~17 minutes) and of trade ids
 * (id / 10^4) are kept as Fragments while they do not change. About 22 stores per ~105-byte line.
 */
export class TradeEncoder {
  private prefixes: Fragment[] = []
  private maxPrefix = 0
  private readonly tickPow: number
  private readonly fracScale: number
  /** epoch ms where the cached leading timestamp digits start (their range is 10^6 ms), and them with `i ` */
  private msFrom = -Infinity
  private msField: Fragment = ID_END
  /** trade id / 10^4 of the cached side fragments, and them: `i,side="buy",trade_id=<id / 10^4>` */
  private sideIdHigh = -1
  private sideId: readonly Fragment[] = SIDE_FIELD
  private readonly symbolCache: Map<string, { prefixes: Fragment[]; maxPrefix: number }>
  private readonly msCache: Map<number, Fragment>

  constructor(
    private readonly measurement: string,
    private readonly exchanges: readonly string[],
    private readonly tickDecimals: number,
    /** fragments kept across encoders of one measurement (a worker's shards share them) */
    cache: FragmentCache = newFragmentCache(),
  ) {
    this.symbolCache = cache.symbols
    this.msCache = cache.ms
    if (tickDecimals > 8) throw new RangeError(`at most 8 price decimals, not ${tickDecimals}`)
    this.tickPow = 10 ** tickDecimals
    this.fracScale = 10 ** (8 - tickDecimals)
  }

  /**
   * Pre-escapes the tag sets of one symbol (one per exchange), each followed by ` price=`. Kept
   * per symbol (up to MAX_CACHED_SYMBOLS), so an encoder that lives across a worker's shards builds
   * them once per symbol, not once per series: with 10,000 symbols a series is ~10 trades.
   */
  useSymbol(symbol: string): void {
    let cached = this.symbolCache.get(symbol)
    if (!cached) {
      const head = `${escapeMeasurement(this.measurement)},symbol=${escapeTag(symbol)},exchange=`
      const prefixes = this.exchanges.map((ex) => Fragment.of(`${head}${escapeTag(ex)} price=`))
      cached = { prefixes, maxPrefix: Math.max(...prefixes.map((p) => p.length)) }
      if (this.symbolCache.size >= MAX_CACHED_SYMBOLS) this.symbolCache.clear()
      this.symbolCache.set(symbol, cached)
    }
    this.prefixes = cached.prefixes
    this.maxPrefix = cached.maxPrefix
  }

  /** `i <epoch ms / 10^6>`: a sparse series crosses a 17-minute window every few trades. */
  private msFragment(high: number): Fragment {
    let f = this.msCache.get(high)
    if (!f) {
      if (this.msCache.size >= MAX_CACHED_MS) this.msCache.clear()
      f = Fragment.of(`i ${high}`)
      this.msCache.set(high, f)
    }
    return f
  }

  /**
   * Appends trades [from, to) of `cols` to `body`. `shardStartMs` + `timeNs` gives the timestamp;
   * `firstTradeId` is the id of trade `from`.
   */
  encode(cols: TradeColumns, from: number, to: number, shardStartMs: number, firstTradeId: number, body: Body): void {
    body.reserve((to - from) * (this.maxPrefix + MAX_LINE_TAIL))
    const dv = body.dv
    const pow = this.tickPow
    const perPow = 1 / pow
    const decimals = this.tickDecimals
    const fracScale = this.fracScale
    const prefixes = this.prefixes
    const { exchange, priceUnits, size, side, timeNs } = cols
    let pos = body.length
    let idHigh = Math.floor(firstTradeId / 10_000)
    let idLow = firstTradeId - idHigh * 10_000
    // cached fragments, in locals for the loop (kept on the encoder for the next call)
    let { sideIdHigh, sideId, msFrom, msField } = this
    for (let k = from; k < to; k++) {
      pos = put(dv, pos, prefixes[exchange[k]!]!)
      const ticks = priceUnits[k]!
      const whole = ticks < EXACT_BELOW ? Math.floor((ticks + 0.5) * perPow) : Math.floor(ticks / pow)
      // four digits or fewer, written here: writeUInt is not always inlined, and the call costs
      if (whole < 10_000) {
        dv.setUint32(pos, LEFT4[whole]!, true)
        pos += LEN4[whole]!
      } else pos = writeUInt(dv, pos, whole)
      if (decimals > 0) {
        dv.setUint8(pos, 46) // '.'
        // the decimals, scaled to eight digits: the first `decimals` of them are written
        const frac8 = (ticks - whole * pow) * fracScale
        const hi = ((frac8 + 0.5) * 1e-4) | 0
        dv.setUint32(pos + 1, DIG4[hi]!, true)
        if (decimals > 4) dv.setUint32(pos + 5, DIG4[frac8 - hi * 10_000]!, true)
        pos += 1 + decimals
      }
      pos = put(dv, pos, SIZE_FIELD)
      const sz = size[k]!
      if (sz < 10_000) {
        dv.setUint32(pos, LEFT4[sz]!, true)
        pos += LEN4[sz]!
      } else pos = writeUInt(dv, pos, sz)
      // trade id = idHigh · 10^4 + idLow; the high digits change every 10^4 trades and are kept
      // with the side field before them, as one fragment per side
      if (idHigh !== sideIdHigh) {
        sideIdHigh = idHigh
        // an array literal, as SIDE_FIELD is: `map` would make a holey array, and the two shapes
        // would make this loop polymorphic (measured: 66 instead of 56 ns per line)
        sideId = idHigh > 0 ? [Fragment.of(`${SIDE_FIELD[0]!.text}${idHigh}`), Fragment.of(`${SIDE_FIELD[1]!.text}${idHigh}`)] : SIDE_FIELD
      }
      pos = put(dv, pos, sideId[side[k]!]!)
      if (idHigh > 0) {
        dv.setUint32(pos, DIG4[idLow]!, true)
        pos += 4
      } else {
        dv.setUint32(pos, LEFT4[idLow]!, true)
        pos += LEN4[idLow]!
      }
      if (++idLow === 10_000) {
        idLow = 0
        idHigh++
      }
      // ns epoch = (shardStartMs + whole ms of the offset) then the 6 sub-ms digits: exact, no 2^53 issue
      const t = timeNs[k]!
      const ms = Math.floor((t + 0.5) * 1e-6)
      const sub = t - ms * 1e6
      const subHi = ((sub + 0.5) * 1e-4) | 0
      const epochMs = shardStartMs + ms
      if (epochMs >= 1e6) {
        // `i ` and the leading digits of epoch ms / 10^6 (they change every ~17 minutes), then
        // 12 digits in three words: 6 of epoch ms, 6 of the sub-millisecond nanoseconds
        if (epochMs < msFrom || epochMs >= msFrom + 1e6) {
          const high = Math.floor(epochMs / 1e6)
          msFrom = high * 1e6
          msField = this.msFragment(high)
        }
        pos = put(dv, pos, msField)
        const low = epochMs - msFrom
        const a = ((low + 0.5) * 0.01) | 0
        dv.setUint32(pos, DIG4[a]!, true)
        dv.setUint32(pos + 4, DIG4[(low - a * 100) * 100 + subHi]!, true)
        dv.setUint32(pos + 8, DIG4[sub - subHi * 10_000]!, true)
        pos += 12
      } else pos = writeEarlyTimestamp(dv, pos, epochMs, sub)
      dv.setUint8(pos++, 10) // '\n'
    }
    this.sideIdHigh = sideIdHigh
    this.sideId = sideId
    this.msFrom = msFrom
    this.msField = msField
    body.length = pos
    body.lines += to - from
  }
}
