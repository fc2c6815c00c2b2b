import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { FastifyRequest } from 'fastify'
import { Type, type TSchema } from 'typebox'
import { candleRange, parseInterval, toCandle } from '../candles/candle.js'
import { CandleReader } from '../candles/query.js'
import { NoDataError } from '../errors.js'
import type { LoadManager } from '../load/manager.js'
import { DEFAULT_MEASUREMENT } from '../request/normalize.js'
import { MAX_TICK_DECIMALS } from '../model/request.js'
import { MEASUREMENT_PATTERN, SYMBOL_PATTERN } from '../model/request.js'
import type { SinkConfig } from '../sink/target.js'
import { ErrorSchema } from '../model/errorSchemas.js'
import { LoadIdParams } from './schemas.js'

const CandleSchema = Type.Object({
  time: Type.String(),
  open: Type.Number(),
  high: Type.Number(),
  low: Type.Number(),
  close: Type.Number(),
  volume: Type.Integer(),
  trades: Type.Integer(),
})

const CandlesQuery = Type.Object(
  {
    symbol: Type.String({ pattern: SYMBOL_PATTERN }),
    interval: Type.Optional(Type.String({ maxLength: 16 })),
    from: Type.String({ maxLength: 64 }),
    to: Type.String({ maxLength: 64 }),
    measurement: Type.Optional(Type.String({ pattern: MEASUREMENT_PATTERN })),
  },
  { additionalProperties: false },
)

const DifferenceSchema = Type.Object({
  symbol: Type.String(),
  time: Type.Optional(Type.String()),
  field: Type.String(),
  expected: Type.Union([Type.Number(), Type.String()]),
  found: Type.Union([Type.Number(), Type.String()]),
})

export const VerifyReportSchema = Type.Object({
  ok: Type.Boolean(),
  measurement: Type.String(),
  from: Type.String(),
  to: Type.String(),
  interval: Type.String(),
  symbols: Type.Integer(),
  pointsExpected: Type.Integer(),
  pointsFound: Type.Integer(),
  candlesCompared: Type.Integer(),
  differencesTotal: Type.Integer(),
  differences: Type.Array(DifferenceSchema),
  hint: Type.Optional(Type.String({ description: 'why the counts may differ: more points than the dataset has, and the loads of the store that wrote into this range' })),
})

export const candleRoutes: FastifyPluginAsyncTypebox<{ manager: LoadManager; sink: SinkConfig }> = async (app, { manager, sink }) => {
  app.get(
    '/candles',
    { schema: { querystring: CandlesQuery, response: { 200: Type.Array(CandleSchema), 400: ErrorSchema, 404: ErrorSchema } } },
    async (req) => {
      const q = req.query
      const range = candleRange(q)
      // Every allowed tick has at most 8 decimals, so reading prices at 8 decimals is exact.
      const decimals = MAX_TICK_DECIMALS
      const measurement = q.measurement ?? DEFAULT_MEASUREMENT
      const reader = new CandleReader(sink)
      const candles = await reader.candles({ measurement, symbol: q.symbol, ...range }, decimals).finally(() => reader.close())
      if (candles.length === 0) {
        throw new NoDataError(`no trades of ${q.symbol} in measurement ${measurement} between ${q.from} and ${q.to}`)
      }
      return candles.map((c) => toCandle(c, decimals))
    },
  )

  app.post('/loads/:id/verify', verifyRoute(VerifyReportSchema), async (req) => manager.verify(req.params.id, verifyInterval(req.body)))
}

/** A `POST …/:id/verify` route's options: an optional body `{ interval }`, `report` on 200. */
export function verifyRoute<R extends TSchema>(report: R) {
  return {
    preValidation: async (req: FastifyRequest) => {
      req.body ??= {}
    },
    schema: {
      params: LoadIdParams,
      body: Type.Object({ interval: Type.Optional(Type.String({ maxLength: 16 })) }, { additionalProperties: false }),
      response: { 200: report, 400: ErrorSchema, 404: ErrorSchema, 409: ErrorSchema },
    },
  }
}

/** The candle interval a verify compares at: the body's, or 1m. */
export function verifyInterval(body: { interval?: string | undefined }): { text: string; ms: number } {
  const text = body.interval ?? '1m'
  return { text, ms: parseInterval('interval', text) }
}
