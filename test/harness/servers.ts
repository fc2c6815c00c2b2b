import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { startLocalInfluxd, waitForHttp, type InfluxdLimits } from '../../tools/localInfluxd.js'
import { InfluxV1Client } from '../../src/influx/v1.js'

export interface RunningServer {
  url: string
  dir: string
  process: ChildProcess
  stop(): Promise<void>
}

/** A free loopback port (the OS picks it; the tiny race before the server binds is acceptable here). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer()
    s.once('error', reject)
    s.listen(0, '127.0.0.1', () => {
      const addr = s.address()
      const port = typeof addr === 'object' && addr ? addr.port : 0
      s.close(() => resolve(port))
    })
  })
}

function stopper(proc: ChildProcess, dir: string): () => Promise<void> {
  return async () => {
    if (proc.exitCode === null && proc.signalCode === null) {
      const exited = new Promise((r) => proc.once('exit', r))
      proc.kill('SIGTERM')
      await Promise.race([exited, sleep(5000)])
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL')
    }
    await rm(dir, { recursive: true, force: true })
  }
}

/** Starts Debian's influxd (1.x) on free loopback ports with everything under a temp dir. */
export async function startInfluxd(opts: { authEnabled?: boolean; maxBodySize?: number; limits?: InfluxdLimits } = {}): Promise<RunningServer> {
  const dir = await mkdtemp(join(tmpdir(), 'ohlcv-influxd-'))
  const s = await startLocalInfluxd({ dir, httpPort: await freePort(), rpcPort: await freePort(), ...opts })
  return { url: s.url, dir, process: s.process, stop: stopper(s.process, dir) }
}

/** An influxd a test may freeze, kill and start again on the same port and data dir. */
export interface FaultyInfluxd {
  url: string
  /** SIGSTOP: the process keeps its sockets but answers nothing */
  freeze(): void
  thaw(): void
  /** SIGKILL, as a crash would: no shutdown, no flush beyond what influxd already made durable */
  kill(): Promise<void>
  /** starts influxd again with the same config, port and data */
  start(): Promise<void>
  stop(): Promise<void>
}

export async function startFaultyInfluxd(): Promise<FaultyInfluxd> {
  const dir = await mkdtemp(join(tmpdir(), 'ohlcv-influxd-'))
  const options = { dir, httpPort: await freePort(), rpcPort: await freePort() }
  let proc = (await startLocalInfluxd(options)).process
  const exited = (p: ChildProcess) => p.exitCode !== null || p.signalCode !== null
  return {
    url: `http://127.0.0.1:${options.httpPort}`,
    freeze: () => proc.kill('SIGSTOP'),
    thaw: () => proc.kill('SIGCONT'),
    async kill() {
      if (exited(proc)) return
      const gone = new Promise((r) => proc.once('exit', r))
      proc.kill('SIGKILL')
      await gone
    },
    async start() {
      proc = (await startLocalInfluxd(options)).process
    },
    async stop() {
      proc.kill('SIGCONT')
      await stopper(proc, dir)()
    },
  }
}

/** Points of a measurement in an influxd database: the count of `trade_id`, which every trade has. */
export async function countInflux(url: string, db: string, measurement = 'trades'): Promise<number> {
  const c = new InfluxV1Client({ kind: 'influx-v1', url, db, timeoutMs: 30_000 }, 1)
  try {
    return await c.countPoints(measurement)
  } finally {
    c.close()
  }
}

/** Starts Debian's victoria-metrics, which accepts InfluxDB's v2 write API (/api/v2/write). */
export async function startVictoria(): Promise<RunningServer> {
  const dir = await mkdtemp(join(tmpdir(), 'ohlcv-vm-'))
  const port = await freePort()
  const log = join(dir, 'vm.log')
  const { openSync } = await import('node:fs')
  const fd = openSync(log, 'a')
  // Its default retention would drop points older than a month: keep everything.
  const proc = spawn(
    'victoria-metrics',
    ['-httpListenAddr', `127.0.0.1:${port}`, '-storageDataPath', join(dir, 'data'), '-retentionPeriod', '100y'],
    { stdio: ['ignore', fd, fd] },
  )
  const url = `http://127.0.0.1:${port}`
  await waitForHttp({ name: 'victoria-metrics', url: `${url}/health`, ok: [200], process: proc, log, timeoutMs: 30_000 })
  return { url, dir, process: proc, stop: stopper(proc, dir) }
}

/**
 * Points VictoriaMetrics holds for a measurement: each InfluxDB field becomes a series named
 * `<measurement>_<field>`; count the samples of `trade_id` (every trade has one) after a flush.
 */
export async function countVictoria(url: string, measurement: string, extra = ''): Promise<number> {
  const q = new URLSearchParams({ 'match[]': `${measurement}_trade_id${extra}` })
  const count = async (): Promise<number> => {
    await fetch(`${url}/internal/force_flush`)
    const text = await (await fetch(`${url}/api/v1/export?${q.toString()}`)).text()
    let n = 0
    for (const line of text.split('\n')) if (line) n += (JSON.parse(line) as { values: unknown[] }).values.length
    return n
  }
  // force_flush makes the samples searchable, but VictoriaMetrics registers new series in its
  // index asynchronously: a read right after a load can miss them (seen once: 0 of 80,000). Read
  // until two reads agree on a non-zero count, for at most 5 s; the caller compares it exactly.
  const deadline = Date.now() + 5000
  let last = await count()
  while (Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 200))
    const n = await count()
    if (n === last && n > 0) return n
    last = n
  }
  return last
}

/** Starts Debian's Prometheus on a free loopback port, scraping `target` (host:port) every second. */
export async function startPrometheus(target: string): Promise<RunningServer> {
  const dir = await mkdtemp(join(tmpdir(), 'ohlcv-prom-'))
  const port = await freePort()
  const { openSync, writeFileSync } = await import('node:fs')
  const config = join(dir, 'prometheus.yml')
  writeFileSync(
    config,
    `global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: ohlcv-loadgen\n    static_configs:\n      - targets: ["${target}"]\n`,
  )
  const log = join(dir, 'prometheus.log')
  const fd = openSync(log, 'a')
  const proc = spawn(
    'prometheus',
    ['--config.file', config, '--storage.tsdb.path', join(dir, 'data'), '--web.listen-address', `127.0.0.1:${port}`],
    { stdio: ['ignore', fd, fd] },
  )
  const url = `http://127.0.0.1:${port}`
  await waitForHttp({ name: 'prometheus', url: `${url}/-/ready`, ok: [200], process: proc, log, timeoutMs: 30_000 })
  return { url, dir, process: proc, stop: stopper(proc, dir) }
}
