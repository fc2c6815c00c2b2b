// What the load store costs a load: `serve` with its store on disk (the default) against `serve`
// with STATE_DIR=:memory:, or with --before DIR against another build of the tool (a worktree of
// an older commit, built, with node_modules), interleaved A/B/A/B so drift hits both alike.
// Null sink (the client's own ceiling) and a local influxd.
//
//   npm run bench:store [-- --rounds 5 --null-trades 50000000 --influx-trades 5000000 --before /tmp/old]
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { parseArgs } from 'node:util'
import { BIN, influx, influxQuery, machine, median, n, writeResult } from './lib.mjs'

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '5' },
    'null-trades': { type: 'string', default: '50000000' },
    'influx-trades': { type: 'string', default: '5000000' },
    before: { type: 'string' },
    pool: { type: 'string', default: '2' },
  },
})
const rounds = Number(values.rounds)

/** Starts serve from `bin`, resolves with its URL and a stop function. */
async function serve(bin, env) {
  const child = spawn(process.execPath, [bin, 'serve'], { env: { ...process.env, PORT: '0', POOL_SIZE: values.pool, LOG_LEVEL: 'warn', ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  child.stderr.on('data', (c) => (out += c))
  child.stdout.on('data', (c) => (out += c))
  for (let i = 0; i < 400; i++) {
    const m = /listening on (http:\/\/[\d.:]+)/.exec(out)
    if (m) {
      return {
        url: m[1],
        stop: () => new Promise((r) => (child.once('exit', r), child.kill('SIGTERM'))),
      }
    }
    await sleep(25)
  }
  throw new Error(`serve did not start: ${out}`)
}

async function load(url, body) {
  const res = await fetch(`${url}/loads`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
  const { id } = await res.json()
  for (;;) {
    const view = await (await fetch(`${url}/loads/${id}`)).json()
    if (view.result) {
      if (view.status !== 'succeeded') throw new Error(`load ${view.status}: ${JSON.stringify(view.error)}`)
      return view.result
    }
    await sleep(20)
  }
}

const variants = values.before
  ? [
      { name: 'before', bin: join(values.before, 'bin/ohlcv-loadgen.js'), env: {} },
      { name: 'store on disk', bin: BIN, env: {} },
    ]
  : [
      { name: 'STATE_DIR=:memory:', bin: BIN, env: { STATE_DIR: ':memory:' } },
      { name: 'store on disk', bin: BIN, env: {} },
    ]

const db = await influx()
const sinks = [
  { name: 'null sink', env: { SINK: 'null' }, trades: Number(values['null-trades']) },
  { name: 'influxd', env: { INFLUX_URL: db.url }, trades: Number(values['influx-trades']) },
]
const results = []
try {
  for (const sink of sinks) {
    const pps = variants.map(() => [])
    for (let r = 0; r < rounds; r++) {
      for (const [k, v] of variants.entries()) {
        const dir = mkdtempSync(join(tmpdir(), 'ohlcv-bench-store-'))
        const dbName = `bench_store_${r}_${k}`
        const s = await serve(v.bin, { ...sink.env, INFLUX_DB: dbName, STATE_DIR: dir, ...v.env })
        try {
          const result = await load(s.url, { trades: sink.trades, seed: 'bench-store', from: '2024-01-01T00:00:00Z', to: '2024-03-01T00:00:00Z' })
          pps[k].push(result.pointsPerSecond)
        } finally {
          await s.stop()
          rmSync(dir, { recursive: true, force: true })
          if (sink.name === 'influxd') await influxQuery(db.url, `DROP DATABASE ${dbName}`)
        }
      }
    }
    const medians = pps.map(median)
    const row = { sink: sink.name, trades: sink.trades, rounds, variants: variants.map((v, k) => ({ name: v.name, pointsPerSecond: pps[k], median: medians[k] })), change: medians[1] / medians[0] - 1 }
    results.push(row)
    console.log(`${sink.name}, ${n(sink.trades)} trades, ${rounds} rounds interleaved:`)
    for (const v of row.variants) console.log(`  ${v.name.padEnd(20)} median ${n(v.median)} points/s   (${v.pointsPerSecond.map(n).join(', ')})`)
    console.log(`  store on disk: ${(row.change * 100).toFixed(1)}%`)
  }
} finally {
  await db.stop()
}
writeResult('store.json', { machine: machine(), pool: Number(values.pool), before: values.before ? 'the build given by --before' : undefined, results })
