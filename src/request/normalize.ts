import { InvalidRequestError } from '../errors.js'
import { DEFAULT_SESSION, SessionCalendar } from '../market/session.js'
import { MAX_TICK_DECIMALS, tickDecimals } from '../model/tick.js'
import type { Distribution, LoadRequestInput, LoadSpec, MarketSpec, SessionSpec } from '../model/request.js'

export const DEFAULT_SYMBOLS = ['AAPL', 'MSFT', 'GOOG', 'AMZN', 'TSLA']
const DEFAULT_TRADES = 1_000_000
const DEFAULT_BATCH_SIZE = 5000
const DEFAULT_DISTRIBUTION: Distribution = 'poisson'
export const DEFAULT_MEASUREMENT = 'trades'
const DEFAULT_RANGE_MS = 24 * 3600 * 1000
const MAX_RANGE_YEARS = 10
const DEFAULT_TICK_SIZE = 0.01

/** Latest instant whose nanosecond epoch still fits InfluxDB's signed 64-bit timestamps. */
const MAX_INSTANT_MS = Date.parse('2262-04-11T00:00:00Z')

// Date and time with a mandatory zone: an "instant" is unambiguous; a local time is not.
const ISO_INSTANT =
  /^\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:\d{2}))?$/

export function parseInstant(field: string, value: string): number {
  if (!ISO_INSTANT.test(value)) {
    throw new InvalidRequestError(
      field,
      `must be an ISO-8601 instant with a time zone, like 2024-01-02T09:30:00Z (got ${JSON.stringify(value)})`,
    )
  }
  const ms = Date.parse(value)
  // V8 rolls impossible days over (2024-02-30 → March 1): check the calendar date ourselves.
  const [y = 0, m = 0, d = 0] = value.slice(0, 10).split('-').map(Number)
  const daysInMonth = new Date(Date.UTC(y, m, 0)).getUTCDate()
  if (Number.isNaN(ms) || m < 1 || m > 12 || d < 1 || d > daysInMonth) throw new InvalidRequestError(field, `is not a real date (got ${JSON.stringify(value)})`)
  if (ms < 0) throw new InvalidRequestError(field, 'must not be before 1970-01-01T00:00:00Z')
  if (ms > MAX_INSTANT_MS) throw new InvalidRequestError(field, 'must not be after 2262-04-11 (InfluxDB timestamp limit)')
  return ms
}

function addYears(ms: number, years: number): number {
  const d = new Date(ms)
  d.setUTCFullYear(d.getUTCFullYear() + years)
  return d.getTime()
}

export interface NormalizeContext {
  /** Wall clock in ms, read for the default range only (never used in generation). */
  now: () => number
  /** Source of a seed when the request has none. */
  newSeed: () => string
}

/**
 * An integer seed beyond 2^53 has lost digits before anything here sees it (JSON.parse reads
 * 12345678901234567890 as 12345678901234567000), so storing it would echo, and seed the dataset
 * with, a number nobody typed. Refused; as a string it is kept exactly (the CLI's --seed always is).
 */
function checkSeed(seed: string | number | undefined): void {
  if (typeof seed === 'number' && !Number.isSafeInteger(seed)) {
    throw new InvalidRequestError('seed', `integers beyond 2^53 lose digits in JSON (this one arrived as ${String(seed)}): pass the seed as a string, e.g. "seed": "12345678901234567890", to keep every digit`)
  }
}

/**
 * Applies defaults and the rules that span fields. Pure given `ctx`, so tests pin the clock.
 * The result carries the resolved `from`, `to` and `seed`, which is what makes a load reproducible.
 */
export function normalizeRequest(input: LoadRequestInput, ctx: NormalizeContext): LoadSpec {
  checkSeed(input.seed)
  let toMs: number
  let fromMs: number
  if (input.to !== undefined) toMs = parseInstant('to', input.to)
  if (input.from !== undefined) fromMs = parseInstant('from', input.from)
  // Default range: the 24 h before `to` (or before now, cut to the second so the echo is tidy).
  toMs ??= input.from !== undefined ? fromMs! + DEFAULT_RANGE_MS : Math.floor(ctx.now() / 1000) * 1000
  fromMs ??= toMs - DEFAULT_RANGE_MS
  if (fromMs < 0) throw new InvalidRequestError('from', 'must not be before 1970-01-01T00:00:00Z')
  if (fromMs >= toMs) throw new InvalidRequestError('from', 'must be before to')
  if (toMs > addYears(fromMs, MAX_RANGE_YEARS)) {
    throw new InvalidRequestError('to', `range must be at most ${MAX_RANGE_YEARS} years`)
  }

  const symbols = input.symbols ?? DEFAULT_SYMBOLS
  const trades = input.trades ?? DEFAULT_TRADES
  // Timestamps are unique per symbol at nanosecond precision; keep at least 4 ns per trade so the
  // arrival generator always has room in every shard, whatever its rounding (see market/arrivals.ts).
  const perSymbol = Math.ceil(trades / symbols.length)
  const rangeNs = (toMs - fromMs) * 1e6
  if (perSymbol > rangeNs / 4) {
    throw new InvalidRequestError(
      'trades',
      `${perSymbol} trades per symbol do not fit ${toMs - fromMs} ms with unique timestamps; widen from/to or add symbols`,
    )
  }

  const distribution = input.distribution ?? DEFAULT_DISTRIBUTION
  const session = resolveSession(input.session)
  if (distribution === 'intraday') {
    const cal = new SessionCalendar(session)
    if (cal.cumulative(toMs) - cal.cumulative(fromMs) <= 0) {
      throw new InvalidRequestError(
        'distribution',
        `intraday needs trading time between from and to (${session.open}-${session.close} ${session.timeZone}, Monday to Friday)`,
      )
    }
  }
  const known = new Set(symbols)
  for (const field of ['weights', 'market.symbols'] as const) {
    const obj = field === 'weights' ? input.weights : input.market?.symbols
    for (const sym of Object.keys(obj ?? {})) {
      if (!known.has(sym)) throw new InvalidRequestError(`${field}.${sym}`, 'is not one of the symbols')
    }
  }

  return {
    symbols,
    from: new Date(fromMs).toISOString(),
    to: new Date(toMs).toISOString(),
    fromMs,
    toMs,
    trades,
    seed: input.seed ?? ctx.newSeed(),
    batchSize: input.batchSize ?? DEFAULT_BATCH_SIZE,
    ...(input.ratePerSecond !== undefined ? { ratePerSecond: input.ratePerSecond } : {}),
    distribution,
    measurement: input.measurement ?? DEFAULT_MEASUREMENT,
    ...(input.weights && Object.keys(input.weights).length > 0 ? { weights: input.weights } : {}),
    market: resolveMarket(input.market),
    session,
  }
}

function resolveMarket(m: LoadRequestInput['market']): MarketSpec {
  const tickSize = m?.tickSize ?? DEFAULT_TICK_SIZE
  if (tickDecimals(tickSize) < 0) {
    throw new InvalidRequestError('market.tickSize', `must be a decimal tick like 0.01, 0.05 or 0.0001 (at most ${MAX_TICK_DECIMALS} decimals)`)
  }
  for (const [sym, p] of Object.entries(m?.symbols ?? {})) {
    if (p.price !== undefined && p.price < tickSize) throw new InvalidRequestError(`market.symbols.${sym}.price`, 'must be at least one tick')
  }
  return { tickSize, symbols: m?.symbols ?? {} }
}

function resolveSession(s: LoadRequestInput['session']): SessionSpec {
  const session = { ...DEFAULT_SESSION, ...s }
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: session.timeZone })
  } catch {
    throw new InvalidRequestError('session.timeZone', `is not a known IANA time zone (got ${JSON.stringify(session.timeZone)})`)
  }
  if (session.open >= session.close) throw new InvalidRequestError('session.open', 'must be before session.close')
  return session
}
