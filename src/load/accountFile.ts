import { createHash } from 'node:crypto'
import { unlinkSync } from 'node:fs'
import { open, readFile, rename, unlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { basename, join } from 'node:path'
import { InvalidRequestError } from '../errors.js'
import { DATASET_FORMAT } from '../market/dataset.js'
import { DEFAULT_SYMBOLS } from '../request/normalize.js'
import type { LoadSpec } from '../model/request.js'
import type { ShardResult } from '../../shared/messages.js'
import type { Account, Attempt } from '../model/account.js'
import { isRangeList } from '../../shared/ranges.js'
import { checkPartition, type Partition } from '../partition/partition.js'
import { readJsonFile } from '../jsonFile.js'
import { resumeBlocker } from './resumable.js'

export const ACCOUNT_FORMAT = 'ohlcv-loadgen-account/1'

/**
 * What `run` leaves behind so a load can be resumed (`run --resume-from`): the full request with its
 * seed and range (so the same data is regenerated), the sink it went to (secrets masked), the
 * account, and each shard's result with the line ranges the database acknowledged.
 */
export interface AccountFile {
  format: typeof ACCOUNT_FORMAT
  /** the generator's dataset format (absent: 1, the files written before it was recorded) */
  dataset: number
  request: Omit<LoadSpec, 'fromMs' | 'toMs'>
  /** sha256 of the request (seed and range included) and the dataset format: an edited request is refused */
  digest?: string
  /**
   * sha256 of everything else in the file (canonical JSON, the seal left out): resume trusts the
   * sink, shard results, account and attempts too, so an edit to any of them is refused. Files
   * written before it was added have none: see readAccountFile().
   */
  seal?: string
  /** each run of the load so far */
  attempts?: Attempt[]
  sink: Record<string, string>
  status: string
  /** the partition this run owned (scale-out); 0/1 for a whole load */
  partition?: Partition
  account: Account
  error?: { code: string; message: string }
  shards: ShardResult[]
}

/** JSON with object keys sorted at every level: the same request always hashes the same. */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`
  if (v !== null && typeof v === 'object') {
    const o = v as Record<string, unknown>
    return `{${Object.keys(o).filter((k) => o[k] !== undefined).sort().map((k) => `${JSON.stringify(k)}:${canonical(o[k])}`).join(',')}}`
  }
  return JSON.stringify(v)
}

/** What identifies a dataset: the request (with its seed and resolved range) and the dataset format. */
function requestDigest(request: unknown, dataset: number): string {
  return `sha256:${createHash('sha256').update(canonical({ dataset, request })).digest('hex')}`
}

/** The seal of an account file as read (parsed JSON): sha256 over all of it but the seal. */
function accountSeal(file: object): string {
  const { seal: _seal, ...rest } = file as { seal?: unknown }
  return `sha256:${createHash('sha256').update(canonical(rest)).digest('hex')}`
}

/** Writes atomically (temp file, then rename): a crash never leaves half an account behind. */
export async function writeAccountFile(path: string, file: AccountFile): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}`
  const withDigest = { ...file, digest: requestDigest(file.request, file.dataset) }
  // sealed as it will be read back (undefined dropped, numbers as JSON writes them), not as it is in memory
  const sealed = { ...withDigest, seal: accountSeal(JSON.parse(JSON.stringify(withDigest)) as object) }
  await writeFile(tmp, `${JSON.stringify(sealed, null, 1)}\n`)
  await rename(tmp, path)
}

/**
 * Writes the account where asked or, when that place cannot be written (a read-only or deleted
 * working directory), to the temporary directory. Resolves with where it went and, if it had to
 * move, why. Rejects only when neither place can be written.
 */
export async function writeAccountFileSomewhere(path: string, file: AccountFile): Promise<{ path: string; moved?: string }> {
  try {
    await writeAccountFile(path, file)
    return { path }
  } catch (e) {
    const why = (e as NodeJS.ErrnoException).code ?? (e as Error).message
    const fallback = join(tmpdir(), basename(path))
    await writeAccountFile(fallback, file)
    return { path: fallback, moved: `could not write ${path} (${why})` }
  }
}

/**
 * An exclusive claim on an account file while a run resumes from it or writes it: `PATH.lock`
 * holding the owner's pid. A lock whose process is gone is taken over. Released on exit, whatever
 * the way out.
 */
export async function lockAccountFile(path: string): Promise<() => Promise<void>> {
  const lock = `${path}.lock`
  for (let tries = 0; tries < 2; tries++) {
    try {
      const fh = await open(lock, 'wx')
      await fh.write(`${process.pid}\n`)
      await fh.close()
      const onExit = () => {
        try {
          unlinkSync(lock)
        } catch {
          // already gone
        }
      }
      process.once('exit', onExit)
      return async () => {
        process.off('exit', onExit)
        await unlink(lock).catch(() => {})
      }
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') return async () => {} // an unwritable place: nothing to guard there
      const pid = Number((await readFile(lock, 'utf8').catch(() => '')).trim())
      if (Number.isSafeInteger(pid) && pid > 0 && pid !== process.pid && alive(pid)) {
        throw new InvalidRequestError('resume-from', `${path} is in use by another run (pid ${pid}); wait for it to end (or remove ${lock} if that process is gone)`)
      }
      await unlink(lock).catch(() => {}) // stale: its process is gone
    }
  }
  throw new InvalidRequestError('resume-from', `cannot lock ${path}: ${lock} keeps coming back`)
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM'
  }
}

const STATUSES = new Set(['completed', 'stopped', 'failed'])
const COUNTS = ['planned', 'written', 'failed', 'bytes', 'batches', 'retries', 'splits'] as const

function bad(problem: string): never {
  throw new InvalidRequestError('resume-from', problem)
}

/**
 * Resume trusts the whole file: the sink it checks the settings against, the shard results that
 * say which lines the database already holds (skipped, never sent again), the account and the
 * attempts it reports. An edit to any of them could make a resume report points as written that
 * the database does not hold (an edited sink.db sent the rest to another database and reported
 * the load succeeded), so a file whose seal does not match is refused. A file written before the
 * seal existed is taken only when it has no shard results: then resume trusts nothing but the
 * request (covered by its digest) and writes the whole load again.
 */
function checkSeal(path: string, f: Partial<AccountFile>): void {
  if (f.seal === undefined) {
    if ((f.shards ?? []).length > 0) {
      bad(`account file ${path} has no seal (written by an older ohlcv-loadgen): its shard results cannot be checked, and resume would trust them to skip lines; run the load again`)
    }
    return
  }
  if (f.seal !== accountSeal(f)) {
    bad(`account file ${path} was edited after it was written (its seal does not match): resume trusts its sink, shard results and account, so it could report points as written that the database does not hold; resume from an unedited copy, or run the load again`)
  }
}

/**
 * Reads an account file and checks its shape; the request inside is validated by the caller like
 * any other request. Problems are InvalidRequestErrors naming the file's part that is wrong.
 */
export async function readAccountFile(
  path: string,
): Promise<{ request: Record<string, unknown>; sink: Record<string, string>; shards: ShardResult[]; partition?: Partition; attempts: Attempt[] }> {
  const parsed = await readJsonFile(path, bad)
  const f = parsed as Partial<AccountFile>
  if (typeof f !== 'object' || f === null || f.format !== ACCOUNT_FORMAT) bad(`${path} is not an ohlcv-loadgen account file (format ${ACCOUNT_FORMAT})`)
  const dataset = f.dataset ?? 1
  const listed = (f.request as { symbols?: unknown } | undefined)?.symbols
  const symbols = Array.isArray(listed) ? listed.length : DEFAULT_SYMBOLS.length
  if (resumeBlocker({ dataset: { format: dataset, symbols } })) {
    bad(`${path} is for dataset format ${String(dataset)} and this version generates format ${DATASET_FORMAT}: resuming would mix two datasets; finish the load with the version that started it, or start it again`)
  }
  if (typeof f.request !== 'object' || f.request === null) bad('the file has no request')
  if (f.digest !== undefined && f.digest !== requestDigest(f.request, dataset)) {
    bad(`the request in ${path} was changed after its load ran (its digest does not match): resuming would mix two datasets; start a new load with the changed request instead`)
  }
  if (typeof f.sink !== 'object' || f.sink === null) bad('the file has no sink')
  if (!Array.isArray(f.shards)) bad('the file has no shards list')
  const seen = new Set<number>()
  for (const [i, s] of f.shards.entries()) {
    const where = `shards[${i}]`
    if (typeof s !== 'object' || s === null || !Number.isSafeInteger(s.shard) || s.shard < 0 || seen.has(s.shard)) bad(`${where}.shard is missing, negative or repeated`)
    seen.add(s.shard)
    if (!STATUSES.has(s.status)) bad(`${where}.status must be completed, stopped or failed`)
    for (const k of COUNTS) if (!Number.isSafeInteger(s[k]) || s[k] < 0) bad(`${where}.${k} must be a non-negative integer`)
    if (!isRangeList(s.acked)) bad(`${where}.acked must be sorted, disjoint [from, to) pairs`)
    if (s.doubt !== undefined && !isRangeList(s.doubt)) bad(`${where}.doubt must be sorted, disjoint [from, to) pairs`)
    if (s.inDoubt !== undefined && (!Number.isSafeInteger(s.inDoubt) || s.inDoubt < 0)) bad(`${where}.inDoubt must be a non-negative integer`)
  }
  let partition: Partition | undefined
  if (f.partition !== undefined) {
    const p = f.partition as Partial<Partition> | null
    partition = checkPartition(Number(p?.index), Number(p?.count), 'resume-from')
  }
  checkSeal(path, f)
  const attempts = Array.isArray(f.attempts) ? f.attempts.filter((a) => typeof a === 'object' && a !== null && Number.isFinite(a.durationMs) && Number.isFinite(a.pointsWritten)) : []
  return { request: f.request, sink: f.sink, shards: f.shards, attempts, ...(partition ? { partition } : {}) }
}
