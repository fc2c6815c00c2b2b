#!/usr/bin/env node
// bench:ceiling: how close `run` comes to the database's own ceiling. The same data is first
// written to a file (run --sink file), then, in alternating rounds (A B A B ...), replayed into
// InfluxDB by a minimal keep-alive client (pre-encoded bodies, nothing else to do) and loaded by
// `run` itself. The headline figure is run points/s ÷ replay points/s, from one session, so server
// drift hits both sides alike. Starts its own influxd unless INFLUX_URL is set.
//   npm run bench:ceiling
// Environment: TRADES (default 3000000), POOL (default: cores), BATCH (default 10000),
// IN_FLIGHT (replay requests in flight, default 2 x POOL, as run has), ROUNDS (default 5), INFLUX_URL.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import http from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { influx, influxQuery, machine, median, n, runJson, writeResult } from './lib.mjs'

const trades = Number(process.env.TRADES ?? 3_000_000)
const pool = Number(process.env.POOL ?? machine().cpus)
const batch = Number(process.env.BATCH ?? 10_000)
const inFlight = Number(process.env.IN_FLIGHT ?? 2 * pool)
const rounds = Number(process.env.ROUNDS ?? 5)
const load = ['--trades', String(trades), '--seed', 'ceiling', '--from', '2024-01-02T00:00:00Z', '--to', '2024-01-03T00:00:00Z', '--batch-size', String(batch), '--progress', 'none']

// The data, encoded once by the tool itself, cut into bodies of `batch` lines.
const dir = mkdtempSync(join(tmpdir(), 'ohlcv-ceiling-'))
const file = join(dir, 'load.lp')
runJson([...load, '--sink', 'file', '--out', file, '--pool-size', String(pool)])
const data = readFileSync(file)
rmSync(dir, { recursive: true, force: true })
const bodies = []
for (let start = 0, lines = 0, i = 0; i < data.length; i++) {
  if (data[i] === 10 && ++lines === batch) {
    bodies.push({ buf: data.subarray(start, i + 1), lines })
    start = i + 1
    lines = 0
  }
  if (i === data.length - 1 && start < data.length) bodies.push({ buf: data.subarray(start), lines })
}
const total = bodies.reduce((s, b) => s + b.lines, 0)
if (total !== trades) throw new Error(`encoded ${total} lines, expected ${trades}`)

/** Posts every body with `inFlight` requests outstanding on keep-alive sockets; returns points/s. */
async function replay(url, db) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: inFlight })
  const target = new URL(`/write?db=${db}&precision=ns`, url)
  let next = 0
  const t0 = performance.now()
  const cpu0 = process.cpuUsage()
  const worker = async () => {
    while (next < bodies.length) {
      const { buf } = bodies[next++]
      await new Promise((resolve, reject) => {
        const req = http.request(target, { method: 'POST', agent, headers: { 'content-length': buf.length } }, (res) => {
          res.resume()
          res.on('end', () => (res.statusCode === 204 ? resolve() : reject(new Error(`replay: ${res.statusCode}`))))
        })
        req.on('error', reject)
        req.end(buf)
      })
    }
  }
  await Promise.all(Array.from({ length: inFlight }, worker))
  const seconds = (performance.now() - t0) / 1000
  const cpu = process.cpuUsage(cpu0)
  agent.destroy()
  return { pointsPerSecond: Math.round(trades / seconds), cpuMicrosPerPoint: (cpu.user + cpu.system) / trades }
}

const server = await influx()
const replays = []
const runs = []
try {
  for (let r = 0; r < rounds; r++) {
    await influxQuery(server.url, 'CREATE DATABASE "ceiling_replay"')
    const a = await replay(server.url, 'ceiling_replay')
    await influxQuery(server.url, 'DROP DATABASE "ceiling_replay"')
    const b = runJson([...load, '--pool-size', String(pool)], { INFLUX_URL: server.url, INFLUX_DB: 'ceiling_run' })
    await influxQuery(server.url, 'DROP DATABASE "ceiling_run"')
    replays.push(a)
    runs.push({ pointsPerSecond: b.pointsPerSecond, cpuMicrosPerPoint: b.client.cpuMicrosPerPoint, loadCpuMicrosPerPoint: b.client.loadCpuMicrosPerPoint })
    console.log(`round ${r + 1}: replay ${n(a.pointsPerSecond)} points/s, run ${n(b.pointsPerSecond)} points/s (${(b.pointsPerSecond / a.pointsPerSecond).toFixed(3)})`)
  }
} finally {
  await server.stop()
}
const replayRate = median(replays.map((x) => x.pointsPerSecond))
const runRate = median(runs.map((x) => x.pointsPerSecond))
const ratio = runRate / replayRate
// each round pairs a replay with the run right after it: the median of those ratios is less
// sensitive to the server's drift (a slow round slows both) than the ratio of the medians
const pairedRatio = median(runs.map((r, i) => r.pointsPerSecond / replays[i].pointsPerSecond))
console.log(`\nrun ÷ replay = ${ratio.toFixed(3)}  (run ${n(runRate)} points/s, replay ${n(replayRate)} points/s; median of ${rounds} interleaved rounds)`)
console.log(`median of the rounds' own ratios: ${pairedRatio.toFixed(3)}`)
console.log(`client CPU: run ${median(runs.map((x) => x.loadCpuMicrosPerPoint)).toFixed(3)} µs/point while loading, ${median(runs.map((x) => x.cpuMicrosPerPoint)).toFixed(3)} for the whole process (start-up included); replay ${median(replays.map((x) => x.cpuMicrosPerPoint)).toFixed(3)} µs/point (posting only)`)
const m = machine()
writeResult('ceiling.json', { date: new Date().toISOString(), machine: m, trades, pool, batch, inFlight, rounds, ratio, pairedRatio, runPointsPerSecond: runRate, replayPointsPerSecond: replayRate, replays, runs })
console.log(`pool ${pool}, batch ${batch}, ${inFlight} replay requests in flight; ${m.cpus} cores, ${m.model}, node ${m.node}; bench/results/ceiling.json`)
