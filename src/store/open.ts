import Database from 'better-sqlite3'
import { accessSync, closeSync, constants, existsSync, mkdirSync, openSync, readSync, statSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { StoreError, StoreLockedError } from '../errors.js'
import { MIGRATIONS, type Migration } from './schema.js'
import { readWal } from './wal.js'

/** The store's file inside STATE_DIR. */
export const STORE_FILE = 'loads.sqlite'
/** `PRAGMA application_id` of a load store ('OHLC'): another program's SQLite file is refused, not written. */
const APPLICATION_ID = 0x4f484c43
const SQLITE_MAGIC = 'SQLite format 3\0'

export type Db = Database.Database

/** Where the store of STATE_DIR `dir` lives (`:memory:` stays in memory). */
export function storePath(dir: string): string {
  return dir === ':memory:' ? dir : join(resolve(dir), STORE_FILE)
}

/**
 * Checks the file's header before SQLite touches it: a file that is not an SQLite database, or is
 * shorter than its header says (truncated), is refused with the reason and left exactly as it is.
 */
function checkHeader(path: string): void {
  let size: number
  try {
    size = statSync(path).size
  } catch {
    return // a new store
  }
  if (size === 0) return // created and never written (a crash during the first start): nothing to lose
  const head = Buffer.alloc(100)
  const fd = openSync(path, 'r')
  let got: number
  try {
    got = readSync(fd, head, 0, 100, 0)
  } finally {
    closeSync(fd)
  }
  if (got < 100 || head.toString('latin1', 0, 16) !== SQLITE_MAGIC) {
    throw new StoreError(path, 'is not a load store (not an SQLite database)')
  }
  const raw = head.readUInt16BE(16)
  const pageSize = raw === 1 ? 65536 : raw
  // The page count in the header is valid when the change counter matches "version valid for".
  const pages = head.readUInt32BE(28)
  if (head.readUInt32BE(24) === head.readUInt32BE(92) && pages > 0 && size < pages * pageSize) {
    const { missing, wal } = missingFromWal(path, size, pages, pageSize)
    if (missing > 0) throw new StoreError(path, `is truncated (${size} bytes; its header says ${pages * pageSize}${wal ? `; ${missing} page(s) are in neither the file nor its -wal` : ''})`)
  }
}

/**
 * Pages the file lacks that its `-wal` does not hold either. A checkpoint that ran out of disk
 * space leaves exactly this: page 1 (with the new page count) written, the file not grown, and
 * the log, not reset, still holding every page. SQLite reads those pages from the log, so the
 * store is whole; only what neither has is lost.
 */
function missingFromWal(path: string, size: number, pages: number, pageSize: number): { missing: number; wal: boolean } {
  const wal = readWal(`${path}-wal`, pageSize)
  const dbPages = wal?.dbPages ?? pages
  let missing = 0
  for (let p = Math.floor(size / pageSize) + 1; p <= dbPages; p++) if (!wal?.pages.has(p)) missing++
  return { missing, wal: wal !== undefined }
}

/**
 * Makes STATE_DIR and checks that it and the store can be written. SQLite opens a file it cannot
 * write read-only without a word, then fails at the first write (the WAL) with "disk I/O error",
 * which names nothing the user can act on; the file system's own answer does.
 */
function checkWritable(path: string): void {
  const dir = dirname(path)
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 })
    accessSync(dir, constants.W_OK)
    if (existsSync(path)) accessSync(path, constants.W_OK)
  } catch (e) {
    let code = (e as NodeJS.ErrnoException).code
    // a recursive mkdir on a read-only file system says ENOENT: ask the nearest directory that exists
    if (code === 'ENOENT') code = ancestorProblem(dir) ?? code
    const why = code === 'EROFS' ? 'is on a read-only file system (EROFS)' : code === 'EACCES' || code === 'EPERM' ? `is not writable by this user (${code})` : `cannot be made or written (${code ?? (e as Error).message})`
    throw new StoreError(path, `cannot be written: ${dir} ${why}; set STATE_DIR (--state-dir) to a writable directory, or to :memory: to keep no history`, false)
  }
}

/** Why the nearest existing ancestor of `dir` cannot be written into (EROFS, EACCES), if it cannot. */
function ancestorProblem(dir: string): string | undefined {
  let d = dir
  while (!existsSync(d) && dirname(d) !== d) d = dirname(d)
  try {
    accessSync(d, constants.W_OK)
    return undefined
  } catch (e) {
    return (e as NodeJS.ErrnoException).code
  }
}

function isBusy(e: unknown): boolean {
  const code = (e as { code?: string }).code ?? ''
  return code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')
}

/**
 * Opens (or creates) the store at `path` for this process alone: WAL, and SQLite's exclusive
 * locking mode, so a second coordinator on the same STATE_DIR cannot read or write it while this
 * one lives. The lock is the kernel's (fcntl), so a coordinator killed with SIGKILL leaves none
 * behind. Refuses, naming the file and never writing to it, a file that is not a load store, is
 * damaged, or comes from a newer version.
 */
export function openStore(path: string, migrations: readonly Migration[] = MIGRATIONS): Db {
  if (path !== ':memory:') {
    checkWritable(path)
    checkHeader(path)
  }
  let db: Db
  try {
    db = new Database(path, { timeout: 250 })
  } catch (e) {
    throw new StoreError(path, `cannot be opened (${(e as Error).message})`, false)
  }
  try {
    db.pragma('locking_mode = EXCLUSIVE')
    // Read-only look first: a file that is not ours is refused before anything is written.
    const appId = db.pragma('application_id', { simple: true }) as number
    const tables = (db.prepare("SELECT count(*) AS n FROM sqlite_schema WHERE type = 'table'").get() as { n: number }).n
    if (appId !== APPLICATION_ID && (appId !== 0 || tables > 0)) throw new StoreError(path, 'is an SQLite database of another program, not a load store')
    if (path !== ':memory:') {
      const check = db.pragma('quick_check', { simple: true }) as string
      if (check !== 'ok') throw new StoreError(path, `is damaged (SQLite's quick_check: ${check})`)
    }
    const version = db.pragma('user_version', { simple: true }) as number
    const latest = migrations.length
    if (version > latest) {
      throw new StoreError(path, `was written by a newer ohlcv-loadgen (store schema ${version}; this version reads up to ${latest}): upgrade, or use another STATE_DIR (--state-dir)`, false)
    }
    // Taking the write lock now, not at the first load: the second coordinator is refused at start.
    db.pragma('journal_mode = WAL')
    db.pragma('synchronous = NORMAL') // WAL + NORMAL: a killed process loses nothing committed
    db.pragma('foreign_keys = ON')
    migrate(db, version, migrations)
    return db
  } catch (e) {
    db.close()
    if (e instanceof StoreError) throw e
    if (isBusy(e)) throw new StoreLockedError(path)
    const code = (e as { code?: string }).code
    if (code === 'SQLITE_NOTADB' || code === 'SQLITE_CORRUPT') throw new StoreError(path, `is damaged (${(e as Error).message})`)
    throw new StoreError(path, `cannot be used (${(e as Error).message})`, false)
  }
}

/** Brings a store at `version` up to date, one migration per transaction, each setting user_version. */
function migrate(db: Db, version: number, migrations: readonly Migration[]): void {
  db.exec('BEGIN IMMEDIATE; COMMIT') // the write lock, held until close (exclusive locking mode)
  for (let v = version; v < migrations.length; v++) {
    const m = migrations[v]!
    db.transaction(() => {
      m.up(db)
      db.pragma(`application_id = ${APPLICATION_ID}`)
      db.pragma(`user_version = ${v + 1}`)
    })()
  }
}
