import { describe, expect, it } from 'vitest'
import { Body, TradeEncoder, writeFixed, writeUInt } from '../src/lineprotocol/encoder.js'
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
    const buf = Buffer.alloc(32)
    for (const v of [0, 7, 10, 99, 100, 123456789, 1700000000000, Number.MAX_SAFE_INTEGER]) {
      const end = writeUInt(buf, 3, v)
      expect(buf.toString('latin1', 3, end)).toBe(String(v))
    }
  })
  it('zero-pads fixed widths', () => {
    const buf = Buffer.alloc(8)
    expect(buf.toString('latin1', 0, writeFixed(buf, 0, 42, 6))).toBe('000042')
    expect(buf.toString('latin1', 0, writeFixed(buf, 0, 999999, 6))).toBe('999999')
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
