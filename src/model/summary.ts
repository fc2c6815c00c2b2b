import { Type, type Static } from 'typebox'
import type { Account, LoadResult } from './account.js'
import type { ErrorInfo } from './errors.js'
import { ErrorInfoSchema } from './errorSchemas.js'
import type { LoadSpec } from './request.js'
import { LoadStatusSchema, type LoadStatus } from './status.js'
import { AccountFields } from './view.js'

/** A load in a list: its request summarised (no symbol list, market or weights), its account. */
export const LoadSummarySchema = Type.Object({
  id: Type.String(),
  status: LoadStatusSchema,
  seed: Type.Union([Type.String(), Type.Integer()]),
  shards: Type.Integer(),
  request: Type.Object(
    {
      from: Type.String(),
      to: Type.String(),
      trades: Type.Integer(),
      symbolCount: Type.Integer(),
      symbols: Type.Array(Type.String(), { description: 'the first 10 symbols' }),
      distribution: Type.String(),
      batchSize: Type.Integer(),
      measurement: Type.String(),
      ratePerSecond: Type.Optional(Type.Number()),
    },
    { description: 'the request in brief; GET /loads/:id has it in full' },
  ),
  account: Type.Object(AccountFields),
  durationMs: Type.Optional(Type.Integer()),
  pointsPerSecond: Type.Optional(Type.Integer({ description: 'over the whole load, once finished' })),
  writeLatencyP99Ms: Type.Optional(Type.Number()),
  error: Type.Optional(ErrorInfoSchema),
  resumes: Type.Integer(),
  createdAt: Type.String(),
  startedAt: Type.Optional(Type.String()),
  finishedAt: Type.Optional(Type.String()),
  damaged: Type.Optional(
    Type.String({
      description:
        "present when the load's record in the store cannot be read: which part and why (`request: Unexpected token ...`). The fields that part held are zeros; GET /loads/:id answers 500 OHLCV_LOAD_DAMAGED, and ?forget=true removes it",
    }),
  ),
})
export type LoadSummary = Static<typeof LoadSummarySchema>

/** What a summary is made of: a load as it runs (LoadRun has it all). */
interface SummarySource {
  readonly id: string
  readonly status: LoadStatus
  readonly spec: LoadSpec
  readonly shardCount: number
  readonly error?: ErrorInfo | undefined
  readonly resumes: number
  readonly createdAt: Date
  readonly startedAt?: Date | undefined
  readonly finishedAt?: Date | undefined
  getResult(): LoadResult | undefined
  account(): Account
}

/** A load as a list shows it: a few hundred bytes whatever its symbol count. */
export function loadSummary(load: SummarySource): LoadSummary {
  const { spec } = load
  const result = load.getResult()
  return {
    id: load.id,
    status: load.status,
    seed: spec.seed,
    shards: load.shardCount,
    request: {
      from: spec.from,
      to: spec.to,
      trades: spec.trades,
      symbolCount: spec.symbols.length,
      symbols: spec.symbols.slice(0, 10),
      distribution: spec.distribution,
      batchSize: spec.batchSize,
      measurement: spec.measurement,
      ...(spec.ratePerSecond !== undefined ? { ratePerSecond: spec.ratePerSecond } : {}),
    },
    account: load.account(),
    ...(result ? { durationMs: result.durationMs, pointsPerSecond: result.pointsPerSecond, writeLatencyP99Ms: result.writeLatencyMs.p99 } : {}),
    ...(load.error ? { error: load.error } : {}),
    resumes: load.resumes,
    createdAt: load.createdAt.toISOString(),
    ...(load.startedAt ? { startedAt: load.startedAt.toISOString() } : {}),
    ...(load.finishedAt ? { finishedAt: load.finishedAt.toISOString() } : {}),
  }
}
