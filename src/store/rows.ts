import type { ErrorInfo } from '../model/errors.js'
import { LoadDamagedError } from '../errors.js'
import type { LoadSpec } from '../model/request.js'
import type { ShardResult, ShardStatus } from '../../shared/messages.js'
import type { Range } from '../../shared/ranges.js'
import type { Account, Attempt, LoadResult } from '../model/account.js'
import type { LoadStatus } from '../model/status.js'
import type { LoadSummary } from '../model/summary.js'
import type { TimelineView } from '../model/timeline.js'

// A load as the store keeps it, and its row <-> model mapping; the queries are LoadStore's.

/** One load as the store keeps it. */
export interface LoadRecord {
  id: string
  status: LoadStatus
  spec: LoadSpec
  dataset: number
  /** where it wrote, secrets masked (describeSink) */
  sink: Record<string, string>
  account: Account
  error?: ErrorInfo | undefined
  result?: LoadResult | undefined
  attempts: Attempt[]
  /** the run in progress as last recorded: what a crash cut short */
  currentAttempt?: Attempt | undefined
  summary: LoadSummary
  /** the load over time; undefined in a save(): the stored one stays */
  timeline?: TimelineView | undefined
  resumes: number
  createdAt: string
  startedAt?: string | undefined
  finishedAt?: string | undefined
  updatedAt: string
}

/** A running shard's progress: what the database acknowledged so far, and earlier runs' counts. */
export interface ShardProgress {
  shard: number
  acked: Range[]
  /** ranges earlier runs left in doubt (a resumed shard), until sent again */
  doubt?: Range[]
  bytes: number
  batches: number
  retries: number
  splits: number
}

/** `none`: the shard has no row (marked started, then not run after all) */
export type ShardRow =
  | { shard: number; status: 'running'; progress: ShardProgress }
  | { shard: number; status: ShardStatus; result: ShardResult }
  | { shard: number; status: 'none' }

/** A row of the loads table as better-sqlite3 returns it. */
export interface Row {
  seq: number
  id: string
  status: string
  seed: string
  dataset: number
  request: string
  sink: string
  account: string
  error: string | null
  result: string | null
  attempts: string
  current_attempt: string | null
  summary: string
  timeline: string | null
  resumes: number
  created_at: string
  started_at: string | null
  finished_at: string | null
  updated_at: string
}

const json = (v: unknown): string | null => (v === undefined ? null : JSON.stringify(v))

/** The JSON columns of a load's row, in the order a damaged one is named. */
export const JSON_COLUMNS = ['request', 'sink', 'account', 'error', 'result', 'attempts', 'current_attempt', 'summary', 'timeline'] as const

/**
 * Parses one stored column. A column that is not JSON (a bit flip, a hand edit: SQLite's structure
 * can be sound while one value is not) becomes a LoadDamagedError naming the load and the column,
 * so it costs that load only, not every route that lists or reads loads.
 */
export function parseColumn<T>(id: string, column: string, text: string, store: string): T {
  try {
    return JSON.parse(text) as T
  } catch (e) {
    throw new LoadDamagedError(id, column, (e as Error).message, store)
  }
}

export function toRecord(r: Row, store: string): LoadRecord {
  const col = <T>(c: (typeof JSON_COLUMNS)[number]): T => parseColumn<T>(r.id, c, r[c]!, store)
  const opt = <T>(c: (typeof JSON_COLUMNS)[number]): T | undefined => (r[c] === null ? undefined : col<T>(c))
  return {
    id: r.id,
    status: r.status as LoadStatus,
    spec: col<LoadSpec>('request'),
    dataset: r.dataset,
    sink: col<Record<string, string>>('sink'),
    account: col<Account>('account'),
    error: opt<ErrorInfo>('error'),
    result: opt<LoadResult>('result'),
    attempts: col<Attempt[]>('attempts'),
    currentAttempt: opt<Attempt>('current_attempt'),
    summary: col<LoadSummary>('summary'),
    timeline: opt<TimelineView>('timeline'),
    resumes: r.resumes,
    createdAt: r.created_at,
    startedAt: r.started_at ?? undefined,
    finishedAt: r.finished_at ?? undefined,
    updatedAt: r.updated_at,
  }
}

/** What changes as a load runs (the request, 100 kB with 10,000 symbols, is written once). */
export function changingParams(rec: LoadRecord) {
  return {
    id: rec.id,
    status: rec.status,
    account: JSON.stringify(rec.account),
    error: json(rec.error),
    result: json(rec.result),
    attempts: JSON.stringify(rec.attempts),
    current_attempt: json(rec.currentAttempt),
    summary: JSON.stringify(rec.summary),
    timeline: json(rec.timeline),
    resumes: rec.resumes,
    started_at: rec.startedAt ?? null,
    finished_at: rec.finishedAt ?? null,
    updated_at: rec.updatedAt,
  }
}

export function allParams(rec: LoadRecord) {
  return {
    ...changingParams(rec),
    seed: String(rec.spec.seed),
    dataset: rec.dataset,
    request: JSON.stringify(rec.spec),
    sink: JSON.stringify(rec.sink),
    created_at: rec.createdAt,
  }
}
