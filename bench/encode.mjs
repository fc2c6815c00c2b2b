#!/usr/bin/env node
// Micro-benchmark of generation and encoding alone, on one thread (tinybench): one shard of the
// bench load (100,000 trades, 5 symbols, 1 day), split into its parts so a regression shows where.
//   npm run bench:encode            # TIME_MS per task (default 3000)
// Prints trades/s per thread for: generation (arrivals, prices, sizes into columns), encoding
// (columns to line protocol bytes), and both (what a worker does per shard, minus the sink).
import { availableParallelism, cpus } from 'node:os'
import { mkdirSync, writeFileSync } from 'node:fs'
import { Bench } from 'tinybench'
import { Buffer } from 'node:buffer'
import { gzipSync } from 'node:zlib'
import { Body, TradeEncoder } from '../dist/src/lineprotocol/encoder.js'
import { GbmModel } from '../dist/src/market/gbm.js'
import { shardSeries } from '../dist/src/market/series.js'
import { EXCHANGES } from '../dist/src/market/trades.js'
import { planLoad } from '../dist/src/plan/plan.js'
import { normalizeRequest } from '../dist/src/request/normalize.js'
import { validateLoadRequest } from '../dist/src/request/validate.js'

const time = Number(process.env.TIME_MS ?? 3000)
const request = { trades: 10_000_000, seed: 'bench', from: '2024-01-02T00:00:00Z', to: '2024-01-03T00:00:00Z', distribution: process.env.DISTRIBUTION ?? 'poisson' }
const spec = normalizeRequest(validateLoadRequest(request), { now: () => 0, newSeed: () => 'bench' })
const plan = planLoad(spec)
const model = new GbmModel(spec, plan)
const shard = 3
const [startMs] = plan.shardBounds(shard)
let perShard = 0
for (let j = 0; j < spec.symbols.length; j++) perShard += plan.seriesCount(j, shard).count

// Pre-generated columns for the encode-only task (copies: shardSeries reuses its buffer).
const series = [...shardSeries(plan, model, shard)].map((s) => ({ ...s, cols: Object.fromEntries(Object.entries(s.cols).map(([k, v]) => [k, typeof v === 'number' ? v : v.slice()])) }))
const encoder = new TradeEncoder(spec.measurement, EXCHANGES, model.tickDecimals)
const body = new Body(spec.batchSize * 160)

/** Encodes a series in batches of batchSize lines into one reused body, as a worker does. */
function encodeSeries(s) {
  encoder.useSymbol(spec.symbols[s.j])
  for (let k = 0; k < s.count; ) {
    const take = Math.min(s.count - k, spec.batchSize - body.lines)
    encoder.encode(s.cols, k, k + take, startMs, s.offset + 1 + k, body)
    k += take
    if (body.lines === spec.batchSize) body.reset()
  }
}

// The shard's bodies as the sink gets them, for the gzip rows (--gzip: what compression costs a worker per point).
const bodies = []
{
  const b = new Body(spec.batchSize * 160)
  for (const s of series) {
    encoder.useSymbol(spec.symbols[s.j])
    for (let k = 0; k < s.count; ) {
      const take = Math.min(s.count - k, spec.batchSize - b.lines)
      encoder.encode(s.cols, k, k + take, startMs, s.offset + 1 + k, b)
      k += take
      if (b.lines === spec.batchSize) {
        bodies.push(Buffer.from(b.view()))
        b.reset()
      }
    }
  }
  if (b.lines > 0) bodies.push(Buffer.from(b.view()))
}
const plainBytes = bodies.reduce((t, b) => t + b.length, 0)
const ratio = {}
for (const level of [1, 6]) ratio[level] = plainBytes / bodies.reduce((t, b) => t + gzipSync(b, { level }).length, 0)

const bench = new Bench({ time, warmupTime: 500 })
bench
  .add('generate', () => {
    for (const _ of shardSeries(plan, model, shard)) void _
  })
  .add('encode', () => {
    for (const s of series) encodeSeries(s)
  })
  .add('generate+encode', () => {
    for (const s of shardSeries(plan, model, shard)) encodeSeries(s)
  })
  .add('gzip level 1', () => {
    for (const b of bodies) gzipSync(b, { level: 1 })
  })
  .add('gzip level 6', () => {
    for (const b of bodies) gzipSync(b, { level: 6 })
  })
await bench.run()

const rows = bench.tasks.map((t) => {
  const r = t.result
  const meanMs = r.latency?.mean ?? r.mean
  const rme = r.latency?.rme ?? r.rme
  return { task: t.name, tradesPerSecond: Math.round(perShard / (meanMs / 1000)), nsPerTrade: Number(((meanMs * 1e6) / perShard).toFixed(1)), rmePercent: Number(rme.toFixed(2)), samples: r.latency?.samples?.length ?? r.samples?.length }
})
for (const r of rows) {
  const gz = /^gzip level (\d)$/.exec(r.task)
  if (gz) r.compressionRatio = Number(ratio[gz[1]].toFixed(2))
  console.log(`${r.task.padEnd(16)} ${r.tradesPerSecond.toLocaleString('en-US').padStart(11)} trades/s per thread  ${String(r.nsPerTrade).padStart(6)} ns/trade  ±${r.rmePercent}%  (${r.samples} samples of ${perShard.toLocaleString('en-US')} trades)${gz ? `  bytes / ${r.compressionRatio}` : ''}`)
}
const machine = { cpus: availableParallelism(), model: cpus()[0]?.model, node: process.version }
mkdirSync(new URL('./results/', import.meta.url), { recursive: true })
writeFileSync(new URL('./results/encode.json', import.meta.url), `${JSON.stringify({ date: new Date().toISOString(), machine, distribution: request.distribution, rows }, null, 2)}\n`)
console.log(`machine: ${machine.cpus} cores, ${machine.model}, node ${machine.node}; JSON in bench/results/encode.json`)
