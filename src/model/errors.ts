
/**
 * The error catalogue: every error the tool reports on purpose has a stable `code` (what scripts
 * match on) and the HTTP status it maps to. Handlers never invent codes or statuses of their own.
 */
export const ERRORS = {
  OHLCV_INVALID_REQUEST: { status: 400, exitCode: 2 },
  OHLCV_INVALID_CONFIG: { status: 500, exitCode: 2 },
  OHLCV_LOAD_NOT_FOUND: { status: 404, exitCode: 1 },
  OHLCV_LOAD_FINISHED: { status: 409, exitCode: 1 },
  OHLCV_LOAD_RUNNING: { status: 409, exitCode: 1 },
  /** a load or a second search asked of a coordinator while its capacity search runs (it would skew it), or a verify of that search */
  OHLCV_CAPACITY_RUNNING: { status: 409, exitCode: 1 },
  /** no capacity search of this coordinator has the id (searches live in memory only) */
  OHLCV_CAPACITY_NOT_FOUND: { status: 404, exitCode: 1 },
  OHLCV_NOT_RESUMABLE: { status: 409, exitCode: 1 },
  /** a stored load asked of a coordinator that writes to another sink than the load did */
  OHLCV_OTHER_SINK: { status: 409, exitCode: 1 },
  /** in a load's account: the coordinator stopped (crashed, was killed) while the load ran */
  OHLCV_INTERRUPTED: { status: 409, exitCode: 1 },
  /** the load store (STATE_DIR) cannot be used: not a store, damaged, from a newer version */
  OHLCV_STATE_STORE: { status: 500, exitCode: 2 },
  /** another coordinator uses the same STATE_DIR */
  OHLCV_STATE_LOCKED: { status: 500, exitCode: 2 },
  /** one load's record in the store cannot be read (a damaged column); the other loads are unaffected */
  OHLCV_LOAD_DAMAGED: { status: 500, exitCode: 1 },
  OHLCV_TOO_MANY_LOADS: { status: 429, exitCode: 1 },
  OHLCV_UNAUTHORIZED: { status: 401, exitCode: 1 },
  OHLCV_FORBIDDEN_HOST: { status: 403, exitCode: 1 },
  OHLCV_CROSS_ORIGIN: { status: 403, exitCode: 1 },
  OHLCV_UNSUPPORTED_MEDIA_TYPE: { status: 415, exitCode: 1 },
  OHLCV_TOO_MANY_STREAMS: { status: 429, exitCode: 1 },
  OHLCV_SHUTTING_DOWN: { status: 503, exitCode: 1 },
  OHLCV_NO_DATA: { status: 404, exitCode: 1 },
  OHLCV_SINK_UNAVAILABLE: { status: 503, exitCode: 1 },
  OHLCV_WRITE_FAILED: { status: 502, exitCode: 1 },
  /** a query of the database (candles, verify, counts) failed: not a write, nothing was changed */
  OHLCV_READ_FAILED: { status: 502, exitCode: 1 },
  /** a request Fastify itself refused before any handler (its FST_ code is kept when it has one) */
  OHLCV_BAD_REQUEST: { status: 400, exitCode: 2 },
  OHLCV_ROUTE_NOT_FOUND: { status: 404, exitCode: 1 },
  /** a bug: the message says what threw; no stack trace reaches a user */
  OHLCV_INTERNAL: { status: 500, exitCode: 1 },
} as const

/** Every code the tool answers with: what scripts match on, and what the API's error bodies carry. */
export type ErrorCode = keyof typeof ERRORS

/** A Fastify error code passed through as it is (a request Fastify refused before any handler). */
export type FastifyCode = `FST_${string}`

/** A plain, cloneable description of an error: what crosses the worker boundary and the API. */
export interface ErrorInfo {
  code: ErrorCode
  message: string
  status?: number
}
