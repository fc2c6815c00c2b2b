import { readFile, rename, writeFile } from 'node:fs/promises'
import { InvalidRequestError } from '../errors.js'
import { DATASET_FORMAT } from '../market/dataset.js'
import type { LoadSpec } from '../request/schema.js'
import type { ShardResult } from '../../workers/messages.js'
import type { Account } from './account.js'
import { isRangeList } from './ranges.js'
import { checkPartition, type Partition } from '../partition/partition.js'

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
  sink: Record<string, string>
  status: string
  /** the partition this run owned (scale-out); 0/1 for a whole load */
  partition?: Partition
  account: Account
  error?: { code: string; message: string }
  shards: ShardResult[]
}

/** Writes atomically (temp file, then rename): a crash never leaves half an account behind. */
export async function writeAccountFile(path: string, file: AccountFile): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}`
  await writeFile(tmp, `${JSON.stringify(file, null, 1)}\n`)
  await rename(tmp, path)
}

const STATUSES = new Set(['completed', 'stopped', 'failed'])
const COUNTS = ['planned', 'written', 'failed', 'bytes', 'batches', 'retries', 'splits'] as const

function bad(problem: string): never {
  throw new InvalidRequestError('resume-from', problem)
}

/**
 * Reads an account file and checks its shape; the request inside is validated by the caller like
 * any other request. Problems are InvalidRequestErrors naming the file's part that is wrong.
 */
export async function readAccountFile(
  path: string,
): Promise<{ request: Record<string, unknown>; sink: Record<string, string>; shards: ShardResult[]; partition?: Partition }> {
  let parsed: unknown
  try {
    parsed = JSON.parse(await readFile(path, 'utf8'))
  } catch (e) {
    bad(`cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? 'not valid JSON'}`)
  }
  const f = parsed as Partial<AccountFile>
  if (typeof f !== 'object' || f === null || f.format !== ACCOUNT_FORMAT) bad(`${path} is not an ohlcv-loadgen account file (format ${ACCOUNT_FORMAT})`)
  const dataset = f.dataset ?? 1
  if (dataset !== DATASET_FORMAT) {
    bad(`${path} is for dataset format ${String(dataset)} and this version generates format ${DATASET_FORMAT}: resuming would mix two datasets; finish the load with the version that started it, or start it again`)
  }
  if (typeof f.request !== 'object' || f.request === null) bad('the file has no request')
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
  return { request: f.request, sink: f.sink, shards: f.shards, ...(partition ? { partition } : {}) }
}
