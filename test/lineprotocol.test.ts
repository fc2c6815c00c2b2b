import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { Body, Fragment, TradeEncoder, writeFixed, writeUInt } from '../src/lineprotocol/encoder.js'
import { escapeMeasurement, escapeStringField, escapeTag } from '../src/lineprotocol/escape.js'
import { allocColumns } from '../src/market/trades.js'

// [input, measurement, tag key/value, string field value]
const ESCAPES: [string, string, string, string][] = [
  ['plain', 'plain', 'plain', '"plain"'],
  ['with space', 'with\\ space', 'with\\ space', '"with space"'],
  ['a,b', 'a\\,b', 'a\\,b', '"a,b"'],
  ['k=v', 'k=v', 'k\\=v', '"k=v"'],
  ['say "hi"', 'say\\ "hi"', 'say\\ "hi"', '"say \\"hi\\""'],
  ['back\\slash', 'back\\slash', 'back\\slash', '"back\\\\slash"'],
  ['a\\ b', 'a\\\\ b', 'a\\\\ b', '"a\\\\ b"'],
  ['line\nbreak', 'line\\nbreak', 'line\\nbreak', '"line\nbreak"'],
  ['tab\there\r', 'tab\\there\\r', 'tab\\there\\r', '"tab\there\r"'],
  ['Ünïcødé 日本', 'Ünïcødé\\ 日本', 'Ünïcødé\\ 日本', '"Ünïcødé 日本"'],
  ['BRK.B', 'BRK.B', 'BRK.B', '"BRK.B"'],
]

describe('escaping', () => {
  it.each(ESCAPES)('%j', (input, measurement, tag, field) => {
    expect(escapeMeasurement(input)).toBe(measurement)
    expect(escapeTag(input)).toBe(tag)
    expect(escapeStringField(input)).toBe(field)
  })
})

describe('escaping refuses what line protocol cannot carry', () => {
  it('a measurement or tag ending in a backslash', () => {
    expect(() => escapeTag('A\\')).toThrow(/cannot end with a backslash/)
    expect(() => escapeMeasurement('m\\')).toThrow(/cannot end with a backslash/)
    expect(escapeStringField('A\\')).toBe('"A\\\\"')
  })
})

describe('number writers', () => {
  it('writes integers exactly up to 2^53', () => {
    const buf = Buffer.alloc(40)
    const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength)
    const values = [0, 7, 10, 99, 100, 9999, 10_000, 99_999_999, 100_000_000, 123456789, 1700000000000, 2 ** 53 - 2, Number.MAX_SAFE_INTEGER]
    for (let p = 1; p < 1e15; p *= 10) values.push(p - 1, p, p + 1)
    for (const v of values) {
      const end = writeUInt(dv, 3, v)
      expect(buf.toString('latin1', 3, end)).toBe(String(v))
    }
  })
  it('zero-pads fixed widths', () => {
    const buf = Buffer.alloc(16)
    const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength)
    expect(buf.toString('latin1', 0, writeFixed(dv, 0, 42, 6))).toBe('000042')
    expect(buf.toString('latin1', 0, writeFixed(dv, 0, 999999, 6))).toBe('999999')
    expect(buf.toString('latin1', 0, writeFixed(dv, 0, 7, 1))).toBe('7')
    expect(buf.toString('latin1', 0, writeFixed(dv, 0, 1, 8))).toBe('00000001')
  })
})

describe('trade encoder', () => {
  const cols = allocColumns(5)
  cols.timeNs.set([0, 1, 999_999, 1_000_000, 86_399_999_999_999])
  cols.priceUnits.set([19012, 1, 100, 5, 12345678901])
  cols.size.set([100, 1, 5000, 42, 1])
  cols.side.set([0, 1, 0, 1, 0])
  cols.exchange.set([0, 1, 2, 3, 4])
  const exchanges = ['XNAS', 'XNYS', 'ARCX', 'BATS', 'IEXG']

  it('encodes the default schema with exact nanosecond timestamps', () => {
    const enc = new TradeEncoder('trades', exchanges, 2)
    enc.useSymbol('AAPL')
    const body = new Body(16) // deliberately tiny: it must grow
    enc.encode(cols, 0, 5, 1_700_000_000_000, 41, body)
    expect(body.lines).toBe(5)
    expect(body.view().toString('utf8').split('\n')).toEqual([
      'trades,symbol=AAPL,exchange=XNAS price=190.12,size=100i,side="buy",trade_id=41i 1700000000000000000',
      'trades,symbol=AAPL,exchange=XNYS price=0.01,size=1i,side="sell",trade_id=42i 1700000000000000001',
      'trades,symbol=AAPL,exchange=ARCX price=1.00,size=5000i,side="buy",trade_id=43i 1700000000000999999',
      'trades,symbol=AAPL,exchange=BATS price=0.05,size=42i,side="sell",trade_id=44i 1700000000001000000',
      'trades,symbol=AAPL,exchange=IEXG price=123456789.01,size=1i,side="buy",trade_id=45i 1700086399999999999',
      '',
    ])
  })

  it('escapes measurement and tags once, and honours other tick sizes', () => {
    const enc = new TradeEncoder('my trades', ['X,Y'], 0)
    enc.useSymbol('A B')
    const one = allocColumns(1)
    one.priceUnits[0] = 190
    one.size[0] = 3
    const body = new Body(8)
    enc.encode(one, 0, 1, 5, 1, body)
    expect(body.view().toString()).toBe('my\\ trades,symbol=A\\ B,exchange=X\\,Y price=190,size=3i,side="buy",trade_id=1i 5000000\n')
  })

  it('appends ranges to one body and keeps earlier bytes when it grows', () => {
    const enc = new TradeEncoder('t', exchanges, 2)
    enc.useSymbol('A')
    const body = new Body(1)
    enc.encode(cols, 0, 2, 0, 1, body)
    enc.useSymbol('B')
    enc.encode(cols, 2, 5, 0, 3, body)
    const lines = body.view().toString().trim().split('\n')
    expect(lines.map((l) => /symbol=(\w)/.exec(l)?.[1])).toEqual(['A', 'A', 'B', 'B', 'B'])
    expect(lines.map((l) => /trade_id=(\d+)i/.exec(l)?.[1])).toEqual(['1', '2', '3', '4', '5'])
  })
})

describe('trade encoder against a plain string encoder', () => {
  /** The obvious encoder: template strings and BigInt timestamps. What the fast one must equal. */
  function reference(measurement: string, symbol: string, exchanges: string[], decimals: number, cols: ReturnType<typeof allocColumns>, n: number, startMs: number, firstId: number): string {
    let out = ''
    for (let k = 0; k < n; k++) {
      const ticks = cols.priceUnits[k]!
      const whole = Math.floor(ticks / 10 ** decimals)
      const frac = ticks - whole * 10 ** decimals
      const price = decimals > 0 ? `${whole}.${String(frac).padStart(decimals, '0')}` : String(whole)
      const ts = BigInt(startMs) * 1_000_000n + BigInt(cols.timeNs[k]!)
      out += `${escapeMeasurement(measurement)},symbol=${escapeTag(symbol)},exchange=${escapeTag(exchanges[cols.exchange[k]!]!)} price=${price},size=${cols.size[k]}i,side=${escapeStringField(cols.side[k] ? 'sell' : 'buy')},trade_id=${firstId + k}i ${ts}\n`
    }
    return out
  }

  it('is byte-identical for any decimals, magnitudes, ids and epochs (word stores, cached digits)', () => {
    const line = fc.record({
      timeNs: fc.oneof(fc.integer({ min: 0, max: 2_000_000 }), fc.integer({ min: 0, max: 604_800_000_000_000 })),
      ticks: fc.oneof(fc.integer({ min: 1, max: 10_000 }), fc.integer({ min: 1, max: 2 ** 40 }), fc.integer({ min: 2 ** 49, max: 2 ** 53 - 1 })),
      size: fc.oneof(fc.integer({ min: 1, max: 10_000 }), fc.integer({ min: 1, max: 2 ** 31 })),
      side: fc.integer({ min: 0, max: 1 }),
      exchange: fc.integer({ min: 0, max: 1 }),
    })
    const params = fc.record({
      decimals: fc.integer({ min: 0, max: 8 }),
      // epochs from the first seconds of 1970 (leading digits 0) to 2262
      startMs: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 2_000_000 }), fc.integer({ min: 0, max: 9_000_000_000_000 })),
      firstId: fc.oneof(fc.integer({ min: 1, max: 20_000 }), fc.integer({ min: 1, max: 1e12 })),
      symbol: fc.constantFrom('AAPL', 'BRK.B', 'A B', '日本', 'x'.repeat(40)),
      lines: fc.array(line, { minLength: 1, maxLength: 40 }),
    })
    const exchanges = ['XNAS', 'X,Y=Z']
    const encoders = new Map<number, TradeEncoder>()
    fc.assert(
      fc.property(params, ({ decimals, startMs, firstId, symbol, lines }) => {
        const sorted = [...lines].sort((a, b) => a.timeNs - b.timeNs)
        const cols = allocColumns(sorted.length)
        sorted.forEach((l, k) => {
          cols.timeNs[k] = l.timeNs
          cols.priceUnits[k] = l.ticks
          cols.size[k] = l.size
          cols.side[k] = l.side
          cols.exchange[k] = l.exchange
        })
        // one encoder per decimals for the whole run: its cached digits must follow any id or epoch
        const enc = encoders.get(decimals) ?? new TradeEncoder('m trades', exchanges, decimals)
        encoders.set(decimals, enc)
        enc.useSymbol(symbol)
        const body = new Body(3)
        // two calls into one body: the second starts mid-buffer, after a growth
        const half = Math.floor(sorted.length / 2)
        enc.encode(cols, 0, half, startMs, firstId, body)
        enc.encode(cols, half, sorted.length, startMs, firstId + half, body)
        expect(body.view().toString()).toBe(reference('m trades', symbol, exchanges, decimals, cols, sorted.length, startMs, firstId))
      }),
      { numRuns: 1000 },
    )
  })

  it('refuses a fragment that is not UTF-8 text rather than write altered bytes', () => {
    expect(() => new Fragment(new Uint8Array([0, 0, 0, 0, 0, 0, 0xf8, 0x7f]))).toThrow(/not UTF-8/)
  })
})
