import { readFileSync, rmSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import type { LoadSummary } from '../api/schemas.js'
import type { ErrorInfo } from '../errors.js'
import { StoreLockedError } from '../errors.js'
import type { LoadSpec } from '../request/schema.js'
import type { ShardResult, ShardStatus } from '../../shared/messages.js'
import type { Range } from '../../shared/ranges.js'
import type { Account, Attempt } from '../load/result.js'
import type { LoadResult, LoadStatus } from '../load/run.js'
import type { TimelineView } from '../load/timeline.js'
import { openStore, storePath, type Db } from './open.js'

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

interface Row {
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
const parse = <T>(s: string | null): T | undefined => (s === null ? undefined : (JSON.parse(s) as T))

function toRecord(r: Row): LoadRecord {
  return {
    id: r.id,
    status: r.status as LoadStatus,
    spec: JSON.parse(r.request) as LoadSpec,
    dataset: r.dataset,
    sink: JSON.parse(r.sink) as Record<string, string>,
    account: JSON.parse(r.account) as Account,
    error: parse<ErrorInfo>(r.error),
    result: parse<LoadResult>(r.result),
    attempts: JSON.parse(r.attempts) as Attempt[],
    currentAttempt: parse<Attempt>(r.current_attempt),
    summary: JSON.parse(r.summary) as LoadSummary,
    timeline: parse<TimelineView>(r.timeline),
    resumes: r.resumes,
    createdAt: r.created_at,
    startedAt: r.started_at ?? undefined,
    finishedAt: r.finished_at ?? undefined,
    updatedAt: r.updated_at,
  }
}

/** What changes as a load runs (the request, 100 kB with 10,000 symbols, is written once). */
function changingParams(rec: LoadRecord) {
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

function allParams(rec: LoadRecord) {
  return {
    ...changingParams(rec),
    seed: String(rec.spec.seed),
    dataset: rec.dataset,
    request: JSON.stringify(rec.spec),
    sink: JSON.stringify(rec.sink),
    created_at: rec.createdAt,
  }
}

const UNFINISHED = "('queued', 'running')"

/**
 * The coordinator's loads on disk (SQLite, see open.ts): every load's request, account and
 * outcome, and each running shard's acknowledged line ranges, so a load outlives the process
 * that ran it. Written by the main thread only, a few small transactions a second, never per point.
 */
export class LoadStore {
  readonly path: string
  private readonly st

  private constructor(private readonly db: Db) {
    this.path = db.name
    this.st = {
      insert: db.prepare(
        `INSERT INTO loads (id, status, seed, dataset, request, sink, account, error, result, attempts, current_attempt, summary, timeline, resumes, created_at, started_at, finished_at, updated_at)
         VALUES (@id, @status, @seed, @dataset, @request, @sink, @account, @error, @result, @attempts, @current_attempt, @summary, @timeline, @resumes, @created_at, @started_at, @finished_at, @updated_at)`,
      ),
      update: db.prepare(
        `UPDATE loads SET status = @status, account = @account, error = @error, result = @result, attempts = @attempts, current_attempt = @current_attempt,
         summary = @summary, timeline = coalesce(@timeline, timeline), resumes = @resumes, started_at = @started_at, finished_at = @finished_at, updated_at = @updated_at WHERE id = @id`,
      ),
      upsertShard: db.prepare(
        `INSERT INTO shards (load_seq, shard, status, result) VALUES ((SELECT seq FROM loads WHERE id = ?), ?, ?, ?)
         ON CONFLICT (load_seq, shard) DO UPDATE SET status = excluded.status, result = excluded.result`,
      ),
      deleteShard: db.prepare('DELETE FROM shards WHERE load_seq = (SELECT seq FROM loads WHERE id = ?) AND shard = ?'),
      get: db.prepare('SELECT * FROM loads WHERE id = ?'),
      shards: db.prepare('SELECT shard, status, result FROM shards WHERE load_seq = (SELECT seq FROM loads WHERE id = ?) ORDER BY shard'),
      seqOf: db.prepare('SELECT seq FROM loads WHERE id = ?'),
      page: db.prepare('SELECT id, summary FROM loads WHERE seq < ? ORDER BY seq DESC LIMIT ?'),
      pageByStatus: db.prepare('SELECT id, summary FROM loads WHERE seq < ? AND status = ? ORDER BY seq DESC LIMIT ?'),
      unfinished: db.prepare(`SELECT * FROM loads WHERE status IN ${UNFINISHED} ORDER BY seq`),
      forget: db.prepare('DELETE FROM loads WHERE id = ?'),
      toTrim: db.prepare(`SELECT id FROM loads WHERE status NOT IN ${UNFINISHED} AND seq < (SELECT min(seq) FROM (SELECT seq FROM loads ORDER BY seq DESC LIMIT ?))`),
      count: db.prepare('SELECT count(*) AS n FROM loads'),
    }
  }

  /**
   * Opens the store of STATE_DIR `dir` (`:memory:`: one that lives and dies with the process).
   * Refuses, with one line naming the file, a store another coordinator holds, a damaged one, or
   * one from a newer version.
   */
  static open(dir: string): LoadStore {
    const path = storePath(dir)
    const pidFile = path === ':memory:' ? undefined : join(dirname(path), 'coordinator.pid')
    let db: Db
    try {
      db = openStore(path)
    } catch (e) {
      if (e instanceof StoreLockedError && pidFile) {
        let holder = ''
        try {
          holder = readFileSync(pidFile, 'utf8').trim()
        } catch {
          // no pid recorded: the message goes without it
        }
        throw new StoreLockedError(path, /^\d+$/.test(holder) ? `pid ${holder}` : undefined)
      }
      throw e
    }
    // Who holds the lock, for the next one's message; the lock itself is SQLite's.
    if (pidFile) writeFileSync(pidFile, `${process.pid}\n`)
    return new LoadStore(db)
  }

  insert(rec: LoadRecord): void {
    this.st.insert.run(allParams(rec))
  }

  /** The load's row and any shard rows, in one transaction. */
  save(rec: LoadRecord, shards: readonly ShardRow[] = []): void {
    this.db.transaction(() => {
      const changed = this.st.update.run(changingParams(rec)).changes
      if (changed === 0) this.st.insert.run(allParams(rec))
      this.saveShards(rec.id, shards)
    })()
  }

  /** Shard rows only (a shard handed to a worker): the load's row follows at the next save(). */
  saveShards(id: string, shards: readonly ShardRow[]): void {
    if (shards.length === 0) return
    this.db.transaction(() => {
      for (const s of shards) {
        if (s.status === 'none') this.st.deleteShard.run(id, s.shard)
        else this.st.upsertShard.run(id, s.shard, s.status, JSON.stringify(s.status === 'running' ? s.progress : s.result))
      }
    })()
  }

  get(id: string): LoadRecord | undefined {
    const r = this.st.get.get(id) as Row | undefined
    return r ? toRecord(r) : undefined
  }

  shards(id: string): Exclude<ShardRow, { status: 'none' }>[] {
    return (this.st.shards.all(id) as { shard: number; status: string; result: string }[]).map((r) =>
      r.status === 'running'
        ? { shard: r.shard, status: 'running', progress: JSON.parse(r.result) as ShardProgress }
        : { shard: r.shard, status: r.status as ShardStatus, result: JSON.parse(r.result) as ShardResult },
    )
  }

  /** Loads recorded as queued or running: on start, the ones a previous process left unfinished. */
  unfinished(): LoadRecord[] {
    return (this.st.unfinished.all() as Row[]).map(toRecord)
  }

  /**
   * A page of history, newest first: `limit` loads older than `before` (an id), with `status`.
   * Undefined when `before` is not a stored load.
   */
  page(q: { limit: number; before?: string | undefined; status?: string | undefined }): { id: string; summary: LoadSummary }[] | undefined {
    let below = Number.MAX_SAFE_INTEGER
    if (q.before !== undefined) {
      const at = this.st.seqOf.get(q.before) as { seq: number } | undefined
      if (!at) return undefined
      below = at.seq
    }
    const rows = (q.status === undefined ? this.st.page.all(below, q.limit) : this.st.pageByStatus.all(below, q.status, q.limit)) as { id: string; summary: string }[]
    return rows.map((r) => ({ id: r.id, summary: JSON.parse(r.summary) as LoadSummary }))
  }

  /** Removes a load and its shards; false if there was none. */
  forget(id: string): boolean {
    return this.st.forget.run(id).changes > 0
  }

  /** Keeps the newest `keep` loads (unfinished ones always stay); returns the ids removed. */
  trim(keep: number): string[] {
    return this.db.transaction(() => {
      const ids = (this.st.toTrim.all(keep) as { id: string }[]).map((r) => r.id)
      for (const id of ids) this.st.forget.run(id)
      return ids
    })()
  }

  count(): number {
    return (this.st.count.get() as { n: number }).n
  }

  /** Checkpoints the WAL into the file and lets go of the lock. */
  close(): void {
    if (!this.db.open) return
    this.db.close()
    if (this.path !== ':memory:') rmSync(join(dirname(this.path), 'coordinator.pid'), { force: true })
  }
}
