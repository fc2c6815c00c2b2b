import type { ProgressDelta, ShardResult } from '../../workers/messages.js'

/**
 * A load's account. Always exact: pointsPlanned = pointsWritten + pointsFailed + pointsUnsent,
 * where written means acknowledged by the database, failed means sent and rejected (or given up
 * on), and unsent means never sent because the load stopped first.
 */
export interface Account {
  pointsPlanned: number
  pointsWritten: number
  pointsFailed: number
  pointsUnsent: number
  bytesWritten: number
  batchesWritten: number
  retries: number
  shardsDone: number
  shardsTotal: number
}

/** Live tally of a running load: per-shard progress from deltas, replaced by results as shards finish. */
export class Tally {
  private readonly live = new Map<number, { written: number; failed: number; bytes: number; batches: number; retries: number }>()
  private readonly final = { written: 0, failed: 0, bytes: 0, batches: 0, retries: 0 }
  shardsDone = 0

  constructor(
    readonly pointsPlanned: number,
    readonly shardsTotal: number,
  ) {}

  applyDelta(d: ProgressDelta): void {
    const s = this.live.get(d.shard) ?? { written: 0, failed: 0, bytes: 0, batches: 0, retries: 0 }
    s.written += d.written
    s.failed += d.failed
    s.bytes += d.bytes
    s.batches += d.batches
    s.retries += d.retries
    this.live.set(d.shard, s)
  }

  /** The shard's own result is the truth; its live deltas are dropped. */
  applyResult(r: ShardResult): void {
    this.live.delete(r.shard)
    this.final.written += r.written
    this.final.failed += r.failed
    this.final.bytes += r.bytes
    this.final.batches += r.batches
    this.final.retries += r.retries
    this.shardsDone++
  }

  account(): Account {
    const t = { ...this.final }
    for (const s of this.live.values()) {
      t.written += s.written
      t.failed += s.failed
      t.bytes += s.bytes
      t.batches += s.batches
      t.retries += s.retries
    }
    return {
      pointsPlanned: this.pointsPlanned,
      pointsWritten: t.written,
      pointsFailed: t.failed,
      pointsUnsent: this.pointsPlanned - t.written - t.failed,
      bytesWritten: t.bytes,
      batchesWritten: t.batches,
      retries: t.retries,
      shardsDone: this.shardsDone,
      shardsTotal: this.shardsTotal,
    }
  }
}
