import { Type, type Static } from 'typebox'

/** Allowed arrival strategies. Later market models add to this list. */
export const DISTRIBUTIONS = ['uniform', 'poisson'] as const
export type Distribution = (typeof DISTRIBUTIONS)[number]

export const MAX_SYMBOLS = 10_000
export const MAX_TRADES = 10_000_000_000
export const MAX_BATCH_SIZE = 100_000

/**
 * The load request, one shape for HTTP (`POST /loads`) and the CLI (`run` flags). Every field is
 * optional; defaults are applied by `normalizeRequest`. The JSON schema checks shape and types; the
 * rules that span fields (from < to, range length, density) live in `normalizeRequest`.
 */
export const LoadRequestSchema = Type.Object(
  {
    symbols: Type.Optional(
      Type.Array(Type.String({ pattern: '^[A-Z0-9.\\-]{1,16}$' }), {
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
    distribution: Type.Optional(Type.Unsafe<Distribution>({ type: 'string', enum: [...DISTRIBUTIONS] })),
    measurement: Type.Optional(Type.String({ pattern: '^[A-Za-z_][A-Za-z0-9_]{0,63}$' })),
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
  distribution: Type.String(),
  measurement: Type.String(),
})

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
  distribution: Distribution
  measurement: string
}
