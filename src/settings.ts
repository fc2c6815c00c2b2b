import { ConfigError } from './errors.js'
import { DEFAULT_BREAKER } from '../shared/breaker.js'
import { DEFAULT_RETRY } from '../shared/retryPolicy.js'
import { DEFAULT_LIMITS } from './load/limits.js'

/**
 * Settings come from CLI flags first, then the environment, then these defaults. Each setting has
 * one flag and one variable; the table is the single source for `--help` and docs/settings.md (settingsTable).
 */
export const SETTINGS = {
  sink: { flag: 'sink', env: 'SINK', help: 'influx | null | file', default: 'influx', doc: '`influx`, `null` (count only: measures generation) or `file`', defaultDoc: '`influx`' },
  out: { flag: 'out', env: 'OUT', help: 'file sink output path, - for stdout', default: '-', doc: 'file sink: output path, `-` for stdout', defaultDoc: '`-`' },
  influxUrl: { flag: 'influx-url', env: 'INFLUX_URL', help: 'InfluxDB base URL', default: 'http://127.0.0.1:8086', doc: 'InfluxDB base URL (http/https, no credentials in it)', defaultDoc: '`http://127.0.0.1:8086`' },
  influxApi: { flag: 'influx-api', env: 'INFLUX_API', help: 'v1 (/write) | v2 (/api/v2/write) | v3 (/api/v3/write_lp, InfluxDB 3)', default: 'v1', doc: '`v1` (`/write`), `v2` (`/api/v2/write`, InfluxDB 2.x) or `v3` (`/api/v3/write_lp`, InfluxDB 3 Core, Enterprise, Cloud; see [Sinks](faults.md#sinks))', defaultDoc: '`v1`' },
  db: { flag: 'db', env: 'INFLUX_DB', help: 'v1/v3 database (created if missing)', default: 'ohlcv', doc: 'v1 and v3 database; created if missing', defaultDoc: '`ohlcv`' },
  rp: { flag: 'rp', env: 'INFLUX_RP', help: 'v1 retention policy', default: undefined, doc: 'v1 retention policy', defaultDoc: 'server default' },
  username: { flag: 'username', env: 'INFLUX_USERNAME', help: 'v1 user', default: undefined, doc: 'v1 user (sent as HTTP Basic auth)' },
  password: { flag: 'password', env: 'INFLUX_PASSWORD', help: 'v1 password (prefer the env var)', default: undefined, doc: 'v1 password' },
  org: { flag: 'org', env: 'INFLUX_ORG', help: 'v2 organisation', default: undefined, doc: 'v2 organisation (required for v2)' },
  bucket: { flag: 'bucket', env: 'INFLUX_BUCKET', help: 'v2 bucket', default: undefined, doc: 'v2 bucket (required for v2)' },
  token: { flag: 'token', env: 'INFLUX_TOKEN', help: 'v2/v3 API token (prefer the env var)', default: undefined, doc: 'v2 and v3 API token (sent as `Authorization: Token` on v2, `Bearer` on v3)' },
  noSync: { flag: 'no-sync', env: 'INFLUX_NO_SYNC', help: 'v3: acknowledged before the WAL is persisted (faster; a server crash may lose acknowledged points)', default: 'false', doc: 'v3: `true` (or `--no-sync`) writes with `no_sync=true`: InfluxDB 3 acknowledges before its WAL is persisted, so writes return sooner, and a crash of the server may lose points it acknowledged (the account would then say more than the database holds)', defaultDoc: '`false`' },
  acceptPartial: { flag: 'accept-partial', env: 'INFLUX_ACCEPT_PARTIAL', help: 'v3: a batch with rejected lines keeps its other lines (true|false)', default: 'false', doc: 'v3: `true` writes with `accept_partial=true` (a batch with rejected lines stores the others, counted exactly from the lines the server names, up to the 100 it lists); `false`: a batch with a rejected line stores nothing, so the account never depends on that list', defaultDoc: '`false`' },
  gzip: { flag: 'gzip', env: 'INFLUX_GZIP', help: 'compress write bodies: auto (on unless the URL is loopback) | on | off | 1-9 (level); --gzip alone is on', default: 'auto', doc: 'compress write bodies (`Content-Encoding: gzip`, in the workers): `auto` is on (level 1) unless `INFLUX_URL` is a loopback address, where it only costs CPU; `on` is level 1, `1`-`9` a zlib level, `off`; `--gzip` alone is `on`. v2 compresses through its client at zlib\'s level 6', defaultDoc: '`auto`' },
  timeoutMs: { flag: 'timeout-ms', env: 'INFLUX_TIMEOUT_MS', help: 'per-request deadline: the whole answer within it', default: '30000', doc: 'deadline of each request to the database, from sending to the answer\'s last byte (not only silence between bytes: a server that trickles its answer is cut off too)', defaultDoc: '30000' },
  maxInFlight: { flag: 'max-in-flight', env: 'MAX_IN_FLIGHT', help: 'batches in flight per worker', default: '2', doc: 'write requests in flight per worker thread', defaultDoc: '2' },
  createDb: { flag: 'create-db', env: 'INFLUX_CREATE_DB', help: 'v1/v3: create the database if missing (true|false)', default: 'true', doc: 'v1 and v3: `true` creates the database before a load (v3: `POST /api/v3/configure/database`, an existing one is fine); `false` leaves it to exist (a missing one fails the first write with 404, at once)', defaultDoc: '`true`' },
  retries: { flag: 'retries', env: 'WRITE_RETRIES', help: 'write attempts per batch, first included (unset: as many as --retry-max-ms allows)', default: undefined, doc: 'attempts per batch while the circuit is closed, the first included', defaultDoc: 'as many as `WRITE_RETRY_MAX_MS` allows' },
  retryMaxMs: { flag: 'retry-max-ms', env: 'WRITE_RETRY_MAX_MS', help: 'retry budget: a batch gives up once the database has taken no write for this long', default: String(DEFAULT_RETRY.maxElapsedMs), doc: 'retry budget: a batch keeps retrying (attempts, backoffs of at most a quarter of it, waits on an open circuit) until the database has acknowledged no write of the sink for this long, counted from the batch\'s start or the sink\'s last acknowledged write, whichever is later; a database that stores some writes while refusing others is not given up on', defaultDoc: '60000' },
  adaptiveConcurrency: { flag: 'adaptive-concurrency', env: 'ADAPTIVE_CONCURRENCY', help: 'halve the writes in flight while the server signals overload, raise them again while it keeps up (true|false)', default: 'true', doc: '`true`: while the server signals overload, all workers together halve the writes in flight, then raise them by one per round of successes (see [Faults](faults.md#faults)); `false`: always pool size x `MAX_IN_FLIGHT`', defaultDoc: '`true`' },
  breakerThreshold: { flag: 'breaker-threshold', env: 'BREAKER_THRESHOLD', help: 'retryable failures in a row that open the circuit', default: String(DEFAULT_BREAKER.threshold), doc: 'retryable failures in a row that open the sink\'s circuit', defaultDoc: '5' },
  breakerCooldownMs: { flag: 'breaker-cooldown-ms', env: 'BREAKER_COOLDOWN_MS', help: 'open circuit: wait before a probe', default: String(DEFAULT_BREAKER.cooldownMs), doc: 'how long the circuit stays open before one probe', defaultDoc: '2000' },
  poolSize: { flag: 'pool-size', env: 'POOL_SIZE', help: 'worker threads', default: undefined, doc: 'worker threads', defaultDoc: 'CPU count' },
  host: { flag: 'host', env: 'HOST', help: 'serve (and run --metrics-port): listen address', default: '127.0.0.1', doc: '`serve`: listen address; anything but loopback needs `API_TOKEN`', defaultDoc: '`127.0.0.1`' },
  port: { flag: 'port', env: 'PORT', help: 'serve: listen port', default: '3000', doc: '`serve`: listen port', defaultDoc: '3000' },
  apiToken: { flag: 'api-token', env: 'API_TOKEN', help: 'serve: bearer token every route but /healthz and /metrics needs (prefer the env var)', default: undefined, doc: '`serve`: every route but `/healthz` and `/metrics` needs `Authorization: Bearer <token>` (at least 16 characters; prefer the variable)' },
  maxConcurrentLoads: { flag: 'max-concurrent-loads', env: 'MAX_CONCURRENT_LOADS', help: 'serve: loads running at once (429 beyond)', default: String(DEFAULT_LIMITS.maxConcurrentLoads), doc: '`serve`: loads running at once; more get `429` with `Retry-After`', defaultDoc: '4' },
  maxTradesPerLoad: { flag: 'max-trades-per-load', env: 'MAX_TRADES_PER_LOAD', help: 'trades allowed in one load', default: String(DEFAULT_LIMITS.maxTradesPerLoad), doc: 'trades allowed in one load (`run` and `serve`); more is a 400 / exit 2', defaultDoc: '10^10' },
  allowedHosts: { flag: 'allowed-hosts', env: 'ALLOWED_HOSTS', help: 'serve: Host names to answer to besides loopback names and the listen address, comma-separated; * for any', default: undefined, doc: '`serve`: `Host` names to answer to besides loopback names and the listen address, comma-separated; `*` for any', defaultDoc: 'any when listening on every interface, else none' },
  maxConnections: { flag: 'max-connections', env: 'MAX_CONNECTIONS', help: 'serve: open connections at most; at the cap the oldest idle one is closed (default: half the open-files limit, at most 4096)', default: undefined, doc: '`serve`: open connections at most; at the cap the oldest idle one is closed', defaultDoc: 'half the open-files limit, at most 4096' },
  maxStreamsPerLoad: { flag: 'max-streams-per-load', env: 'MAX_STREAMS_PER_LOAD', help: 'serve: event streams (GET /loads/:id/events) open at once per load', default: '16', doc: '`serve`: event streams open at once per load (and per running capacity search)', defaultDoc: '16' },
  bodyLimit: { flag: 'body-limit', env: 'BODY_LIMIT', help: 'serve: request body limit in bytes', default: String(1024 * 1024), doc: '`serve`: request body limit in bytes (`413` beyond)', defaultDoc: '1048576' },
  stateDir: { flag: 'state-dir', env: 'STATE_DIR', help: 'serve: directory of the load store (loads.sqlite); :memory: keeps loads in memory only', default: '.ohlcv-loadgen', doc: '`serve`: directory of the load store (`loads.sqlite`, SQLite): loads outlive the coordinator, an interrupted one can be resumed (see [API](api.md#history-and-crash-recovery)); `:memory:` keeps them in memory only', defaultDoc: '`.ohlcv-loadgen` in the working directory' },
  loadHistory: { flag: 'load-history', env: 'LOAD_HISTORY', help: 'serve: loads the store keeps; the oldest finished ones are removed beyond it', default: '1000', doc: '`serve`: loads the store keeps; beyond it the oldest finished ones are removed', defaultDoc: '1000' },
  shutdownGraceMs: { flag: 'shutdown-grace-ms', env: 'SHUTDOWN_GRACE_MS', help: 'serve: on SIGTERM, wait this long for loads before cancelling them', default: '30000', doc: '`serve`: on SIGTERM/SIGINT, how long running loads may go on before they are cancelled', defaultDoc: '30000' },
  partition: { flag: 'partition', env: 'PARTITION', help: 'run, verify: I/N, own only the shards with shard % N == I', default: undefined, doc: '`run`, `verify`: own only the shards `shard % N == I` (see [Scale out](scale-out.md))', metavar: 'I/N', defaultDoc: 'the whole load' },
  partitionCount: { flag: 'partition-count', env: 'PARTITION_COUNT', help: 'N, with Kubernetes\' JOB_COMPLETION_INDEX or with PARTITION_DNS', default: undefined, doc: 'N, with Kubernetes\' `JOB_COMPLETION_INDEX` (the index) or with `PARTITION_DNS`', metavar: 'N' },
  partitionDns: { flag: 'partition-dns', env: 'PARTITION_DNS', help: 'a service name resolving to every replica (docker compose --scale): the index is this replica\'s place among them', default: undefined, doc: 'a name resolving to every replica (`docker compose --scale`): the index is this replica\'s place among the sorted addresses', metavar: 'NAME' },
  metricsPort: { flag: 'metrics-port', env: 'METRICS_PORT', help: 'run: serve /metrics on this port while the load runs', default: undefined, doc: '`run`: serve `/metrics` on this port (on `HOST`) while the load runs' },
  progress: { flag: 'progress', env: 'PROGRESS', help: 'run: auto (a bar on a terminal, a line every 5 s otherwise, none with --json) | bar | lines | none', default: 'auto', doc: '`run`: `auto` (a bar on a terminal, a plain line every 5 s otherwise, nothing with `--json`), `bar`, `lines`, `none`; always on stderr', defaultDoc: '`auto`' },
  logLevel: { flag: 'log-level', env: 'LOG_LEVEL', help: 'fatal|error|warn|info|debug|trace|silent', default: 'info', doc: 'pino level (`run` defaults to `warn`, on stderr)', defaultDoc: '`info`' },
} as const

export type SettingName = keyof typeof SETTINGS

/** A setting as the docs show it: `doc` (Markdown, the `help` by default) and how its default reads. */
interface SettingDoc {
  flag: string
  env: string
  help: string
  doc?: string
  metavar?: string
  defaultDoc?: string
}

/**
 * The settings table of docs/settings.md, generated from SETTINGS so the two cannot drift:
 * `npm run docs:settings` writes it between the file's markers, and a test checks it is current.
 */
export function settingsTable(): string {
  const rows = Object.values(SETTINGS).map((setting) => {
    const s: SettingDoc = setting
    return `| \`--${s.flag}${s.metavar ? ` ${s.metavar}` : ''}\` | \`${s.env}\` | ${s.doc ?? s.help} | ${s.defaultDoc ?? ''} |`
  })
  return ['| flag | variable | meaning | default |', '|---|---|---|---|', ...rows].join('\n')
}

/** Each setting as given (flag over variable over default), not yet checked: config.ts checks it. */
export type RawSettings = Partial<Record<SettingName, string>>

/** Reads every setting from flags (already parsed) over the environment. */
export function readSettings(flags: RawSettings, env: NodeJS.ProcessEnv): RawSettings {
  const out: RawSettings = {}
  for (const [name, s] of Object.entries(SETTINGS) as [SettingName, (typeof SETTINGS)[SettingName]][]) {
    const v = flags[name] ?? env[s.env] ?? s.default
    if (v !== undefined && v !== '') out[name] = v
  }
  return out
}

/** How a message names a setting: its flag and its variable. */
export function label(name: SettingName): string {
  return `--${SETTINGS[name].flag} / ${SETTINGS[name].env}`
}

export function int(raw: RawSettings, name: SettingName, min: number, max: number): number {
  const v = raw[name]!
  if (!/^\d+$/.test(v) || Number(v) < min || Number(v) > max) {
    throw new ConfigError(label(name), `must be an integer from ${min} to ${max} (got ${JSON.stringify(v)})`)
  }
  return Number(v)
}

export function oneOf<T extends string>(raw: RawSettings, name: SettingName, allowed: readonly T[]): T {
  const v = raw[name]!
  if (!(allowed as readonly string[]).includes(v)) {
    throw new ConfigError(label(name), `must be one of ${allowed.join(', ')} (got ${JSON.stringify(v)})`)
  }
  return v as T
}

export function required(raw: RawSettings, name: SettingName, why: string): string {
  const v = raw[name]
  if (v === undefined) throw new ConfigError(label(name), `is required ${why}`)
  return v
}
