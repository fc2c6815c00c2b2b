import { InvalidRequestError } from '../errors.js'
import { describePartition, owns, ownedCount, ownedShards, WHOLE, type Partition } from '../partition/partition.js'
import type { ProgressDelta, ShardResult } from '../../shared/messages.js'
import { addRange, type Range } from '../../shared/ranges.js'
import type { ShardRow } from '../store/loadStore.js'
import type { Account } from '../model/account.js'

type Sums = { written: number; failed: number; inDoubt?: number; bytes: number; batches: number; retries: number; splits: number }
const zero = (): Sums => ({ written: 0, failed: 0, inDoubt: 0, bytes: 0, batches: 0, retries: 0, splits: 0 })

function add(t: Sums, s: Sums, sign = 1): void {
  t.written += sign * s.written
  t.failed += sign * s.failed
  t.inDoubt = (t.inDoubt ?? 0) + sign * (s.inDoubt ?? 0)
  t.bytes += sign * s.bytes
  t.batches += sign * s.batches
  t.retries += sign * s.retries
  t.splits += sign * s.splits
}

/**
 * Live tally of a load: per-shard progress from deltas, replaced by each shard's own result when
 * it finishes. Results are kept per shard (a few numbers and ranges each, never per point) so a
 * resumed load replaces a shard's earlier, incomplete result instead of adding to it.
 */
export class Tally {
  private readonly live = new Map<number, Sums>()
  private readonly results = new Map<number, ShardResult>()
  private readonly final = zero()
  private completed = 0
  /** running shards: the line ranges acknowledged so far, earlier runs' included */
  private readonly liveAcked = new Map<number, Range[]>()
  /** shards whose progress changed since the last takeChanged() */
  private readonly changed = new Set<number>()

  /** shards this run owns (all of them unless the load is partitioned) */
  readonly shardsTotal: number

  constructor(
    readonly pointsPlanned: number,
    private readonly shardCount: number,
    private readonly partition: Partition = WHOLE,
  ) {
    this.shardsTotal = ownedCount(partition, shardCount)
  }

  /** A shard handed to the pool: from now on its acknowledged ranges are tracked as they come. */
  started(shard: number): void {
    const before = this.results.get(shard)
    this.liveAcked.set(shard, before ? before.acked.map(([a, b]): Range => [a, b]) : [])
    this.changed.add(shard)
  }

  /** A shard marked started that never ran: it is again what it was before. */
  unstart(shard: number): void {
    if (this.liveAcked.delete(shard)) this.changed.add(shard)
  }

  applyDelta(d: ProgressDelta): void {
    let s = this.live.get(d.shard)
    if (!s) this.live.set(d.shard, (s = zero()))
    add(s, d)
    const acked = this.liveAcked.get(d.shard)
    if (acked && d.acked.length > 0) {
      for (const [a, b] of d.acked) addRange(acked, a, b)
      this.changed.add(d.shard)
    }
  }

  /** The shard's own result is the truth: its live deltas and any earlier result are dropped. */
  applyResult(r: ShardResult): void {
    this.live.delete(r.shard)
    this.liveAcked.delete(r.shard)
    this.changed.add(r.shard)
    const before = this.results.get(r.shard)
    if (before) {
      add(this.final, before, -1)
      if (before.status === 'completed') this.completed--
    }
    this.results.set(r.shard, r)
    add(this.final, r)
    if (r.status === 'completed') this.completed++
  }

  /** Takes the shard results of an earlier run of this same load (an account file); one not of this plan is refused. */
  restore(results: readonly ShardResult[]): void {
    for (const r of results) {
      const last = r.acked[r.acked.length - 1]
      if (r.shard >= this.shardCount || !owns(this.partition, r.shard) || (last !== undefined && last[1] > r.planned)) {
        throw new InvalidRequestError('resume-from', `shard ${r.shard} does not belong to this load's plan of ${this.shardCount} shards (partition ${describePartition(this.partition)})`)
      }
      this.applyResult(r)
    }
  }

  result(shard: number): ShardResult | undefined {
    return this.results.get(shard)
  }

  /** Every shard result so far, in shard order (what an account file keeps). */
  shardResults(): ShardResult[] {
    return [...this.results.values()].sort((a, b) => a.shard - b.shard)
  }

  /**
   * What changed per shard since the last call (the load store records it): a finished shard's
   * result, or a running shard's acknowledged ranges and counts so far.
   */
  takeChanged(): ShardRow[] {
    const rows: ShardRow[] = []
    for (const shard of this.changed) {
      const acked = this.liveAcked.get(shard)
      const base = this.results.get(shard)
      if (!acked) {
        rows.push(base ? { shard, status: base.status, result: base } : { shard, status: 'none' })
        continue
      }
      const s = this.live.get(shard) ?? zero()
      rows.push({
        shard,
        status: 'running',
        progress: {
          shard,
          acked: acked.map(([a, b]): Range => [a, b]),
          ...(base?.doubt?.length ? { doubt: base.doubt } : {}),
          bytes: (base?.bytes ?? 0) + s.bytes,
          batches: (base?.batches ?? 0) + s.batches,
          retries: (base?.retries ?? 0) + s.retries,
          splits: (base?.splits ?? 0) + s.splits,
        },
      })
    }
    this.changed.clear()
    return rows
  }

  markChanged(shards: readonly number[]): void {
    for (const s of shards) this.changed.add(s)
  }

  /** Shards not yet complete: never run, stopped part-way or failed. */
  incomplete(): number[] {
    const out: number[] = []
    for (const i of ownedShards(this.partition, this.shardCount)) if (this.results.get(i)?.status !== 'completed') out.push(i)
    return out
  }

  /** `inFlight`: points sent and not yet in a delta (the load's shared counter), counted in doubt */
  account(inFlight = 0): Account {
    const t = { ...this.final }
    for (const s of this.live.values()) add(t, s)
    const inDoubt = (t.inDoubt ?? 0) + inFlight
    return {
      pointsPlanned: this.pointsPlanned,
      pointsWritten: t.written,
      pointsFailed: t.failed,
      pointsInDoubt: inDoubt,
      pointsUnsent: this.pointsPlanned - t.written - t.failed - inDoubt,
      bytesWritten: t.bytes,
      batchesWritten: t.batches,
      retries: t.retries,
      batchesSplit: t.splits,
      shardsDone: this.completed,
      shardsTotal: this.shardsTotal,
    }
  }
}
