/**
 * The config builders: each checks the settings it needs (settings.ts reads them) and gives one
 * part its own slice (a sink, load options, limits, the coordinator's), frozen where it is kept.
 */
import { availableParallelism } from 'node:os'
import { ConfigError } from './errors.js'
import { redactUrlValue } from './secrets.js'
import { int, label, oneOf, required, type RawSettings } from './settings.js'
import { defaultAllowedHosts } from './api/guard.js'
import { MAX_TRADES } from './model/request.js'
import { checkPartition, MAX_PARTITIONS, parsePartition, WHOLE, type Partition } from './partition/partition.js'
import { DEFAULT_RETRY } from '../shared/retryPolicy.js'
import type { LoadLimits } from './load/limits.js'
import type { SinkConfig } from './sink/target.js'
import type { LoadOptions } from './load/run.js'

function httpUrl(raw: RawSettings): string {
  const v = raw.influxUrl!
  let u: URL
  try {
    u = new URL(v)
  } catch {
    throw new ConfigError(label('influxUrl'), `is not a URL (got ${JSON.stringify(redactUrlValue(v))})`)
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new ConfigError(label('influxUrl'), 'must be http:// or https://')
  if (u.username || u.password) throw new ConfigError(label('influxUrl'), 'must not carry credentials: use INFLUX_USERNAME/INFLUX_PASSWORD')
  return v.replace(/\/+$/, '')
}

/** INFLUX_GZIP as a zlib level, 0 for off: `auto` compresses unless the database is on this machine. */
export function gzipLevel(raw: RawSettings, url: string): number {
  const v = (raw.gzip ?? 'auto').trim().toLowerCase()
  if (v === 'off' || v === 'false' || v === '0') return 0
  if (v === 'on' || v === 'true') return 1
  if (v === 'auto') return isLoopback(new URL(url).hostname.replace(/^\[|\]$/g, '')) ? 0 : 1
  if (/^[1-9]$/.test(v)) return Number(v)
  throw new ConfigError(label('gzip'), `must be auto, on, off or a level 1-9 (got ${JSON.stringify(raw.gzip)})`)
}

export function sinkConfig(raw: RawSettings): SinkConfig {
  const kind = oneOf(raw, 'sink', ['influx', 'null', 'file'] as const)
  if (kind === 'null') return { kind }
  if (kind === 'file') return { kind, out: raw.out! }
  const url = httpUrl(raw)
  const timeoutMs = int(raw, 'timeoutMs', 100, 600_000)
  const gzip = gzipLevel(raw, url)
  const api = oneOf(raw, 'influxApi', ['v1', 'v2', 'v3'] as const)
  if (api === 'v3') {
    return {
      kind: 'influx-v3',
      url,
      db: raw.db!,
      token: raw.token ?? '',
      noSync: oneOf(raw, 'noSync', ['true', 'false'] as const) === 'true',
      acceptPartial: oneOf(raw, 'acceptPartial', ['true', 'false'] as const) === 'true',
      createDb: oneOf(raw, 'createDb', ['true', 'false'] as const) === 'true',
      gzipLevel: gzip,
      timeoutMs,
    }
  }
  if (api === 'v2') {
    return {
      kind: 'influx-v2',
      url,
      org: required(raw, 'org', 'for InfluxDB v2'),
      bucket: required(raw, 'bucket', 'for InfluxDB v2'),
      token: raw.token ?? '',
      gzipLevel: gzip,
      timeoutMs,
    }
  }
  if (raw.password !== undefined && raw.username === undefined) {
    throw new ConfigError(label('username'), 'is required when a password is set')
  }
  return {
    kind: 'influx-v1',
    url,
    db: raw.db!,
    createDb: oneOf(raw, 'createDb', ['true', 'false'] as const) === 'true',
    ...(raw.rp !== undefined ? { rp: raw.rp } : {}),
    ...(raw.username !== undefined ? { username: raw.username, password: raw.password ?? '' } : {}),
    gzipLevel: gzip,
    timeoutMs,
  }
}

export function loadOptions(raw: RawSettings, timeoutMs = 30_000): LoadOptions {
  return {
    maxInFlight: int(raw, 'maxInFlight', 1, 64),
    retry: {
      ...DEFAULT_RETRY,
      maxAttempts: raw.retries === undefined ? DEFAULT_RETRY.maxAttempts : int(raw, 'retries', 1, 1_000_000),
      maxElapsedMs: int(raw, 'retryMaxMs', 0, 86_400_000),
    },
    adaptiveConcurrency: oneOf(raw, 'adaptiveConcurrency', ['true', 'false'] as const) === 'true',
    breaker: {
      threshold: int(raw, 'breakerThreshold', 1, 1000),
      cooldownMs: int(raw, 'breakerCooldownMs', 10, 600_000),
      // A probe is presumed lost once a request could no longer be running.
      probeTimeoutMs: timeoutMs + 2000,
    },
  }
}

export function loadLimits(raw: RawSettings): LoadLimits {
  return {
    maxConcurrentLoads: int(raw, 'maxConcurrentLoads', 1, 1000),
    maxTradesPerLoad: int(raw, 'maxTradesPerLoad', 1, MAX_TRADES),
  }
}

/** Where a run's partition comes from: fixed (flag, PARTITION, Kubernetes), or DNS (compose --scale). */
type PartitionSource = { kind: 'fixed'; partition: Partition } | { kind: 'dns'; service: string; count: number }

/**
 * --partition / PARTITION win; else Kubernetes' JOB_COMPLETION_INDEX (an Indexed Job) with
 * PARTITION_COUNT; else PARTITION_DNS with PARTITION_COUNT; else the whole load.
 */
export function partitionSource(raw: RawSettings, env: NodeJS.ProcessEnv): PartitionSource {
  const fixed = (partition: Partition): PartitionSource => ({ kind: 'fixed', partition })
  if (raw.partition !== undefined) return fixed(parsePartition(raw.partition, 'partition'))
  const jobIndex = env.JOB_COMPLETION_INDEX
  if (jobIndex !== undefined && jobIndex !== '') {
    if (raw.partitionCount === undefined) throw new ConfigError('JOB_COMPLETION_INDEX', 'is set (an Indexed Job): set PARTITION_COUNT to the Job\'s completions too')
    if (!/^\d+$/.test(jobIndex)) throw new ConfigError('JOB_COMPLETION_INDEX', `must be an integer (got ${JSON.stringify(jobIndex)})`)
    return fixed(checkPartition(Number(jobIndex), int(raw, 'partitionCount', 1, MAX_PARTITIONS), 'partition'))
  }
  if (raw.partitionDns !== undefined) {
    if (raw.partitionCount === undefined) throw new ConfigError(label('partitionCount'), 'is required with PARTITION_DNS')
    return { kind: 'dns', service: raw.partitionDns, count: int(raw, 'partitionCount', 1, MAX_PARTITIONS) }
  }
  if (raw.partitionCount !== undefined) throw new ConfigError(label('partitionCount'), 'needs JOB_COMPLETION_INDEX or PARTITION_DNS to say which partition this is (or use --partition I/N)')
  return fixed(WHOLE)
}

const PROGRESS_MODES = ['auto', 'bar', 'lines', 'none'] as const

/** How `run` shows progress on stderr. */
export function progressMode(raw: RawSettings, json: boolean, stderrIsTTY: boolean): 'bar' | 'lines' | 'none' {
  const mode = oneOf(raw, 'progress', PROGRESS_MODES)
  if (mode !== 'auto') return mode
  if (json) return 'none'
  return stderrIsTTY ? 'bar' : 'lines'
}

/** Whether a listen address only accepts connections from this machine. */
function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase()
  return h === 'localhost' || h === '::1' || /^127(\.\d{1,3}){3}$/.test(h) || h === '::ffff:127.0.0.1'
}

/** `run --metrics-port`: the port to serve /metrics on, if asked. */
export function metricsPort(raw: RawSettings): number | undefined {
  return raw.metricsPort === undefined ? undefined : int(raw, 'metricsPort', 0, 65535)
}

export function poolSize(raw: RawSettings): number {
  return raw.poolSize === undefined ? availableParallelism() : int(raw, 'poolSize', 1, 256)
}

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const
export type LogLevel = (typeof LOG_LEVELS)[number]

export interface ServeConfig {
  host: string
  port: number
  poolSize: number
  logLevel: LogLevel
  sink: SinkConfig
  load: LoadOptions
  limits: LoadLimits
  apiToken: string | undefined
  bodyLimit: number
  shutdownGraceMs: number
  allowedHosts: string[]
  maxConnections: number | undefined
  maxStreamsPerLoad: number
  /** the load store's directory, or `:memory:` */
  stateDir: string
  loadHistory: number
}

/** ALLOWED_HOSTS: comma-separated host names (no scheme, no port), or `*`. */
function hostList(raw: RawSettings): string[] {
  if (raw.allowedHosts === undefined) return []
  const hosts = raw.allowedHosts.split(',').map((h) => h.trim()).filter((h) => h !== '')
  for (const h of hosts) {
    if (h !== '*' && !/^(\[[0-9a-f:.]+\]|[a-z0-9.-]+)$/i.test(h)) throw new ConfigError(label('allowedHosts'), `must be host names without scheme or port, or * (got ${JSON.stringify(h)})`)
  }
  return hosts
}

function stateDir(raw: RawSettings): string {
  const dir = raw.stateDir!
  if (dir.trim() === '') throw new ConfigError(label('stateDir'), 'must be a directory, or :memory:')
  return dir
}

/** Everything `serve` needs, validated once at start-up and frozen. */
export function serveConfig(raw: RawSettings): Readonly<ServeConfig> {
  const host = raw.host!
  const apiToken = raw.apiToken
  if (apiToken === undefined && !isLoopback(host)) {
    throw new ConfigError(label('host'), `${host} is reachable from other machines: set API_TOKEN first`)
  }
  if (apiToken !== undefined && apiToken.length < 16) throw new ConfigError(label('apiToken'), 'must be at least 16 characters')
  const sink = sinkConfig(raw)
  return Object.freeze({
    host,
    port: int(raw, 'port', 0, 65535),
    poolSize: poolSize(raw),
    logLevel: oneOf(raw, 'logLevel', LOG_LEVELS),
    sink: Object.freeze(sink),
    load: Object.freeze(loadOptions(raw, 'timeoutMs' in sink ? sink.timeoutMs : undefined)),
    limits: Object.freeze(loadLimits(raw)),
    apiToken,
    bodyLimit: int(raw, 'bodyLimit', 1024, 100 * 1024 * 1024),
    shutdownGraceMs: int(raw, 'shutdownGraceMs', 0, 3_600_000),
    allowedHosts: Object.freeze(defaultAllowedHosts(host, hostList(raw))) as string[],
    maxConnections: raw.maxConnections === undefined ? undefined : int(raw, 'maxConnections', 2, 1_000_000),
    maxStreamsPerLoad: int(raw, 'maxStreamsPerLoad', 1, 10_000),
    stateDir: stateDir(raw),
    loadHistory: int(raw, 'loadHistory', 1, 10_000_000),
  })
}
