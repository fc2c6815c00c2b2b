import { InvalidRequestError } from '../errors.js'
import type { Plan } from '../plan/plan.js'

/**
 * A partition of a load's plan: the shards `shard % count == index`. Every partition plans the
 * whole load from the same request and seed and runs only its own shards, so N machines share a
 * load with no coordination traffic, and their union is byte-identical to one whole run.
 */
export interface Partition {
  index: number
  count: number
}

export const WHOLE: Partition = Object.freeze({ index: 0, count: 1 })

/** At most this many partitions (a load has at most 100,000 shards at 10^10 trades). */
export const MAX_PARTITIONS = 100_000

/** Parses `I/N`; `where` names the flag or variable in the error. */
export function parsePartition(text: string, where: string): Partition {
  const m = /^(\d+)\/(\d+)$/.exec(text.trim())
  if (!m) throw new InvalidRequestError(where, `must be I/N with 0 <= I < N, e.g. 3/20 (got ${JSON.stringify(text)})`)
  return checkPartition(Number(m[1]), Number(m[2]), where)
}

export function checkPartition(index: number, count: number, where: string): Partition {
  if (!Number.isSafeInteger(count) || count < 1 || count > MAX_PARTITIONS) throw new InvalidRequestError(where, `the partition count must be 1..${MAX_PARTITIONS} (got ${count})`)
  if (!Number.isSafeInteger(index) || index < 0 || index >= count) throw new InvalidRequestError(where, `the partition index must be 0..${count - 1} (got ${index})`)
  return { index, count }
}

export function owns(p: Partition, shard: number): boolean {
  return shard % p.count === p.index
}

/** How many of `shardCount` shards the partition owns. */
export function ownedCount(p: Partition, shardCount: number): number {
  return shardCount > p.index ? Math.ceil((shardCount - p.index) / p.count) : 0
}

/** The partition's shards, in order. */
export function* ownedShards(p: Partition, shardCount: number): Generator<number> {
  for (let i = p.index; i < shardCount; i += p.count) yield i
}

/** Trades the partition will write: the sum of its shards' series counts (the whole load: `trades`). */
export function partitionTrades(plan: Plan, p: Partition): number {
  if (p.count === 1) return plan.trades
  let n = 0
  for (const i of ownedShards(p, plan.shardCount)) for (let j = 0; j < plan.symbols.length; j++) n += plan.seriesCount(j, i).count
  return n
}

export function describePartition(p: Partition): string {
  return `${p.index}/${p.count}`
}
