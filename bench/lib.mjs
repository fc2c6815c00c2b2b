// Shared by the bench scripts: the CLI as a child process, a local influxd, statistics, machine info.
import { spawnSync } from 'node:child_process'
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { availableParallelism, cpus, tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { startLocalInfluxd } from '../dist/tools/localInfluxd.js'

export const BIN = fileURLToPath(new URL('../bin/ohlcv-loadgen.js', import.meta.url))
export const RESULTS = fileURLToPath(new URL('./results/', import.meta.url))

export const machine = () => ({ cpus: availableParallelism(), model: cpus()[0]?.model ?? 'unknown', node: process.version })

export const n = (x) => Math.round(x).toLocaleString('en-US')

export function median(xs) {
  const s = [...xs].sort((a, b) => a - b)
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2
}

/** Runs `ohlcv-loadgen run --json ...`; returns the parsed account or exits with the CLI's output. */
export function runJson(args, env = {}) {
  const res = spawnSync(process.execPath, [BIN, 'run', '--json', ...args], { env: { ...process.env, ...env }, encoding: 'utf8', maxBuffer: 1 << 26 })
  if (res.status !== 0) {
    console.error(`ohlcv-loadgen run ${args.join(' ')}: exit ${res.status}\n${res.stderr}${res.stdout}`)
    process.exit(1)
  }
  return JSON.parse(res.stdout)
}

function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer()
    s.once('error', reject)
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address()
      s.close(() => resolve(port))
    })
  })
}

/** INFLUX_URL if set; else a local influxd (Debian's 1.x) on free ports with a temporary data dir. */
export async function influx() {
  if (process.env.INFLUX_URL) return { url: process.env.INFLUX_URL, stop: async () => {}, own: false }
  const dir = mkdtempSync(join(tmpdir(), 'ohlcv-bench-influxd-'))
  const s = await startLocalInfluxd({ dir, httpPort: await freePort(), rpcPort: await freePort() })
  return {
    url: s.url,
    own: true,
    stop: async () => {
      s.process.kill('SIGTERM')
      await new Promise((r) => s.process.once('exit', r))
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

export async function influxQuery(url, q) {
  const res = await fetch(`${url}/query`, { method: 'POST', body: new URLSearchParams({ q }) })
  if (!res.ok) throw new Error(`${q}: ${res.status} ${await res.text()}`)
}

export function writeResult(name, data) {
  mkdirSync(RESULTS, { recursive: true })
  writeFileSync(join(RESULTS, name), typeof data === 'string' ? data : `${JSON.stringify(data, null, 2)}\n`)
}
