import { InvalidRequestError } from '../errors.js'
import { planLoad } from '../plan/plan.js'
import { tickDecimals } from '../request/normalize.js'
import type { LoadSpec } from '../request/schema.js'
import type { SinkConfig } from '../sink/target.js'
import { toShardSpec } from '../../workers/messages.js'
import type { ShardPool } from '../../workers/pool.js'
import { runBounded } from '../load/bounded.js'
import { mergeCandle, type ExactCandle } from './candle.js'
import type { ShardCandles } from './expected.js'
import { CandleReader } from './query.js'

/** Candles a verification may hold in memory (symbols × intervals). */
export const MAX_VERIFY_CANDLES = 5_000_000
/** Differences listed in a report; the total is always given. */
export const MAX_LISTED_DIFFERENCES = 200

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
}

/**
 * The candles a load should have produced, regenerated from its seed on the pool (shards in
 * parallel) and merged in shard order. `only` limits it to some symbol indexes.
 */
export async function expectedCandles(spec: LoadSpec, pool: ShardPool, intervalMs: number, only?: number[]): Promise<Map<number, ExactCandle[]>> {
  const plan = planLoad(spec)
  const buckets = Math.ceil((spec.toMs - spec.fromMs) / intervalMs) + 1
  if ((only?.length ?? spec.symbols.length) * buckets > MAX_VERIFY_CANDLES) {
    throw new InvalidRequestError('interval', `too fine for this load: ${spec.symbols.length} symbols × ${buckets} intervals; use a coarser interval`)
  }
  const shardSpec = toShardSpec(spec)
  const results: ShardCandles[] = new Array<ShardCandles>(plan.shardCount)
  await runBounded(plan.shardCount, pool.size * 2, async (shard) => {
    results[shard] = await pool.candles({ spec: shardSpec, shard, intervalMs, ...(only ? { only } : {}) })
  })
  const merged = new Map<number, Map<number, ExactCandle>>()
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
  return new Map<number, ExactCandle[]>([...merged].map(([j, m]) => [j, [...m.values()].sort((a, b) => a.startMs - b.startMs)]))
}

/**
 * Regenerates the load and compares it with the database: points per symbol, then OHLCV candles
 * field by field (prices exactly, in tick units). The report names every difference (symbol,
 * interval start, field, expected vs found), up to MAX_LISTED_DIFFERENCES of them.
 */
export async function verifyLoad(spec: LoadSpec, sink: SinkConfig, pool: ShardPool, interval: { text: string; ms: number }): Promise<VerifyReport> {
  const reader = new CandleReader(sink)
  try {
    return await compare(spec, reader, pool, interval)
  } finally {
    reader.close()
  }
}

async function compare(spec: LoadSpec, reader: CandleReader, pool: ShardPool, interval: { text: string; ms: number }): Promise<VerifyReport> {
  const plan = planLoad(spec)
  const decimals = tickDecimals(spec.market.tickSize)
  const diffs: Difference[] = []
  let total = 0
  const note = (d: Difference) => {
    total++
    if (diffs.length < MAX_LISTED_DIFFERENCES) diffs.push(d)
  }

  const counts = await reader.counts(spec.measurement, spec.fromMs, spec.toMs)
  let found = 0
  for (const n of counts.values()) found += n
  spec.symbols.forEach((symbol, j) => {
    const expected = plan.symbolTotal(j)
    const got = counts.get(symbol) ?? 0
    if (expected !== got) note({ symbol, field: 'count', expected, found: got })
  })
  const known = new Set(spec.symbols)
  for (const [symbol, n] of counts) if (!known.has(symbol)) note({ symbol, field: 'count', expected: 0, found: n })

  const expected = await expectedCandles(spec, pool, interval.ms)
  let compared = 0
  for (let j = 0; j < spec.symbols.length; j++) {
    const symbol = spec.symbols[j]!
    const want = new Map((expected.get(j) ?? []).map((c) => [c.startMs, c]))
    const have = new Map(
      (await reader.candles({ measurement: spec.measurement, symbol, fromMs: spec.fromMs, toMs: spec.toMs, intervalMs: interval.ms }, decimals)).map((c) => [c.startMs, c]),
    )
    const starts = [...new Set([...want.keys(), ...have.keys()])].sort((a, b) => a - b)
    for (const start of starts) {
      compared++
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
  }

  return {
    ok: total === 0,
    measurement: spec.measurement,
    from: spec.from,
    to: spec.to,
    interval: interval.text,
    symbols: spec.symbols.length,
    pointsExpected: spec.trades,
    pointsFound: found,
    candlesCompared: compared,
    differencesTotal: total,
    differences: diffs,
  }
}
