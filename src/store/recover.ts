import type { ShardResult } from '../../shared/messages.js'
import { rangeTotal, subtractRanges } from '../../shared/ranges.js'
import type { ShardRow } from './loadStore.js'

/**
 * The shard results of a load whose coordinator died while it ran. A finished shard keeps its
 * result. A running one keeps the ranges the database acknowledged (recorded within the last
 * flush), and everything else of it is in doubt: sent or not, the database may hold it. So the
 * account's written never exceeds what the database holds, and resume sends the doubtful lines
 * again (the very same points, a rewrite) until the database holds exactly the plan.
 * `planned(shard)`: the shard's points, from the load's plan.
 */
export function interruptedShards(rows: readonly Exclude<ShardRow, { status: 'none' }>[], planned: (shard: number) => number): ShardResult[] {
  return rows.map((row) => {
    if (row.status !== 'running') return row.result
    const p = row.progress
    const total = planned(row.shard)
    const doubt = subtractRanges([[0, total]], p.acked)
    return {
      shard: row.shard,
      status: 'stopped',
      planned: total,
      written: rangeTotal(p.acked),
      failed: 0,
      bytes: p.bytes,
      batches: p.batches,
      retries: p.retries,
      splits: p.splits,
      acked: p.acked,
      doubt,
      inDoubt: rangeTotal(doubt),
    }
  })
}
