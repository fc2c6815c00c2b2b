#!/usr/bin/env node
// Compares pool sizes (and batch sizes) on the same load with a fixed seed, through the real CLI.
// Runs against the null sink (generation + encoding only) and, when INFLUX_URL is set, against that
// InfluxDB too. Each setting runs RUNS times; the table shows the median points/s with min..max.
//   npm run bench:pool                        # null sink
//   INFLUX_URL=http://127.0.0.1:8086 npm run bench:pool
// Environment: TRADES (default 10000000), POOLS (default 1,2,4), BATCHES (default 5000), RUNS (default 3).
import { spawnSync } from 'node:child_process'
import { availableParallelism, cpus } from 'node:os'
import { writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

const bin = fileURLToPath(new URL('../bin/ohlcv-loadgen.js', import.meta.url))
const trades = Number(process.env.TRADES ?? 10_000_000)
const pools = (process.env.POOLS ?? '1,2,4').split(',').map(Number)
const batches = (process.env.BATCHES ?? '5000').split(',').map(Number)
const runs = Number(process.env.RUNS ?? 3)
const sinks = process.env.INFLUX_URL ? ['null', 'influx'] : ['null']

const rows = []
for (const sink of sinks) {
  for (const batch of batches) {
    for (const pool of pools) {
      const rates = []
      let db
      for (let r = 0; r < runs; r++) {
        db = `bench_p${pool}_b${batch}_r${r}`
        const args = ['run', '--json', '--sink', sink, '--trades', String(trades), '--seed', 'bench', '--from', '2024-01-02T00:00:00Z', '--to', '2024-01-03T00:00:00Z', '--pool-size', String(pool), '--batch-size', String(batch)]
        const res = spawnSync(process.execPath, [bin, ...args], { env: { ...process.env, INFLUX_DB: db }, encoding: 'utf8', maxBuffer: 1 << 24 })
        if (res.status !== 0) {
          console.error(`pool ${pool} batch ${batch} ${sink}: exit ${res.status}\n${res.stderr}${res.stdout}`)
          process.exit(1)
        }
        const account = JSON.parse(res.stdout)
        if (account.pointsWritten !== trades) throw new Error(`lost points: ${res.stdout}`)
        rates.push(account.pointsPerSecond)
      }
      rates.sort((a, b) => a - b)
      const row = { sink, pool, batch, trades, median: rates[Math.floor(rates.length / 2)], min: rates[0], max: rates.at(-1) }
      rows.push(row)
      console.log(`${sink.padEnd(6)} pool ${String(pool).padStart(2)}  batch ${String(batch).padStart(6)}  ${row.median.toLocaleString('en-US').padStart(11)} points/s  (${row.min.toLocaleString('en-US')}..${row.max.toLocaleString('en-US')})`)
    }
  }
}
const machine = { cpus: availableParallelism(), model: cpus()[0]?.model, node: process.version }
writeFileSync(new URL('./results/pool.json', import.meta.url), JSON.stringify({ date: new Date().toISOString(), machine, rows }, null, 2))
console.log(`machine: ${machine.cpus} cores, ${machine.model}, node ${machine.node}; JSON in bench/results/pool.json`)
