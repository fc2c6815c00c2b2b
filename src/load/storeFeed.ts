import type { ShardRow } from '../store/loadStore.js'
import type { Tally } from './account.js'
import type { Account, Attempt } from '../model/account.js'
import { attemptSince, type AttemptBase } from './outcome.js'

/**
 * What a load hands the load store while it runs: its shards' progress since the last write, and
 * the run in progress as an attempt, so that a crash loses at most a checkpoint's worth.
 */
export class StoreFeed {
  private base: AttemptBase | undefined

  constructor(
    private readonly tally: Tally,
    private readonly account: () => Account,
    private readonly opens: () => number,
  ) {}

  /** A run began (undefined: it ended, and its attempt is in the load's attempts). */
  setBase(base: AttemptBase | undefined): void {
    this.base = base
  }

  /** The run in progress so far, as an attempt (what the load store keeps in case of a crash). */
  attemptSoFar(): Attempt | undefined {
    const b = this.base
    if (!b) return undefined
    return attemptSince(b, performance.now() - b.t0, { account: this.account(), opens: this.opens() })
  }

  /** Per-shard progress since the last call (see Tally.takeChanged). */
  takeChangedShards(): ShardRow[] {
    return this.tally.takeChanged()
  }

  /** Marks rows taken by takeChangedShards() as changed again (they could not be written). */
  keepChangedShards(rows: readonly ShardRow[]): void {
    this.tally.markChanged(rows.map((r) => r.shard))
  }
}
