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
}

/**
 * Config for Debian's influxd 1.x bound to loopback, everything under `dir`. 1.6 takes no flags
 * for this, so a config file states what differs from its defaults.
 */
export function influxdConfig(o: LocalInfluxdOptions): string {
  return `reporting-disabled = true
bind-address = "127.0.0.1:${o.rpcPort}"
[meta]
  dir = "${o.dir}/meta"
[data]
  dir = "${o.dir}/data"
  wal-dir = "${o.dir}/wal"
  query-log-enabled = false
[http]
  bind-address = "127.0.0.1:${o.httpPort}"
  log-enabled = false
  auth-enabled = ${o.authEnabled ? 'true' : 'false'}
  max-body-size = ${o.maxBodySize ?? 25_000_000}
[monitor]
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
  const proc = spawn('influxd', ['-config', conf], { stdio: ['ignore', out.fd, out.fd], detached: o.detached ?? false })
  await out.close()
  if (o.detached) proc.unref()
  const url = `http://127.0.0.1:${o.httpPort}`
  const deadline = Date.now() + timeoutMs
  for (;;) {
    if (proc.exitCode !== null) {
      throw new Error(`influxd exited with ${proc.exitCode}: ${(await readFile(log, 'utf8').catch(() => '')).slice(-1500)}`)
    }
    try {
      if ((await fetch(`${url}/ping`)).status === 204) return { url, process: proc, log }
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      proc.kill('SIGKILL')
      throw new Error(`influxd did not answer on ${url} within ${timeoutMs} ms; see ${log}`)
    }
    await sleep(100)
  }
}
