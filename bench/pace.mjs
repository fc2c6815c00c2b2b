#!/usr/bin/env node
// bench:pace: how closely a paced load keeps its rate when nothing else slows it. The same paced
// load as test/faults-fake.test.ts (60,000 points at 20,000/s in batches of 500, two workers)
// runs RUNS times through the real CLI against a local server that answers every write 204 at
// once (a fake that gives InfluxDB 1.x's documented answers: /ping 204 with X-Influxdb-Version,
// CREATE DATABASE 200 {"results":[{"statement_id":0}]}, a write 204). Per run: the rate between the
// server's first and last request, and what the load says it achieved. Run it on an idle machine:
// the test keeps bounds that hold beside a busy core, this measures within 1 %.
// Writes bench/results/pace.json.
//   npm run --silent build && node bench/pace.mjs
// Environment: RATE (default 20000), TRADES (default 60000), BATCH (default 500), RUNS (default 5).
import { spawn } from 'node:child_process'
import { createServer } from 'node:http'
import { BIN, machine, median, n, writeResult } from './lib.mjs'

const rate = Number(process.env.RATE ?? 20_000)
const trades = Number(process.env.TRADES ?? 60_000)
const batch = Number(process.env.BATCH ?? 500)
const runs = Math.max(1, Number(process.env.RUNS ?? 5))

let writes = []
const server = createServer((req, res) => {
  req.resume()
  req.on('end', () => {
    if (req.url?.startsWith('/ping')) return res.writeHead(204, { 'x-influxdb-version': '1.8.10' }).end()
    if (req.url?.startsWith('/query')) return res.writeHead(200, { 'content-type': 'application/json' }).end('{"results":[{"statement_id":0}]}')
    writes.push(performance.now())
    res.writeHead(204).end()
  })
})
await new Promise((r) => server.listen(0, '127.0.0.1', r))
const url = `http://127.0.0.1:${server.address().port}`

/** the CLI as a child (spawnSync would block the server in this process) */
function run(args) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, 'run', '--json', ...args], { env: { ...process.env, INFLUX_URL: url, INFLUX_DB: 'pace' }, stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    let err = ''
    child.stdout.on('data', (c) => (out += c))
    child.stderr.on('data', (c) => (err += c))
    child.on('close', (code) => (code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`exit ${code}: ${err}${out}`))))
  })
}

const rows = []
try {
  for (let i = 0; i < runs; i++) {
    writes = []
    const a = await run(['--trades', String(trades), '--seed', 'paced', '--batch-size', String(batch), '--rate-per-second', String(rate), '--pool-size', '2', '--progress', 'none'])
    if (a.pointsWritten !== trades) throw new Error(`lost points: ${JSON.stringify(a)}`)
    const span = (writes.at(-1) - writes[0]) / 1000
    const measured = (trades - batch) / span
    const achieved = a.attempts[0].pace.achievedPointsPerSecond
    rows.push({ measured: Math.round(measured), achieved })
    console.log(`run ${i + 1}: ${n(measured)} points/s between first and last request (${((measured / rate - 1) * 100).toFixed(2)} %), the load says ${n(achieved)} achieved`)
  }
} finally {
  server.close()
}
const m = median(rows.map((r) => r.measured))
const a = median(rows.map((r) => r.achieved))
console.log(`median of ${runs}: ${n(m)} measured, ${n(a)} achieved, asked ${n(rate)}; within 1 %: ${Math.abs(m - rate) / rate < 0.01 && a >= rate * 0.99 ? 'yes' : 'no'}`)
writeResult('pace.json', { machine: machine(), rate, trades, batch, runs: rows, median: { measured: m, achieved: a } })
