import { execFileSync, spawn } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { startLocalInfluxd } from '../../tools/localInfluxd.js'
import { fileURLToPath } from 'node:url'
import { BIN, type CliResult } from './cli.js'

const RELAY = fileURLToPath(new URL('./delay-relay.mjs', import.meta.url))

/**
 * A small network of Linux network namespaces for tests of what crosses a wire (needs root and
 * iproute2): one "database host" running influxd, and generator hosts, each joined to it by its
 * own veth pair. The test process reaches influxd over a management link of its own, never shaped
 * or cut. Links are shaped with `tc tbf` (this kernel has no netem) and cut with `ip link set down`.
 */
export interface NetLab {
  /** influxd as the generators reach it, by generator */
  influxFor(gen: number): string
  /** influxd as this process reaches it (counts, queries) */
  influxUrl: string
  /** runs the CLI on generator host `gen` */
  run(gen: number, args: string[], env?: Record<string, string>): { done: Promise<CliResult>; kill(signal: NodeJS.Signals): void }
  /**
   * A relay on the database host holding every chunk `delayMs` each way (RTT 2 x delayMs), in front
   * of influxd: this kernel has no netem. Returns influxd's URL through it, as generator `gen` reaches it.
   */
  delayed(gen: number, delayMs: number): Promise<string>
  /** caps the generator's link towards the database (its egress: the writes) */
  shape(gen: number, rate: string): void
  cut(gen: number): void
  restore(gen: number): void
  destroy(): Promise<void>
}

const ip = (...args: string[]) => execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] })
const inNs = (ns: string, ...cmd: string[]) => execFileSync('ip', ['netns', 'exec', ns, ...cmd], { stdio: ['ignore', 'ignore', 'pipe'] })

/** Why this machine cannot build the lab, or undefined when it can. */
export function netLabUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return 'network namespaces need root'
  const probe = `ohlcv-probe-${process.pid}`
  try {
    ip('netns', 'add', probe)
    ip('netns', 'del', probe)
  } catch (e) {
    return `the kernel refused a network namespace: ${String((e as { stderr?: Buffer }).stderr ?? e).trim()}`
  }
  return undefined
}

export async function startNetLab(generators: number): Promise<NetLab> {
  const run = process.pid % 250
  const tag = `o${run}`
  const db = `ohlcv-${tag}-db`
  const gens = Array.from({ length: generators }, (_, i) => `ohlcv-${tag}-g${i}`)
  const dir = await mkdtemp(join(tmpdir(), 'ohlcv-netlab-'))
  const made: string[] = []
  const children = new Set<ReturnType<typeof spawn>>()
  try {
    ip('netns', 'add', db)
    made.push(db)
    inNs(db, 'ip', 'link', 'set', 'lo', 'up')
    // management link: this process <-> the database host
    ip('link', 'add', `${tag}m0`, 'type', 'veth', 'peer', 'name', `${tag}m1`)
    ip('link', 'set', `${tag}m1`, 'netns', db)
    ip('addr', 'add', `10.250.${run}.1/30`, 'dev', `${tag}m0`)
    ip('link', 'set', `${tag}m0`, 'up')
    inNs(db, 'ip', 'addr', 'add', `10.250.${run}.2/30`, 'dev', `${tag}m1`)
    inNs(db, 'ip', 'link', 'set', `${tag}m1`, 'up')
    for (const [i, g] of gens.entries()) {
      ip('netns', 'add', g)
      made.push(g)
      inNs(g, 'ip', 'link', 'set', 'lo', 'up')
      ip('link', 'add', `${tag}g${i}`, 'type', 'veth', 'peer', 'name', `${tag}d${i}`)
      ip('link', 'set', `${tag}g${i}`, 'netns', g)
      ip('link', 'set', `${tag}d${i}`, 'netns', db)
      inNs(g, 'ip', 'addr', 'add', `10.${200 + i}.${run}.2/30`, 'dev', `${tag}g${i}`)
      inNs(db, 'ip', 'addr', 'add', `10.${200 + i}.${run}.1/30`, 'dev', `${tag}d${i}`)
      inNs(g, 'ip', 'link', 'set', `${tag}g${i}`, 'up')
      inNs(db, 'ip', 'link', 'set', `${tag}d${i}`, 'up')
    }
  } catch (e) {
    for (const ns of made) ip('netns', 'del', ns)
    try {
      ip('link', 'del', `${tag}m0`)
    } catch {
      // went with its namespace
    }
    throw e
  }
  const influxd = await startLocalInfluxd({ dir, httpPort: 8086, rpcPort: 8088, host: '0.0.0.0', netns: db, url: `http://10.250.${run}.2:8086` })
  return {
    influxUrl: influxd.url,
    influxFor: (gen) => `http://10.${200 + gen}.${run}.1:8086`,
    run(gen, args, env = {}) {
      const child = spawn('ip', ['netns', 'exec', gens[gen]!, process.execPath, BIN, ...args], {
        cwd: dir,
        env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      })
      children.add(child)
      let stdout = ''
      let stderr = ''
      child.stdout.on('data', (c: Buffer) => (stdout += c.toString()))
      child.stderr.on('data', (c: Buffer) => (stderr += c.toString()))
      const done = new Promise<CliResult>((resolve) =>
        child.on('close', (code) => {
          children.delete(child)
          resolve({ code, stdout, stderr })
        }),
      )
      return { done, kill: (signal) => child.kill(signal) }
    },
    async delayed(gen, delayMs) {
      const port = 18_000 + gen
      const relay = spawn('ip', ['netns', 'exec', db, process.execPath, RELAY, '0.0.0.0', String(port), '127.0.0.1', '8086', String(delayMs)], { stdio: ['ignore', 'pipe', 'inherit'] })
      children.add(relay)
      await new Promise<void>((resolve, reject) => {
        relay.stdout.once('data', () => resolve())
        relay.once('exit', (code) => reject(new Error(`the delay relay exited with ${code}`)))
      })
      return `http://10.${200 + gen}.${run}.1:${port}`
    },
    shape(gen, rate) {
      // a token bucket on the generator's egress: what its writes can use of the link
      inNs(gens[gen]!, 'tc', 'qdisc', 'replace', 'dev', `${tag}g${gen}`, 'root', 'tbf', 'rate', rate, 'burst', '256kb', 'latency', '100ms')
    },
    cut: (gen) => inNs(gens[gen]!, 'ip', 'link', 'set', `${tag}g${gen}`, 'down'),
    restore: (gen) => inNs(gens[gen]!, 'ip', 'link', 'set', `${tag}g${gen}`, 'up'),
    async destroy() {
      for (const c of children) c.kill('SIGKILL')
      influxd.process.kill('SIGTERM')
      await Promise.race([new Promise((r) => influxd.process.once('exit', r)), sleep(5000)])
      influxd.process.kill('SIGKILL')
      for (const ns of made) {
        try {
          ip('netns', 'del', ns)
        } catch {
          // gone already
        }
      }
      try {
        ip('link', 'del', `${tag}m0`)
      } catch {
        // went with its namespace
      }
      await rm(dir, { recursive: true, force: true })
    },
  }
}
