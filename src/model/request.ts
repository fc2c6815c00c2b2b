import { Type, type Static } from 'typebox'

export { MAX_TICK_DECIMALS, tickDecimals } from './tick.js'

/** Allowed arrival strategies. Later market models add to this list. */
export const DISTRIBUTIONS = ['uniform', 'poisson', 'intraday', 'bursty'] as const
export type Distribution = (typeof DISTRIBUTIONS)[number]

const MAX_SYMBOLS = 10_000
export const MAX_TRADES = 10_000_000_000
const MAX_BATCH_SIZE = 100_000
const MAX_RATE = 1_000_000_000
/** Ticker and measurement name patterns, shared by every route and command that takes them. */
export const SYMBOL_PATTERN = '^[A-Z0-9.\\-]{1,16}$'
export const MEASUREMENT_PATTERN = '^[A-Za-z_][A-Za-z0-9_]{0,63}$'
const HHMM = '^([01][0-9]|2[0-3]):[0-5][0-9]$'

const SymbolParams = Type.Object(
  {
    price: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 1_000_000, description: 'start price' })),
    volatility: Type.Optional(Type.Number({ minimum: 0, maximum: 5, description: 'annualised volatility, e.g. 0.25' })),
    drift: Type.Optional(Type.Number({ minimum: -1, maximum: 1, description: 'annualised drift, e.g. 0.05' })),
  },
  { additionalProperties: false },
)

/**
 * The load request, one shape for HTTP (`POST /loads`) and the CLI (`run` flags). Every field is
 * optional; defaults are applied by `normalizeRequest`. The JSON schema checks shape and types; the
 * rules that span fields (from < to, range length, density) live in `normalizeRequest`.
 */
export const LoadRequestSchema = Type.Object(
  {
    symbols: Type.Optional(
      Type.Array(Type.String({ pattern: SYMBOL_PATTERN }), {
        minItems: 1,
        maxItems: MAX_SYMBOLS,
        uniqueItems: true,
        description: 'tickers, 1..10000, each [A-Z0-9.-]{1,16}',
      }),
    ),
    from: Type.Optional(Type.String({ maxLength: 64, description: 'ISO-8601 instant, inclusive' })),
    to: Type.Optional(Type.String({ maxLength: 64, description: 'ISO-8601 instant, exclusive' })),
    trades: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_TRADES, description: 'total trades' })),
    seed: Type.Optional(
      Type.Unsafe<string | number>({
        type: ['string', 'integer'],
        minLength: 1,
        maxLength: 256,
        description: 'any string or integer; the same seed gives the same dataset',
      }),
    ),
    batchSize: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_BATCH_SIZE })),
    ratePerSecond: Type.Optional(
      Type.Number({
        exclusiveMinimum: 0,
        maximum: MAX_RATE,
        description: 'target rate in points/s for the whole load, across all workers (default: as fast as the database takes them)',
      }),
    ),
    distribution: Type.Optional(Type.Unsafe<Distribution>({ type: 'string', enum: [...DISTRIBUTIONS] })),
    measurement: Type.Optional(Type.String({ pattern: MEASUREMENT_PATTERN })),
    weights: Type.Optional(
      Type.Record(Type.String({ pattern: SYMBOL_PATTERN }), Type.Number({ exclusiveMinimum: 0, maximum: 1_000_000 }), {
        description: 'relative share of trades per symbol (unlisted symbols weigh 1)',
      }),
    ),
    market: Type.Optional(
      Type.Object(
        {
          symbols: Type.Optional(Type.Record(Type.String({ pattern: SYMBOL_PATTERN }), SymbolParams)),
          tickSize: Type.Optional(Type.Number({ minimum: 1e-8, maximum: 1000, description: 'price tick, e.g. 0.01' })),
        },
        { additionalProperties: false },
      ),
    ),
    session: Type.Optional(
      Type.Object(
        {
          open: Type.Optional(Type.String({ pattern: HHMM })),
          close: Type.Optional(Type.String({ pattern: HHMM })),
          timeZone: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
        },
        { additionalProperties: false, description: 'trading session for intraday (default 09:30-16:00 America/New_York)' },
      ),
    ),
  },
  { additionalProperties: false },
)

export type LoadRequestInput = Static<typeof LoadRequestSchema>

/** A request with every default applied and every cross-field rule checked. Plain data. */
export const LoadSpecSchema = Type.Object({
  symbols: Type.Array(Type.String()),
  from: Type.String(),
  to: Type.String(),
  trades: Type.Integer(),
  seed: Type.Union([Type.String(), Type.Integer()]),
  batchSize: Type.Integer(),
  ratePerSecond: Type.Optional(Type.Number()),
  distribution: Type.String(),
  measurement: Type.String(),
  weights: Type.Optional(Type.Record(Type.String(), Type.Number())),
  market: Type.Object({
    tickSize: Type.Number(),
    symbols: Type.Record(Type.String(), SymbolParams),
  }),
  session: Type.Object({ open: Type.String(), close: Type.String(), timeZone: Type.String() }),
})

/** A trading session in an exchange's time zone (intraday arrivals; see market/session.ts). */
export interface SessionSpec {
  /** local opening time, HH:MM */
  open: string
  /** local closing time, HH:MM */
  close: string
  /** IANA time zone */
  timeZone: string
}

export interface SymbolParamsSpec {
  price: number
  volatility: number
  drift: number
}

export interface MarketSpec {
  tickSize: number
  /** only the symbols the request overrides; the others draw their parameters from the seed */
  symbols: Record<string, Partial<SymbolParamsSpec>>
}

export interface LoadSpec {
  symbols: string[]
  /** ISO-8601, normalised to UTC with milliseconds */
  from: string
  to: string
  fromMs: number
  toMs: number
  trades: number
  seed: string | number
  batchSize: number
  /** pace the whole load to this many points per second (not part of the data: same seed, same lines) */
  ratePerSecond?: number
  distribution: Distribution
  measurement: string
  weights?: Record<string, number>
  market: MarketSpec
  session: SessionSpec
}
