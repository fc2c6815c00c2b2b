#!/usr/bin/env node
// bench:scale: planning time and memory as the load grows (trades, symbols, range), and peak RSS of
// whole loads of growing size. Planning must not build per-shard-per-symbol state up front: the
// plan is arithmetic, shard-edge prices come from a seeded binary-tree (Lévy) construction on
// demand, so time and memory should stay flat or grow slowly.
//   npm run bench:scale
// Environment: RSS_TRADES (whole null-sink loads, default 1000000,10000000,50000000), POOL (default 2).
import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { machine, n, runJson, writeResult } from './lib.mjs'

if (process.argv[2] === '--plan') {
  // Child: plan one load as `run` does before its first shard, and what a worker does to start the
  // last shard (every series count, the first series with its edge prices), then report time and memory.
  const { normalizeRequest } = await import('../dist/src/request/normalize.js')
  const { validateLoadRequest } = await import('../dist/src/request/validate.js')
  const { planLoad } = await import('../dist/src/plan/plan.js')
  const { GbmModel } = await import('../dist/src/market/gbm.js')
  const { Tally } = await import('../dist/src/load/account.js')
  const [trades, symbols, to] = [Number(process.argv[3]), Number(process.argv[4]), process.argv[5]]
  const rss0 = process.memoryUsage().rss
  const t0 = performance.now()
  const names = Array.from({ length: symbols }, (_, i) => `S${i}`)
  const spec = normalizeRequest(validateLoadRequest({ trades, symbols: names, from: '2015-01-01T00:00:00Z', to, seed: 'scale' }), { now: () => 0, newSeed: () => 'x' })
  const plan = planLoad(spec)
  const tally = new Tally(spec.trades, plan.shardCount)
  const shards = tally.incomplete()
  const planMs = performance.now() - t0
  // a worker starting the last shard: every symbol's count, then the first symbol's series, whose
  // edge prices come from the Lévy construction (O(log shards) draws)
  const { allocColumns } = await import('../dist/src/market/trades.js')
  const t1 = performance.now()
  const model = new GbmModel(spec, plan)
  const last = plan.shardCount - 1
  let count = 0
  for (let j = 0; j < symbols; j++) count += plan.seriesCount(j, last).count
  const first = plan.seriesCount(0, last).count
  model.fillSeries(0, last, first, allocColumns(Math.max(1, first)))
  const shardStartMs = performance.now() - t1
  const rss = process.memoryUsage().rss
  console.log(JSON.stringify({ trades, symbols, to, shards: shards.length, planMs, shardStartMs, rssMb: rss / 2 ** 20, rssGrowthMb: (rss - rss0) / 2 ** 20, lastShardTrades: count }))
  process.exit(0)
}

const self = fileURLToPath(import.meta.url)
const plans = []
const ranges = { '1 day': '2015-01-02T00:00:00Z', '1 year': '2016-01-01T00:00:00Z', '10 years': '2025-01-01T00:00:00Z' }
console.log('planning (as run does before the first shard), and a worker starting the last shard (counts, first series):')
for (const trades of [1e6, 1e7, 1e8, 1e9]) {
  for (const symbols of [10, 1000, 10000]) {
    for (const [range, to] of Object.entries(ranges)) {
      if (trades / symbols / ((Date.parse(to) - Date.parse('2015-01-01T00:00:00Z')) * 1e6) > 0.25) continue // cannot fit unique ns timestamps
      const res = spawnSync(process.execPath, [self, '--plan', String(trades), String(symbols), to], { encoding: 'utf8' })
      if (res.status !== 0) throw new Error(res.stderr)
      const r = { ...JSON.parse(res.stdout), range }
      plans.push(r)
      console.log(
        `  ${n(trades).padStart(13)} trades  ${String(symbols).padStart(5)} symbols  ${range.padEnd(8)}  ${String(r.shards).padStart(6)} shards  ` +
          `plan ${r.planMs.toFixed(1).padStart(7)} ms  shard start ${r.shardStartMs.toFixed(1).padStart(7)} ms  RSS ${r.rssMb.toFixed(0)} MB (+${r.rssGrowthMb.toFixed(1)})`,
      )
    }
  }
}

const pool = process.env.POOL ?? '2'
const loads = []
console.log(`\nwhole loads, null sink, pool ${pool}: peak RSS of the process (every thread)`)
for (const trades of (process.env.RSS_TRADES ?? '1000000,10000000,50000000').split(',').map(Number)) {
  const a = runJson(['--sink', 'null', '--trades', String(trades), '--seed', 'scale', '--to', '2024-01-01T00:00:00Z', '--pool-size', pool, '--progress', 'none'])
  loads.push({ trades, peakRssMb: a.client.peakRssMb, pointsPerSecond: a.pointsPerSecond, shards: a.shardsTotal })
  console.log(`  ${n(trades).padStart(13)} trades  ${String(a.shardsTotal).padStart(6)} shards  peak RSS ${a.client.peakRssMb} MB  ${n(a.pointsPerSecond)} points/s`)
}
const m = machine()
writeResult('scale.json', { date: new Date().toISOString(), machine: m, plans, loads })
console.log(`${m.cpus} cores, ${m.model}, node ${m.node}; bench/results/scale.json`)
