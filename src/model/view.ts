import { Type, type Static } from 'typebox'
import { ErrorInfoSchema } from './errorSchemas.js'
import { LoadSpecSchema } from './request.js'
import { LoadStatusSchema, type LoadStatus } from './status.js'

/** The account's fields (account.ts) as the API shows them: in a view's progress and result, and a summary. */
export const AccountFields = {
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

/** The sink's write concurrency as a load saw it (LoadConcurrency). */
const ConcurrencyFields = {
  max: Type.Integer({ description: 'write requests allowed on the wire when the server keeps up (pool size x MAX_IN_FLIGHT)' }),
  lowest: Type.Integer({ description: 'the lowest the limit went while this load ran' }),
  degradedMs: Type.Integer({ description: 'ms this load ran with the limit below max: the server signalled overload' }),
}

/**
 * A load in full, as the API shows it (GET /loads/:id adds its links) and a report embeds it.
 * The schema gives the API's answer and the TypeScript type from one source.
 */
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
})
export type LoadView = Static<typeof LoadViewSchema>

/** The progress event of a load's event stream: what a dashboard or a terminal needs to draw a bar. */
export interface ProgressEvent {
  id: string
  status: LoadStatus
  pointsPlanned: number
  pointsWritten: number
  pointsFailed: number
  pointsInFlight: number
  /** of the points planned, written: one decimal */
  percent: number
  pointsPerSecond: number
  etaSeconds: number | null
  shardsDone: number
  shardsTotal: number
  circuit: 'closed' | 'open' | 'half-open'
}
