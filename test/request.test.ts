import { describe, expect, it } from 'vitest'
import { InvalidRequestError } from '../src/errors.js'
import { normalizeRequest } from '../src/request/normalize.js'
import { validateLoadRequest } from '../src/request/validate.js'

const ctx = { now: () => Date.parse('2025-06-10T12:34:56.789Z'), newSeed: () => 'fresh' }
const parse = (raw: unknown) => normalizeRequest(validateLoadRequest(raw), ctx)

function rejects(raw: unknown): InvalidRequestError {
  try {
    parse(raw)
  } catch (e) {
    expect(e).toBeInstanceOf(InvalidRequestError)
    return e as InvalidRequestError
  }
  throw new Error(`accepted ${JSON.stringify(raw)}`)
}

describe('load request', () => {
  it('applies the documented defaults and reports the resolved range and seed', () => {
    const spec = parse({})
    expect(spec).toMatchObject({
      symbols: ['AAPL', 'MSFT', 'GOOG', 'AMZN', 'TSLA'],
      trades: 1_000_000,
      batchSize: 5000,
      distribution: 'poisson',
      measurement: 'trades',
      seed: 'fresh',
      to: '2025-06-10T12:34:56.000Z',
      from: '2025-06-09T12:34:56.000Z',
    })
  })

  it('keeps what is given, normalising instants to UTC', () => {
    const spec = parse({ symbols: ['BRK.B', 'X-1'], from: '2024-01-02T09:30:00-05:00', to: '2024-01-02T16:00:00Z', trades: 10, seed: 42, batchSize: 1, distribution: 'uniform', measurement: 'ticks_1' })
    expect(spec).toMatchObject({ symbols: ['BRK.B', 'X-1'], from: '2024-01-02T14:30:00.000Z', to: '2024-01-02T16:00:00.000Z', seed: 42, batchSize: 1 })
    expect(parse({ from: '2024-01-02' }).to).toBe('2024-01-03T00:00:00.000Z')
  })

  // [body, field named in the error, words in the message]
  const BAD: [unknown, string, RegExp][] = [
    [null, '', /must be object/],
    [[], '', /must be object/],
    [{ trades: '1000' }, 'trades', /integer/],
    [{ trades: 1.5 }, 'trades', /integer/],
    [{ trades: 0 }, 'trades', />= 1/],
    [{ trades: 1e10 + 1 }, 'trades', /<= 10000000000/],
    [{ symbols: [] }, 'symbols', /fewer than 1/],
    [{ symbols: ['aapl'] }, 'symbols[0]', /must match/],
    [{ symbols: ['AAPL', 'AAPL'] }, 'symbols', /repeat/],
    [{ symbols: ['A'.repeat(17)] }, 'symbols[0]', /must match/],
    [{ symbols: 'AAPL' }, 'symbols', /array/],
    [{ symbols: Array.from({ length: 10_001 }, (_, i) => `S${i}`) }, 'symbols', /more than 10000/],
    [{ distribution: "gaussian" }, "distribution", /uniform, poisson, intraday, bursty/],
    [{ measurement: '1trades' }, 'measurement', /must match/],
    [{ measurement: 'a b' }, 'measurement', /must match/],
    [{ batchSize: 100_001 }, 'batchSize', /<= 100000/],
    [{ seed: 1.5 }, 'seed', /must be string,integer/],
    [{ seed: '' }, 'seed', /fewer than 1/],
    [{ seed: { a: 1 } }, 'seed', /must be string,integer/],
    [{ shards: 3 }, 'shards', /not a known field/],
    [{ from: 'yesterday' }, 'from', /ISO-8601/],
    [{ from: '2024-01-02T09:30:00' }, 'from', /time zone/],
    [{ from: '2024-02-30T00:00:00Z' }, 'from', /ISO-8601|real date/],
    [{ from: '2024-01-02T00:00:00Z', to: '2024-01-01T00:00:00Z' }, 'from', /before to/],
    [{ from: '2024-01-01T00:00:00Z', to: '2024-01-01T00:00:00Z' }, 'from', /before to/],
    [{ from: '2010-01-01T00:00:00Z', to: '2020-01-01T00:00:01Z' }, 'to', /10 years/],
    [{ from: '1969-12-31T00:00:00Z', to: '1970-01-02T00:00:00Z' }, 'from', /1970/],
    [{ from: '2024-01-01T00:00:00Z', to: '2024-01-01T00:00:00.001Z', trades: 1_000_000, symbols: ['A'] }, 'trades', /unique timestamps/],
  ]

  it.each(BAD)('rejects %j naming %s', (raw, field, message) => {
    const err = rejects(raw)
    expect(err.field).toBe(field)
    expect(err.message).toMatch(message)
    expect(err.code).toBe('OHLCV_INVALID_REQUEST')
    expect(err.statusCode).toBe(400)
  })

  it('accepts the extremes', () => {
    expect(parse({ trades: 1e10, symbols: ['A'], from: '2015-01-01T00:00:00Z', to: '2025-01-01T00:00:00Z' }).trades).toBe(1e10)
    expect(parse({ symbols: Array.from({ length: 10_000 }, (_, i) => `S${i}`) }).symbols).toHaveLength(10_000)
  })
})
