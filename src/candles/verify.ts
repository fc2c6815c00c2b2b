import { InvalidRequestError } from '../errors.js'
import { ownedShards, owns, WHOLE, type Partition } from '../partition/partition.js'
import { planLoad, type Plan } from '../plan/plan.js'
import { tickDecimals } from '../model/request.js'
import type { LoadSpec } from '../model/request.js'
import type { SinkConfig } from '../sink/target.js'
import { toShardSpec, type ShardCandles } from '../../shared/messages.js'
import { TASKS_PER_WORKER, type ShardPool } from '../../workers/pool.js'
import { runBounded } from '../load/bounded.js'
import { mergeCandle, type ExactCandle } from './candle.js'
import { CandleReader } from './query.js'

/** Candles a verification may hold in memory (symbols × intervals). */
const MAX_VERIFY_CANDLES = 5_000_000
/** Differences listed in a report; the total is always given. */
const MAX_LISTED_DIFFERENCES = 200

export interface Difference {
  symbol: string
  /** interval start (ISO) for candle differences; absent for counts */
  time?: string
  field: 'count' | 'candle' | 'open' | 'high' | 'low' | 'close' | 'volume' | 'trades'
  expected: number | string
  found: number | string
}

export interface VerifyReport {
  ok: boolean
  measurement: string
  from: string
  to: string
  interval: string
  symbols: number
  pointsExpected: number
  pointsFound: number
  candlesCompared: number
  differencesTotal: number
  differences: Difference[]
  /** on serve: why the counts may differ (more points than the dataset has, and who wrote them) */
  hint?: string
}

/** Symbols × intervals a verification regenerates and reads at once: memory stays bounded whatever the load's size. */
const VERIFY_WINDOW_CANDLES = 100_000

/** Candles of some shards, per symbol index, by interval start, merged in shard order. */
type ShardsCandles = Map<number, Map<number, ExactCandle>>

/** Regenerates `shards` on the pool (in parallel) and merges their candles in shard order. */
async function regenerate(spec: LoadSpec, pool: ShardPool, shards: number[], intervalMs: number, only?: number[]): Promise<ShardsCandles> {
  const shardSpec = toShardSpec(spec)
  const results: ShardCandles[] = new Array<ShardCandles>(shards.length)
  await runBounded(shards.length, pool.size * TASKS_PER_WORKER, async (k) => {
    results[k] = await pool.candles({ spec: shardSpec, shard: shards[k]!, intervalMs, ...(only ? { only } : {}) })
  })
  const merged: ShardsCandles = new Map()
  for (const r of results) {
    for (const { j, flat } of r.symbols) {
      let m = merged.get(j)
      if (!m) merged.set(j, (m = new Map<number, ExactCandle>()))
      for (let k = 0; k < flat.length; k += 7) {
        const c: ExactCandle = { startMs: flat[k]!, open: flat[k + 1]!, high: flat[k + 2]!, low: flat[k + 3]!, close: flat[k + 4]!, volume: flat[k + 5]!, trades: flat[k + 6]! }
        const prev = m.get(c.startMs)
        m.set(c.startMs, prev ? mergeCandle(prev, c) : c)
      }
    }
  }
  return merged
}

const tooFine = (symbols: number, buckets: number) =>
  new InvalidRequestError('interval', `too fine for this load: ${symbols} symbols × ${buckets} intervals; use a coarser interval`)

/**
 * The candles a load should have produced, regenerated from its seed on the pool (shards in
 * parallel) and merged in shard order. `only` limits it to some symbol indexes. Holds them all:
 * verify goes window by window instead (shardGroups).
 */
export async function expectedCandles(
  spec: LoadSpec,
  pool: ShardPool,
  intervalMs: number,
  only?: number[],
  partition: Partition = WHOLE,
): Promise<Map<number, ExactCandle[]>> {
  const plan = planLoad(spec)
  const buckets = Math.ceil((spec.toMs - spec.fromMs) / intervalMs) + 1
  if ((only?.length ?? spec.symbols.length) * buckets > MAX_VERIFY_CANDLES) throw tooFine(spec.symbols.length, buckets)
  const merged = await regenerate(spec, pool, [...ownedShards(partition, plan.shardCount)], intervalMs, only)
  return new Map<number, ExactCandle[]>([...merged].map(([j, m]) => [j, [...m.values()].sort((a, b) => a.startMs - b.startMs)]))
}

/**
 * The load's shards in runs of consecutive shards, [first, end), each spanning at most `budget`
 * symbol-intervals (at least one shard): verify regenerates and reads one run at a time. Pure.
 */
function shardGroups(plan: Pick<Plan, 'shardCount' | 'shardBounds'>, symbols: number, intervalMs: number, budget = VERIFY_WINDOW_CANDLES): [number, number][] {
  const groups: [number, number][] = []
  let first = 0
  for (let i = 0; i < plan.shardCount; i++) {
    const span = (plan.shardBounds(i)[1] - plan.shardBounds(first)[0]) / intervalMs + 1
    if (i > first && symbols * span > budget) {
      groups.push([first, i])
      first = i
    }
  }
  groups.push([first, plan.shardCount])
  return groups
}

/**
 * Regenerates the load and compares it with the database: points per symbol, then OHLCV candles
 * field by field (prices exactly, in tick units). The report names every difference (symbol,
 * interval start, field, expected vs found), up to MAX_LISTED_DIFFERENCES of them.
 */
export async function verifyLoad(
  spec: LoadSpec,
  sink: SinkConfig,
  pool: ShardPool,
  interval: { text: string; ms: number },
  partition: Partition = WHOLE,
): Promise<VerifyReport> {
  const reader = new CandleReader(sink)
  try {
    return await compare(spec, reader, pool, interval, partition)
  } finally {
    reader.close()
  }
}

/**
 * One partition's share of the database: per owned shard, points per symbol inside the shard's
 * time range; candles are compared only for intervals that lie wholly inside an owned shard (an
 * interval across a shard edge also holds another partition's trades).
 */
async function partitionCounts(spec: LoadSpec, reader: CandleReader, partition: Partition, note: (d: Difference) => void): Promise<{ expected: number; found: number }> {
  const plan = planLoad(spec)
  const shards = [...ownedShards(partition, plan.shardCount)]
  let expected = 0
  let found = 0
  await runBounded(shards.length, 4, async (k) => {
    const shard = shards[k]!
    const [a, b] = plan.shardBounds(shard)
    const counts = await reader.counts(spec.measurement, a, b)
    const time = new Date(a).toISOString()
    spec.symbols.forEach((symbol, j) => {
      const want = plan.seriesCount(j, shard).count
      const got = counts.get(symbol) ?? 0
      expected += want
      found += got
      if (want !== got) note({ symbol, time, field: 'count', expected: want, found: got })
    })
  })
  return { expected, found }
}

/** Whether [start, start + ms) lies inside one shard the partition owns. */
function insideOwnedShard(plan: Plan, partition: Partition, start: number, ms: number): boolean {
  let lo = 0
  let hi = plan.shardCount - 1
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1
    if (plan.shardBounds(mid)[0] <= start) lo = mid
    else hi = mid - 1
  }
  const [a, b] = plan.shardBounds(lo)
  return owns(partition, lo) && a <= start && start + ms <= b
}

async function compare(spec: LoadSpec, reader: CandleReader, pool: ShardPool, interval: { text: string; ms: number }, partition: Partition): Promise<VerifyReport> {
  const plan = planLoad(spec)
  const decimals = tickDecimals(spec.market.tickSize)
  const diffs: Difference[] = []
  let total = 0
  const note = (d: Difference) => {
    total++
    if (diffs.length < MAX_LISTED_DIFFERENCES) diffs.push(d)
  }

  const whole = partition.count === 1
  let found = 0
  let pointsExpected = spec.trades
  if (whole) {
    const counts = await reader.counts(spec.measurement, spec.fromMs, spec.toMs)
    for (const n of counts.values()) found += n
    spec.symbols.forEach((symbol, j) => {
      const expected = plan.symbolTotal(j)
      const got = counts.get(symbol) ?? 0
      if (expected !== got) note({ symbol, field: 'count', expected, found: got })
    })
    const known = new Set(spec.symbols)
    for (const [symbol, n] of counts) if (!known.has(symbol)) note({ symbol, field: 'count', expected: 0, found: n })
  } else {
    ;({ expected: pointsExpected, found } = await partitionCounts(spec, reader, partition, note))
  }
  const inScope = (start: number) => whole || insideOwnedShard(plan, partition, start, interval.ms)

  // Window by window: regenerate a run of shards, read the same range from the database, compare,
  // and let both go. Each symbol's candle across a run's end is carried into the next run and
  // compared there, once the shards after it have added their trades.
  const carry = new Map<number, ExactCandle>()
  let compared = 0
  let lo = spec.fromMs
  for (const [first, end] of shardGroups(plan, spec.symbols.length, interval.ms)) {
    const [groupFrom, groupTo] = [plan.shardBounds(first)[0], plan.shardBounds(end - 1)[1]]
    if (spec.symbols.length * ((groupTo - groupFrom) / interval.ms + 1) > MAX_VERIFY_CANDLES) {
      throw tooFine(spec.symbols.length, Math.ceil((groupTo - groupFrom) / interval.ms) + 1)
    }
    const last = end === plan.shardCount
    const cut = last ? Infinity : Math.floor(groupTo / interval.ms) * interval.ms
    const hi = last ? spec.toMs : cut
    const owned = Array.from({ length: end - first }, (_, k) => first + k).filter((i) => owns(partition, i))
    // the pool regenerates while the database answers: neither waits for the other
    const [regenerated, found] = await Promise.all([regenerate(spec, pool, owned, interval.ms), readWindow(spec, reader, decimals, lo, hi, interval.ms)])
    for (let j = 0; j < spec.symbols.length; j++) {
      const want = regenerated.get(j) ?? new Map<number, ExactCandle>()
      const held = carry.get(j)
      if (held) {
        const next = want.get(held.startMs)
        want.set(held.startMs, next ? mergeCandle(held, next) : held)
        carry.delete(j)
      }
      for (const [start, c] of want) {
        if (start >= cut) {
          carry.set(j, c)
          want.delete(start)
        }
      }
      compared += compareCandles(spec.symbols[j]!, want, found[j]!, inScope, decimals, note)
    }
    lo = Math.max(lo, hi)
  }

  return {
    ok: total === 0,
    measurement: spec.measurement,
    from: spec.from,
    to: spec.to,
    interval: interval.text,
    symbols: spec.symbols.length,
    pointsExpected,
    pointsFound: found,
    candlesCompared: compared,
    differencesTotal: total,
    differences: diffs,
  }
}

/** Each symbol's candles in [lo, hi) from the database, by interval start; four symbols read at once. */
async function readWindow(spec: LoadSpec, reader: CandleReader, decimals: number, lo: number, hi: number, intervalMs: number): Promise<Map<number, ExactCandle>[]> {
  const found = spec.symbols.map(() => new Map<number, ExactCandle>())
  if (lo >= hi) return found
  await runBounded(spec.symbols.length, 4, async (j) => {
    for await (const w of reader.candleWindows({ measurement: spec.measurement, symbol: spec.symbols[j]!, fromMs: lo, toMs: hi, intervalMs }, decimals)) {
      for (const c of w) found[j]!.set(c.startMs, c)
    }
  })
  return found
}

/** Compares one symbol's regenerated and stored candles field by field; returns how many intervals it compared. */
function compareCandles(
  symbol: string,
  want: Map<number, ExactCandle>,
  have: Map<number, ExactCandle>,
  inScope: (start: number) => boolean,
  decimals: number,
  note: (d: Difference) => void,
): number {
  const starts = [...new Set([...want.keys(), ...have.keys()])].filter(inScope).sort((a, b) => a - b)
  for (const start of starts) {
    const time = new Date(start).toISOString()
    const w = want.get(start)
    const h = have.get(start)
    if (!w || !h) {
      note({ symbol, time, field: 'candle', expected: w ? 'present' : 'absent', found: h ? 'present' : 'absent' })
      continue
    }
    for (const field of ['open', 'high', 'low', 'close', 'volume', 'trades'] as const) {
      if (w[field] !== h[field]) {
        const isPrice = field !== 'volume' && field !== 'trades'
        const f = isPrice ? 10 ** decimals : 1
        note({ symbol, time, field, expected: w[field] / f, found: h[field] / f })
      }
    }
  }
  return starts.length
}
