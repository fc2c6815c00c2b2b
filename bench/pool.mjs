#!/usr/bin/env node
// bench:pool: the same load (fixed seed) at every pool size and batch size, against the null sink
// (generation + encoding only) and against a real InfluxDB (one it starts itself unless INFLUX_URL
// is set). Each setting runs RUNS times through the real CLI. Per row: points/s (median, min..max),
// client CPU µs per point (every thread: user + sys / points, while loading and for the whole process), batch write latency
// p50/p99, peak RSS. Names the knee (smallest pool, then batch, within 5% of the best) and shows the
// generator's rate per worker beside the database's, so it is plain which one is the limit.
// Writes bench/results/pool.json and bench/results/pool.svg.
//   npm run bench:pool
// Environment: TRADES (default 2000000), POOLS (default 1,2,4,... up to 2x the cores),
// BATCHES (default 1000,5000,10000,20000), RUNS (default 3), SINKS (default null,influx), INFLUX_URL.
import { influx, influxQuery, machine, median, n, runJson, writeResult } from './lib.mjs'

const cores = machine().cpus
const defaultPools = []
for (let p = 1; p <= 2 * cores; p *= 2) defaultPools.push(p)
if (!defaultPools.includes(2 * cores)) defaultPools.push(2 * cores)
const trades = Number(process.env.TRADES ?? 2_000_000)
const pools = (process.env.POOLS ?? defaultPools.join(',')).split(',').map(Number)
const batches = (process.env.BATCHES ?? '1000,5000,10000,20000').split(',').map(Number)
const runs = Math.max(1, Number(process.env.RUNS ?? 3))
const sinks = (process.env.SINKS ?? 'null,influx').split(',')
const load = ['--trades', String(trades), '--seed', 'bench', '--from', '2024-01-02T00:00:00Z', '--to', '2024-01-03T00:00:00Z']

const server = sinks.includes('influx') ? await influx() : undefined
const rows = []
try {
  for (const sink of sinks) {
    for (const batch of batches) {
      for (const pool of pools) {
        const got = []
        for (let r = 0; r < runs; r++) {
          const db = `bench_${pool}_${batch}_${r}`
          const env = sink === 'influx' ? { INFLUX_URL: server.url, INFLUX_DB: db } : {}
          const a = runJson([...load, '--sink', sink, '--pool-size', String(pool), '--batch-size', String(batch), '--progress', 'none'], env)
          if (a.pointsWritten !== trades) throw new Error(`lost points: ${JSON.stringify(a)}`)
          got.push(a)
          // keep the server's state comparable from run to run
          if (sink === 'influx') await influxQuery(server.url, `DROP DATABASE "${db}"`)
        }
        const rates = got.map((a) => a.pointsPerSecond)
        const row = {
          sink,
          pool,
          batch,
          trades,
          runs,
          pointsPerSecond: median(rates),
          min: Math.min(...rates),
          max: Math.max(...rates),
          cpuMicrosPerPoint: median(got.map((a) => a.client.cpuMicrosPerPoint)),
          loadCpuMicrosPerPoint: median(got.map((a) => a.client.loadCpuMicrosPerPoint)),
          latencyP50Ms: median(got.map((a) => a.writeLatencyMs.p50)),
          latencyP99Ms: median(got.map((a) => a.writeLatencyMs.p99)),
          peakRssMb: Math.max(...got.map((a) => a.client.peakRssMb)),
        }
        rows.push(row)
        console.log(
          `${sink.padEnd(6)} pool ${String(pool).padStart(2)}  batch ${String(batch).padStart(6)}  ${n(row.pointsPerSecond).padStart(11)} points/s (${n(row.min)}..${n(row.max)})` +
            `  CPU ${row.loadCpuMicrosPerPoint.toFixed(3)} µs/pt loading, ${row.cpuMicrosPerPoint.toFixed(3)} whole  p50 ${row.latencyP50Ms} ms  p99 ${row.latencyP99Ms} ms  RSS ${row.peakRssMb} MB`,
        )
      }
    }
  }
} finally {
  await server?.stop()
}

/** Smallest pool, then smallest batch, whose median is within 5% of the best. */
function knee(sink) {
  const mine = rows.filter((r) => r.sink === sink)
  if (mine.length === 0) return undefined
  const best = Math.max(...mine.map((r) => r.pointsPerSecond))
  const good = mine.filter((r) => r.pointsPerSecond >= 0.95 * best).sort((a, b) => a.pool - b.pool || a.batch - b.batch)
  return { best, ...good[0] }
}

const knees = Object.fromEntries(sinks.map((s) => [s, knee(s)]))
const perWorker = median(rows.filter((r) => r.sink === 'null' && r.pool === 1).map((r) => r.pointsPerSecond))
console.log('')
for (const [sink, k] of Object.entries(knees)) {
  if (!k) continue
  console.log(`knee (${sink}): pool ${k.pool}, batch ${k.batch}: ${n(k.pointsPerSecond)} points/s (best ${n(k.best)})`)
}
if (rows.some((r) => r.sink === 'null' && r.pool === 1)) console.log(`generator alone: ${n(perWorker)} trades/s per worker thread (null sink, pool 1)`)
const db = knees.influx
if (db && perWorker) {
  const capacity = perWorker * Math.min(db.pool, cores)
  console.log(
    `database: ${n(db.pointsPerSecond)} points/s at the knee, where the generator could make ${n(capacity)}/s: ` +
      (capacity > 1.2 * db.pointsPerSecond ? 'the database is the limit' : 'the generator is the limit'),
  )
}
const m = machine()
writeResult('pool.json', { date: new Date().toISOString(), machine: m, trades, runs, knees, generatorPerWorker: perWorker, rows })
writeResult('pool.svg', chart(rows, m))
console.log(`machine: ${m.cpus} cores, ${m.model}, node ${m.node}; bench/results/pool.json and pool.svg`)

/** One panel per sink: points/s by pool size, one line per batch size. Plain SVG, no dependencies. */
function chart(all, m) {
  const W = 460
  const H = 300
  const pad = { l: 70, r: 20, t: 40, b: 45 }
  const colours = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b']
  const panels = [...new Set(all.map((r) => r.sink))]
  const parts = []
  panels.forEach((sink, p) => {
    const mine = all.filter((r) => r.sink === sink)
    const xs = [...new Set(mine.map((r) => r.pool))].sort((a, b) => a - b)
    const ymax = Math.max(...mine.map((r) => r.max)) * 1.1
    const x = (pool) => pad.l + (xs.indexOf(pool) / Math.max(1, xs.length - 1)) * (W - pad.l - pad.r)
    const y = (v) => H - pad.b - (v / ymax) * (H - pad.t - pad.b)
    const ox = p * W
    parts.push(`<g transform="translate(${ox},0)">`)
    parts.push(`<text x="${W / 2}" y="22" text-anchor="middle" font-weight="bold">${sink === 'null' ? 'null sink (generation + encoding)' : 'InfluxDB (local)'}</text>`)
    parts.push(`<line x1="${pad.l}" y1="${H - pad.b}" x2="${W - pad.r}" y2="${H - pad.b}" stroke="#333"/><line x1="${pad.l}" y1="${pad.t}" x2="${pad.l}" y2="${H - pad.b}" stroke="#333"/>`)
    for (let i = 0; i <= 4; i++) {
      const v = (ymax / 4) * i
      parts.push(`<text x="${pad.l - 6}" y="${y(v) + 4}" text-anchor="end" font-size="11">${(v / 1e6).toFixed(1)}M</text><line x1="${pad.l}" y1="${y(v)}" x2="${W - pad.r}" y2="${y(v)}" stroke="#ddd"/>`)
    }
    for (const pool of xs) parts.push(`<text x="${x(pool)}" y="${H - pad.b + 16}" text-anchor="middle" font-size="11">${pool}</text>`)
    parts.push(`<text x="${W / 2}" y="${H - 8}" text-anchor="middle" font-size="12">pool size (worker threads)</text>`)
    parts.push(`<text x="14" y="${H / 2}" text-anchor="middle" font-size="12" transform="rotate(-90 14 ${H / 2})">points/s (median)</text>`)
    ;[...new Set(mine.map((r) => r.batch))].sort((a, b) => a - b).forEach((batch, i) => {
      const line = mine.filter((r) => r.batch === batch).sort((a, b) => a.pool - b.pool)
      const c = colours[i % colours.length]
      parts.push(`<polyline fill="none" stroke="${c}" stroke-width="2" points="${line.map((r) => `${x(r.pool)},${y(r.pointsPerSecond)}`).join(' ')}"/>`)
      for (const r of line) parts.push(`<circle cx="${x(r.pool)}" cy="${y(r.pointsPerSecond)}" r="3" fill="${c}"/>`)
      parts.push(`<text x="${W - pad.r - 4}" y="${pad.t + 14 * (i + 1)}" text-anchor="end" font-size="11" fill="${c}">batch ${batch}</text>`)
    })
    parts.push('</g>')
  })
  const width = W * panels.length
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${H + 20}" font-family="sans-serif">\n<rect width="100%" height="100%" fill="white"/>\n${parts.join('\n')}\n<text x="${width / 2}" y="${H + 14}" text-anchor="middle" font-size="10" fill="#666">${m.cpus} cores, ${m.model}, node ${m.node}</text>\n</svg>\n`
}
