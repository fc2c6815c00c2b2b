import { Type, type Static } from 'typebox'
import type { LoadStatus } from '../load/run.js'
import { LoadSpecSchema } from '../request/schema.js'

export const ErrorSchema = Type.Object({
  statusCode: Type.Integer(),
  code: Type.String(),
  error: Type.String(),
  message: Type.String(),
  field: Type.Optional(Type.String({ description: 'the request field the message is about (400s): body.trades, from, market.tickSize, ...' })),
})

const ErrorInfoSchema = Type.Object({ code: Type.String(), message: Type.String(), status: Type.Optional(Type.Integer()) })

const AccountFields = {
  pointsPlanned: Type.Integer(),
  pointsWritten: Type.Integer(),
  pointsFailed: Type.Integer(),
  pointsInDoubt: Type.Integer({ description: 'sent and not answered, or sent by an earlier run of a resumed load and not sent again: the database may hold them' }),
  pointsUnsent: Type.Integer(),
  bytesWritten: Type.Integer(),
  batchesWritten: Type.Integer(),
  retries: Type.Integer(),
  batchesSplit: Type.Integer(),
  shardsDone: Type.Integer(),
  shardsTotal: Type.Integer(),
}

const LatencySchema = Type.Object(
  {
    count: Type.Integer({ description: 'batches measured' }),
    p50: Type.Number(),
    p90: Type.Number(),
    p99: Type.Number(),
    max: Type.Number(),
  },
  { description: 'batch write latency in milliseconds, over the whole load (HDR histogram)' },
)

const ConcurrencyFields = {
  max: Type.Integer({ description: 'write requests allowed on the wire when the server keeps up (pool size x MAX_IN_FLIGHT)' }),
  lowest: Type.Integer({ description: 'the lowest the limit went while this load ran' }),
  degradedMs: Type.Integer({ description: 'ms this load ran with the limit below max: the server signalled overload' }),
}

export const LoadStatusSchema = Type.Unsafe<LoadStatus>({
  type: 'string',
  enum: ['queued', 'running', 'succeeded', 'failed', 'cancelled', 'interrupted'],
  description: 'interrupted: the coordinator stopped (crashed, was killed) while the load ran; POST /loads/:id/resume completes it',
})

export const LoadViewSchema = Type.Object({
  id: Type.String(),
  status: LoadStatusSchema,
  seed: Type.Union([Type.String(), Type.Integer()]),
  shards: Type.Integer(),
  request: LoadSpecSchema,
  sink: Type.Record(Type.String(), Type.String()),
  progress: Type.Object({
    ...AccountFields,
    pointsPerSecond: Type.Integer({ description: 'current rate over the last few seconds' }),
    etaSeconds: Type.Union([Type.Integer(), Type.Null()]),
    pointsInFlight: Type.Integer({ description: 'sent, not yet answered' }),
    writeLatencyMs: LatencySchema,
  }),
  writeConcurrency: Type.Object(
    { limit: Type.Integer({ description: 'write requests allowed on the wire now' }), ...ConcurrencyFields },
    { description: "the sink's adaptive write concurrency (shared by every load on the sink), as this load saw it" },
  ),
  result: Type.Optional(
    Type.Object({
      ...AccountFields,
      status: LoadStatusSchema,
      durationMs: Type.Integer(),
      pointsPerSecond: Type.Integer({ description: 'points written per second over the whole load' }),
      writeLatencyMs: LatencySchema,
      writeConcurrency: Type.Object(ConcurrencyFields),
      attempts: Type.Array(
        Type.Object({
          startedAt: Type.String(),
          durationMs: Type.Integer(),
          pointsWritten: Type.Integer(),
          retries: Type.Integer(),
          circuitOpens: Type.Integer(),
          degradedMs: Type.Integer(),
          pace: Type.Optional(
            Type.Object(
              {
                targetPointsPerSecond: Type.Number(),
                achievedPointsPerSecond: Type.Integer(),
                lagGrowthMs: Type.Number({ description: 'how much later the last quarter of the schedule was answered than the first' }),
              },
              { description: 'a paced run (ratePerSecond): the rate the database took, from how far its writes fell behind the schedule' },
            ),
          ),
        }),
        { description: 'each run of the load: the first, then each resume' },
      ),
      error: Type.Optional(ErrorInfoSchema),
    }),
  ),
  error: Type.Optional(ErrorInfoSchema),
  circuit: Type.Object(
    {
      state: Type.Union([Type.Literal('closed'), Type.Literal('open'), Type.Literal('half-open')]),
      opens: Type.Integer(),
      consecutiveFailures: Type.Integer(),
    },
    { description: "the sink's circuit breaker, shared by every load on the sink" },
  ),
  resumes: Type.Integer({ description: 'times this load was resumed' }),
  createdAt: Type.String(),
  startedAt: Type.Optional(Type.String()),
  finishedAt: Type.Optional(Type.String()),
  links: Type.Object({ self: Type.String(), cancel: Type.String(), resume: Type.String(), verify: Type.String(), events: Type.String() }),
})
export type LoadView = Static<typeof LoadViewSchema>

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
  links: Type.Object({ self: Type.String(), cancel: Type.String(), resume: Type.String(), verify: Type.String(), events: Type.String() }),
  damaged: Type.Optional(
    Type.String({
      description:
        "present when the load's record in the store cannot be read: which part and why (`request: Unexpected token ...`). The fields that part held are zeros; GET /loads/:id answers 500 OHLCV_LOAD_DAMAGED, and ?forget=true removes it",
    }),
  ),
})
export type LoadSummary = Static<typeof LoadSummarySchema>

export const LoadListQuery = Type.Object(
  {
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 50, description: 'loads per page' })),
    before: Type.Optional(Type.String({ maxLength: 64, description: 'the id of a load: list only those created before it (the next page)' })),
    status: Type.Optional(LoadStatusSchema),
  },
  { additionalProperties: false },
)

export const LoadListSchema = Type.Object({
  loads: Type.Array(LoadSummarySchema, { description: 'newest first' }),
  next: Type.Union([Type.String(), Type.Null()], { description: 'the next page, or null when this is the last' }),
})

export const LoadCreatedSchema = Type.Object({
  id: Type.String(),
  status: LoadStatusSchema,
  seed: Type.Union([Type.String(), Type.Integer()]),
  shards: Type.Integer(),
  request: LoadSpecSchema,
  links: Type.Object({ self: Type.String(), cancel: Type.String(), resume: Type.String(), verify: Type.String(), events: Type.String() }),
  warnings: Type.Optional(Type.Array(Type.String(), { description: 'earlier loads on this sink whose measurement and range this one overlaps (verify of either counts both); the load starts anyway' })),
})

export const LoadDeleteQuery = Type.Object(
  { forget: Type.Optional(Type.Boolean({ description: 'remove a finished load from the history instead of cancelling a running one' })) },
  { additionalProperties: false },
)

export const LoadIdParams = Type.Object({ id: Type.String({ maxLength: 64 }) }, { additionalProperties: false })

const nullableMs = (description: string) => Type.Union([Type.Number(), Type.Null()], { description })

export const TimelineSampleSchema = Type.Object({
  t: Type.Number({ description: 'seconds since the load first started, at the end of the interval' }),
  dt: Type.Number({ description: 'length of the interval, seconds' }),
  written: Type.Integer({ description: 'points written in total at the end of the interval' }),
  pps: Type.Integer({ description: 'points written per second over the interval' }),
  p50: nullableMs('batch write latency over the interval, ms (null: no batch finished)'),
  p90: nullableMs('ms'),
  p99: nullableMs('ms; the highest of the merged intervals once downsampled'),
  batches: Type.Integer(),
  retries: Type.Integer(),
  errorsRetryable: Type.Integer({ description: 'failed attempts that may succeed on retry (429, 5xx, timeouts, refused)' }),
  errorsPermanent: Type.Integer({ description: 'failed attempts that cannot (400, 401, 404, ...)' }),
  splits: Type.Integer({ description: 'batches split in two after a 413' }),
  inFlight: Type.Integer({ description: 'points sent and not yet answered (the highest, once downsampled)' }),
  circuit: Type.Integer({ description: '0 closed, 1 half-open, 2 open (the worst, once downsampled)' }),
  limit: Type.Integer({ description: 'write concurrency limit (the lowest, once downsampled)' }),
})

export const TimelineSchema = Type.Object({
  id: Type.String(),
  status: LoadStatusSchema,
  resolutionSeconds: Type.Integer({ description: 'seconds per sample: 1, then 2, 4, ... as a long load is downsampled (720 samples at most)' }),
  samples: Type.Array(TimelineSampleSchema),
})
