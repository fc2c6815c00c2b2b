import { readFileSync, rmSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { LoadDamagedError, StoreLockedError } from '../errors.js'
import type { LoadSpec } from '../model/request.js'
import type { Account } from '../model/account.js'
import { sqlList, UNFINISHED_STATUSES, type LoadStatus } from '../model/status.js'
import type { LoadSummary } from '../model/summary.js'
import type { ShardResult, ShardStatus } from '../../shared/messages.js'
import { damagedSummary } from './damaged.js'
import { openStore, storePath, type Db } from './open.js'
import { allParams, changingParams, JSON_COLUMNS, parseColumn, toRecord, type LoadRecord, type Row, type ShardProgress, type ShardRow } from './rows.js'

export type { LoadRecord, ShardRow }

/**
 * SQL naming a row's first JSON column that does not parse, or a shard of it whose result does not
 * (null: none): history lists a damaged load as such without parsing every column in JavaScript.
 */
const DAMAGED_SQL = `CASE ${JSON_COLUMNS.map((c) => `WHEN ${c} IS NOT NULL AND NOT json_valid(${c}) THEN '${c}'`).join(' ')}
  WHEN EXISTS (SELECT 1 FROM shards WHERE load_seq = loads.seq AND NOT json_valid(result)) THEN 'shards' END`

const UNFINISHED = sqlList(UNFINISHED_STATUSES)

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
      page: db.prepare(`SELECT id, summary, ${DAMAGED_SQL} AS damaged FROM loads WHERE seq < ? ORDER BY seq DESC LIMIT ?`),
      pageByStatus: db.prepare(`SELECT id, summary, ${DAMAGED_SQL} AS damaged FROM loads WHERE seq < ? AND status = ? ORDER BY seq DESC LIMIT ?`),
      unfinished: db.prepare(`SELECT id FROM loads WHERE status IN ${UNFINISHED} ORDER BY seq`),
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

  /** The stored load; a LoadDamagedError if a column of its row does not parse. */
  get(id: string): LoadRecord | undefined {
    const r = this.st.get.get(id) as Row | undefined
    return r ? toRecord(r, this.path) : undefined
  }

  /** The load's shard rows; a LoadDamagedError if one does not parse. */
  shards(id: string): Exclude<ShardRow, { status: 'none' }>[] {
    return (this.st.shards.all(id) as { shard: number; status: string; result: string }[]).map((r) => {
      const value = parseColumn<ShardProgress & ShardResult>(id, `shards[${r.shard}].result`, r.result, this.path)
      return r.status === 'running' ? { shard: r.shard, status: 'running', progress: value } : { shard: r.shard, status: r.status as ShardStatus, result: value }
    })
  }

  /** Ids of the loads recorded as queued or running: on start, the ones a previous process left unfinished. */
  unfinished(): string[] {
    return (this.st.unfinished.all() as { id: string }[]).map((r) => r.id)
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
    const rows = (q.status === undefined ? this.st.page.all(below, q.limit) : this.st.pageByStatus.all(below, q.status, q.limit)) as { id: string; summary: string; damaged: string | null }[]
    return rows.map((r) => ({ id: r.id, summary: r.damaged === null ? (JSON.parse(r.summary) as LoadSummary) : this.damaged(r.id) }))
  }

  /** A damaged load as history lists it: what can still be read, and `damaged` saying what cannot. */
  private damaged(id: string): LoadSummary {
    const row = this.st.get.get(id) as Row
    let problem: LoadDamagedError | undefined
    try {
      toRecord(row, this.path)
      this.shards(id)
    } catch (e) {
      if (!(e instanceof LoadDamagedError)) throw e
      problem = e
    }
    // json_valid() and JSON.parse() disagree on nothing a damaged store is likely to hold; if they
    // did, the row reads and the load is listed as it is
    if (!problem) return toRecord(row, this.path).summary
    const read = <T>(text: string | null): T | undefined => {
      try {
        return text === null ? undefined : (JSON.parse(text) as T)
      } catch {
        return undefined
      }
    }
    return damagedSummary(
      { id, status: row.status as LoadStatus, seed: row.seed, resumes: row.resumes, createdAt: row.created_at, startedAt: row.started_at, finishedAt: row.finished_at },
      { summary: read<LoadSummary>(row.summary), spec: read<LoadSpec>(row.request), account: read<Account>(row.account) },
      `${problem.column}: ${problem.reason}`,
    )
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
