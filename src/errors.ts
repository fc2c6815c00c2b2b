import { ERRORS, type ErrorCode, type ErrorInfo } from './model/errors.js'

export class LoadgenError extends Error {
  readonly code: ErrorCode
  readonly statusCode: number
  readonly exitCode: number

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = new.target.name
    this.code = code
    this.statusCode = ERRORS[code].status
    this.exitCode = ERRORS[code].exitCode
  }
}

/**
 * Bad input from a user: names the field (`field`, as the validator gives it) so the message says
 * where. `problem` is the message without the field: a face that names fields its own way (the
 * CLI's flags) takes the two apart, never the message.
 */
export class InvalidRequestError extends LoadgenError {
  readonly field: string
  readonly problem: string
  constructor(field: string, problem: string) {
    super('OHLCV_INVALID_REQUEST', field ? `${field}: ${problem}` : problem)
    this.field = field
    this.problem = problem
  }
}

/** A command line, or a run's options, that cannot be used as given: one line, exit 2. */
export class UsageError extends LoadgenError {
  constructor(message: string) {
    super('OHLCV_INVALID_REQUEST', message)
  }
}

/** Bad configuration (environment or flags) found at start-up. */
export class ConfigError extends LoadgenError {
  readonly setting: string
  constructor(setting: string, problem: string) {
    super('OHLCV_INVALID_CONFIG', `${setting}: ${problem}`)
    this.setting = setting
  }
}

export class LoadNotFoundError extends LoadgenError {
  constructor(id: string) {
    super('OHLCV_LOAD_NOT_FOUND', `no load with id ${JSON.stringify(id)}`)
  }
}

export class LoadFinishedError extends LoadgenError {
  constructor(id: string, status: string) {
    super('OHLCV_LOAD_FINISHED', `load ${id} has already ${status}`)
  }
}

export class LoadRunningError extends LoadgenError {
  constructor(id: string, action = 'verify') {
    super('OHLCV_LOAD_RUNNING', `load ${id} is still running; ${action} it once it has finished`)
  }
}

/** Resume asked of a load that is running, succeeded, or writes to a file. */
export class LoadNotResumableError extends LoadgenError {
  constructor(why: string) {
    super('OHLCV_NOT_RESUMABLE', `cannot resume: ${why}`)
  }
}

/** A stored load asked of a coordinator whose sink is not the load's. */
export class OtherSinkError extends LoadgenError {
  constructor(id: string, what: string, loadSink: Record<string, string>, ours: Record<string, string>) {
    super('OHLCV_OTHER_SINK', `cannot ${what} load ${id}: it wrote to ${JSON.stringify(loadSink)} and this coordinator writes to ${JSON.stringify(ours)}; start a coordinator with the load's sink`)
  }
}

/** The load store cannot be used. The message names the file; the file is left as it was. */
export class StoreError extends LoadgenError {
  /** `untouched`: say the file was left as it is, and what to do (a file that is not a usable store) */
  constructor(path: string, problem: string, untouched = true) {
    super('OHLCV_STATE_STORE', `load store ${path} ${problem}${untouched ? '; it was left untouched: move it away, or set STATE_DIR (--state-dir) elsewhere' : ''}`)
  }
}

/** A second coordinator on a STATE_DIR another one holds. */
export class StoreLockedError extends LoadgenError {
  constructor(path: string, holder?: string) {
    super('OHLCV_STATE_LOCKED', `load store ${path} is in use by another coordinator${holder ? ` (${holder})` : ''}: stop it, or give this one another STATE_DIR (--state-dir)`)
  }
}

/**
 * One load's record in the store cannot be read: a column that is not the JSON it should be (a
 * bit flip, a hand edit) while SQLite's structure is sound. It costs that load only.
 */
export class LoadDamagedError extends LoadgenError {
  constructor(
    readonly id: string,
    /** the damaged part: a column of the load's row (`request`), or a shard's (`shards[3].result`) */
    readonly column: string,
    readonly reason: string,
    store: string,
  ) {
    super('OHLCV_LOAD_DAMAGED', `load ${id} cannot be read from the load store ${store}: its ${column} is damaged (${reason}); the other loads are unaffected, and DELETE /loads/${id}?forget=true removes this one`)
  }
}

/** MAX_CONCURRENT_LOADS are running; `retryAfterSeconds` is a guess from their ETAs. */
export class TooManyLoadsError extends LoadgenError {
  constructor(
    readonly limit: number,
    readonly retryAfterSeconds: number,
  ) {
    super('OHLCV_TOO_MANY_LOADS', `${limit} load(s) already running (MAX_CONCURRENT_LOADS); try again later`)
  }
}

/** No or wrong `Authorization: Bearer` while API_TOKEN is set. The message never echoes what was sent. */
export class UnauthorizedError extends LoadgenError {
  constructor(problem: string) {
    super('OHLCV_UNAUTHORIZED', problem)
  }
}

/** A Host header the coordinator does not answer to (DNS rebinding): ALLOWED_HOSTS lists more. */
export class ForbiddenHostError extends LoadgenError {
  constructor(host: string) {
    super('OHLCV_FORBIDDEN_HOST', `Host ${JSON.stringify(host.slice(0, 100))} is not one this coordinator answers to; add it to ALLOWED_HOSTS`)
  }
}

/** A state-changing request a web page of another origin sent (cross-site request forgery). */
export class CrossOriginError extends LoadgenError {
  constructor(origin: string) {
    super('OHLCV_CROSS_ORIGIN', `requests from ${JSON.stringify(origin.slice(0, 100))} may not change state here: only this coordinator's own pages and non-browser clients may`)
  }
}

/** A request body that is not declared as JSON. */
export class UnsupportedMediaTypeError extends LoadgenError {
  constructor(got: string | undefined) {
    super('OHLCV_UNSUPPORTED_MEDIA_TYPE', `a request body must be sent as content-type: application/json${got ? ` (got ${JSON.stringify(got.slice(0, 100))})` : ' (got none)'}`)
  }
}

/** More event streams on one load than MAX_STREAMS_PER_LOAD. */
export class TooManyStreamsError extends LoadgenError {
  constructor(limit: number, what = 'load', poll = 'GET /loads/:id') {
    super('OHLCV_TOO_MANY_STREAMS', `${limit} event stream(s) already follow this ${what} (MAX_STREAMS_PER_LOAD); close one or poll ${poll}`)
  }
}

/** A load asked for while a capacity search runs: it would share the pool and the sink, and skew the steps. */
export class CapacityRunningError extends LoadgenError {
  constructor(id: string) {
    super('OHLCV_CAPACITY_RUNNING', `capacity search ${id} is running: a load now would skew its measurements; start it once the search has ended (or DELETE /capacity/${id})`)
  }
}

/** A second capacity search, or a verify of one still running: one search at a time, whole. */
export class CapacityBusyError extends LoadgenError {
  constructor(id: string, action: 'start' | 'verify') {
    super('OHLCV_CAPACITY_RUNNING', action === 'start' ? `a capacity search is already running: ${id}; wait for it, or DELETE /capacity/${id}` : `capacity search ${id} is still running: verify it once it has ended`)
  }
}

export class CapacityNotFoundError extends LoadgenError {
  constructor(id: string) {
    super('OHLCV_CAPACITY_NOT_FOUND', `no capacity search with id ${JSON.stringify(id)}`)
  }
}

/** The coordinator is draining after SIGTERM/SIGINT and takes no new loads. */
export class ShuttingDownError extends LoadgenError {
  constructor() {
    super('OHLCV_SHUTTING_DOWN', 'the coordinator is shutting down and takes no new loads')
  }
}

/** A query found nothing: the measurement or symbol has no data in the range. */
export class NoDataError extends LoadgenError {
  constructor(message: string) {
    super('OHLCV_NO_DATA', message)
  }
}

/** The sink could not be prepared or reached before any data was sent (readiness, CREATE DATABASE). */
export class SinkUnavailableError extends LoadgenError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('OHLCV_SINK_UNAVAILABLE', message, options)
  }
}

/**
 * A batch write that failed. The retry decision lives here, on the error, not in the caller:
 * connection errors, timeouts, 429 and 5xx may succeed later; anything else will not.
 */
export class WriteError extends LoadgenError {
  /** HTTP status, or undefined for a transport failure (refused, reset, timeout). */
  readonly status: number | undefined
  /** Server-supplied delay before retrying, in milliseconds (from `Retry-After`, in seconds). */
  readonly retryAfterMs: number | undefined
  /** Points the server said it accepted despite the error (InfluxDB 1.x partial writes). */
  readonly pointsAccepted: number
  /** No answer within the request timeout: the server may be too busy to answer. */
  readonly timedOut: boolean
  /** A failure no retry can mend though no server answered (an untrusted TLS certificate). */
  readonly permanent: boolean
  /** Lines the server refused by name (InfluxDB 3 lists them); 0 for other failures. */
  readonly rejectedLines: number

  constructor(
    message: string,
    opts: { status?: number; retryAfterMs?: number; pointsAccepted?: number; rejectedLines?: number; timedOut?: boolean; permanent?: boolean; cause?: unknown } = {},
  ) {
    super('OHLCV_WRITE_FAILED', message, { cause: opts.cause })
    this.status = opts.status
    this.retryAfterMs = opts.retryAfterMs
    this.pointsAccepted = opts.pointsAccepted ?? 0
    this.timedOut = opts.timedOut ?? false
    this.permanent = opts.permanent ?? false
    this.rejectedLines = opts.rejectedLines ?? 0
  }

  canRetry(): boolean {
    if (this.permanent) return false
    if (this.status === undefined) return true
    return this.status === 408 || this.status === 429 || this.status >= 500
  }

  /**
   * The server says it has more than it can take: fewer writes at once would help, unlike a
   * server that is down (refused) or a request that is wrong. 429, 503, a timeout, and influxd's
   * 500s for a full cache or a write that timed out inside it.
   */
  overloaded(): boolean {
    if (this.timedOut || this.status === 429 || this.status === 503) return true
    return this.status === 500 && OVERLOAD_500.test(this.message)
  }

  /** 'retryable' or 'permanent': the label used in metrics and reports. */
  /** `rejected`: the server refused some lines of the batch by name (InfluxDB 3's partial writes) */
  get kind(): 'retryable' | 'permanent' | 'rejected' {
    if (this.rejectedLines > 0) return 'rejected'
    return this.canRetry() ? 'retryable' : 'permanent'
  }
}

/**
 * A read of the database (candles, verify's counts and candles) that failed: the server's or the
 * transport's message, under its own code so that a script can tell it from a failed write.
 */
export class ReadError extends LoadgenError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('OHLCV_READ_FAILED', message, options)
  }
}

/** influxd 1.x's 500 answers that mean "too much at once" (tsdb/engine, coordinator/points_writer). */
const OVERLOAD_500 = /cache-max-memory-size exceeded|timeout|engine: cache maximum memory size exceeded|max-concurrent|throttl|too many/i

/** Parses an HTTP `Retry-After` header (delta-seconds or HTTP-date) into milliseconds. */
export function parseRetryAfter(header: string | undefined, nowMs: number): number | undefined {
  if (header === undefined || header === '') return undefined
  if (/^\d+$/.test(header.trim())) return Number(header.trim()) * 1000
  const at = Date.parse(header)
  return Number.isNaN(at) ? undefined : Math.max(0, at - nowMs)
}

export function toErrorInfo(err: unknown): ErrorInfo {
  if (err instanceof WriteError) {
    return err.status === undefined
      ? { code: err.code, message: err.message }
      : { code: err.code, message: err.message, status: err.status }
  }
  if (err instanceof LoadgenError) return { code: err.code, message: err.message }
  return { code: 'OHLCV_INTERNAL' satisfies ErrorCode, message: err instanceof Error ? err.message : String(err) }
}
