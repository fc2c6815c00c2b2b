import { spawn, type ChildProcess } from 'node:child_process'
import { mkdir, open, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'

export interface LocalInfluxdOptions {
  /** holds config, data, wal, meta and the log */
  dir: string
  httpPort: number
  /** influxd's backup/restore RPC listener; must be free too */
  rpcPort: number
  authEnabled?: boolean
  /** request body limit in bytes (influxd's default is 25 MB) */
  maxBodySize?: number
  /** keep running after this process exits (the demo) */
  detached?: boolean
  /** make it overload easily (tests of overload): influxd's own limits, unset by default */
  limits?: InfluxdLimits
  /** HTTP listen address (default 127.0.0.1); 0.0.0.0 inside a network namespace */
  host?: string
  /** run inside this network namespace (`ip netns exec`), for tests across a network */
  netns?: string
  /** the URL this process reaches it at, when that is not the listen address (another namespace) */
  url?: string
}

/** influxd settings that make it refuse writes under load: a small cache, a short write queue. */
export interface InfluxdLimits {
  /** [data] cache-max-memory-size: writes beyond it get 500 "cache-max-memory-size exceeded" */
  cacheMaxMemorySize?: number
  /** [data] cache-snapshot-memory-size: when the cache is flushed to disk */
  cacheSnapshotMemorySize?: number
  /** [http] max-concurrent-write-limit: writes processed at once; others queue */
  maxConcurrentWriteLimit?: number
  /** [http] max-enqueued-write-limit: queued writes beyond it get 503 "request throttled, queue full" */
  maxEnqueuedWriteLimit?: number
  /** [http] enqueued-write-timeout, e.g. "1s": a queued write waiting longer gets 503 */
  enqueuedWriteTimeout?: string
}

/**
 * Config for Debian's influxd 1.x bound to loopback, everything under `dir`. 1.6 takes no flags
 * for this, so a config file states what differs from its defaults.
 */
export function influxdConfig(o: LocalInfluxdOptions): string {
  const l = o.limits ?? {}
  const opt = (key: string, v: number | string | undefined) => (v === undefined ? '' : `  ${key} = ${typeof v === 'string' ? JSON.stringify(v) : v}\n`)
  return `reporting-disabled = true
bind-address = "127.0.0.1:${o.rpcPort}"
[meta]
  dir = "${o.dir}/meta"
[data]
  dir = "${o.dir}/data"
  wal-dir = "${o.dir}/wal"
  query-log-enabled = false
${opt('cache-max-memory-size', l.cacheMaxMemorySize)}${opt('cache-snapshot-memory-size', l.cacheSnapshotMemorySize)}[http]
  bind-address = "${o.host ?? '127.0.0.1'}:${o.httpPort}"
  log-enabled = false
  auth-enabled = ${o.authEnabled ? 'true' : 'false'}
  max-body-size = ${o.maxBodySize ?? 25_000_000}
${opt('max-concurrent-write-limit', l.maxConcurrentWriteLimit)}${opt('max-enqueued-write-limit', l.maxEnqueuedWriteLimit)}${opt('enqueued-write-timeout', l.enqueuedWriteTimeout)}[monitor]
  store-enabled = false
[continuous_queries]
  enabled = false
`
}

export interface LocalInfluxd {
  url: string
  process: ChildProcess
  log: string
}

/** Starts influxd and resolves once `/ping` answers; rejects with the log's tail if it exits or stalls. */
export async function startLocalInfluxd(o: LocalInfluxdOptions, timeoutMs = 30_000): Promise<LocalInfluxd> {
  await mkdir(o.dir, { recursive: true })
  const conf = join(o.dir, 'influxd.conf')
  const log = join(o.dir, 'influxd.log')
  await writeFile(conf, influxdConfig(o))
  const out = await open(log, 'a')
  const [cmd, args] = o.netns ? ['ip', ['netns', 'exec', o.netns, 'influxd', '-config', conf]] : ['influxd', ['-config', conf]]
  const proc = spawn(cmd, args, { stdio: ['ignore', out.fd, out.fd], detached: o.detached ?? false })
  await out.close()
  if (o.detached) proc.unref()
  const url = o.url ?? `http://127.0.0.1:${o.httpPort}`
  try {
    await waitForHttp({ name: 'influxd', url: `${url}/ping`, ok: [204], process: proc, log, timeoutMs })
  } catch (e) {
    proc.kill('SIGKILL')
    throw e
  }
  return { url, process: proc, log }
}

/**
 * Polls `url` until it answers with one of the `ok` statuses. Rejects with the tail of `log` if
 * the process exits first, or after `timeoutMs`.
 */
export async function waitForHttp(o: { name: string; url: string; ok: number[]; process: ChildProcess; log: string; timeoutMs: number }): Promise<void> {
  const deadline = Date.now() + o.timeoutMs
  for (;;) {
    if (o.process.exitCode !== null) {
      throw new Error(`${o.name} exited with ${o.process.exitCode}: ${(await readFile(o.log, 'utf8').catch(() => '')).slice(-1500)}`)
    }
    try {
      if (o.ok.includes((await fetch(o.url)).status)) return
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`${o.name} did not answer on ${o.url} within ${o.timeoutMs} ms; see ${o.log}`)
    await sleep(100)
  }
}
