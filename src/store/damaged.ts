import type { Account } from '../model/account.js'
import type { LoadSpec } from '../model/request.js'
import type { LoadStatus } from '../model/status.js'
import type { LoadSummary } from '../model/summary.js'

const NO_ACCOUNT: Account = { pointsPlanned: 0, pointsWritten: 0, pointsFailed: 0, pointsInDoubt: 0, pointsUnsent: 0, bytesWritten: 0, batchesWritten: 0, retries: 0, batchesSplit: 0, shardsDone: 0, shardsTotal: 0 }

/**
 * How history lists a load whose stored record is damaged: its stored summary when that still
 * parses (another column is the damaged one), else what the plain columns and any readable JSON
 * give, zeros for the rest; always with `damaged` saying which part cannot be read and why, so
 * nobody mistakes the zeros for an account.
 */
export function damagedSummary(
  row: { id: string; status: LoadStatus; seed: string; resumes: number; createdAt: string; startedAt: string | null; finishedAt: string | null },
  readable: { summary: LoadSummary | undefined; spec: LoadSpec | undefined; account: Account | undefined },
  damaged: string,
): LoadSummary {
  if (readable.summary) return { ...readable.summary, status: row.status, damaged }
  const spec = readable.spec
  return {
    id: row.id,
    status: row.status,
    seed: row.seed,
    shards: 0,
    request: {
      from: spec?.from ?? '',
      to: spec?.to ?? '',
      trades: spec?.trades ?? 0,
      symbolCount: spec?.symbols.length ?? 0,
      symbols: spec?.symbols.slice(0, 10) ?? [],
      distribution: spec?.distribution ?? '',
      batchSize: spec?.batchSize ?? 0,
      measurement: spec?.measurement ?? '',
    },
    account: readable.account ?? NO_ACCOUNT,
    resumes: row.resumes,
    createdAt: row.createdAt,
    ...(row.startedAt ? { startedAt: row.startedAt } : {}),
    ...(row.finishedAt ? { finishedAt: row.finishedAt } : {}),
    damaged,
  }
}
