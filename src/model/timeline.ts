/** A load over time, for charts (built by load/timeline.ts, kept by the store, shown by the API). */
import { Type } from 'typebox'
import { LoadStatusSchema } from './status.js'

/** One interval of a load. Counts are over the interval; levels (inFlight, limit) at its end. */
export interface TimelineSample {
  /** seconds since the load first started, at the interval's end (a resumed load goes on counting) */
  t: number
  /** length of the interval in seconds */
  dt: number
  /** points written (acknowledged) in total at the interval's end */
  written: number
  /** points written per second over the interval */
  pps: number
  /** batch write latency over the interval, ms; null when no batch finished in it */
  p50: number | null
  p90: number | null
  p99: number | null
  /** batches written in the interval */
  batches: number
  retries: number
  /** failed attempts by kind: may succeed on retry, or cannot */
  errorsRetryable: number
  errorsPermanent: number
  /** batches split after a 413 */
  splits: number
  /** points sent and not yet answered, at the interval's end (highest when merged) */
  inFlight: number
  /** the sink's circuit: 0 closed, 1 half-open, 2 open (the worst when merged) */
  circuit: 0 | 1 | 2
  /** the write concurrency limit (the lowest when merged) */
  limit: number
}

export interface TimelineView {
  /** seconds per sample now: 1, 2, 4, ... as the load grows */
  resolutionSeconds: number
  samples: TimelineSample[]
}


const nullableMs = (description: string) => Type.Union([Type.Number(), Type.Null()], { description })

const TimelineSampleSchema = Type.Object({
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

/** GET /loads/:id/timeline and its SSE events. */
export const TimelineSchema = Type.Object({
  id: Type.String(),
  status: LoadStatusSchema,
  resolutionSeconds: Type.Integer({ description: 'seconds per sample: 1, then 2, 4, ... as a long load is downsampled (720 samples at most)' }),
  samples: Type.Array(TimelineSampleSchema),
})
