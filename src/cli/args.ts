import { parseArgs, type ParseArgsConfig } from 'node:util'
import { SETTINGS, type RawSettings, type SettingName } from '../settings.js'
import { ConfigError, InvalidRequestError, UsageError } from '../errors.js'

/** Flags that map to load request fields (named like the fields, kebab-cased). */
const REQUEST_FLAGS = {
  symbols: 'comma-separated tickers (default AAPL,MSFT,GOOG,AMZN,TSLA)',
  from: 'ISO-8601 start, inclusive (default: 24 h before --to)',
  to: 'ISO-8601 end, exclusive (default: now)',
  trades: 'total trades across all symbols (default 1000000)',
  seed: 'string or integer; same seed, same dataset (default: random, reported)',
  'batch-size': 'lines per write request (default 5000)',
  'rate-per-second': 'pace the whole load to this many points/s (default: as fast as the database takes them)',
  distribution: 'uniform | poisson (default poisson)',
  measurement: 'measurement name (default trades)',
  weights: 'relative trade shares, e.g. AAPL=10,MSFT=4 (unlisted symbols weigh 1)',
  'tick-size': 'price tick (default 0.01)',
  market: 'per-symbol parameters as JSON, e.g. \'{"AAPL":{"price":190,"volatility":0.25,"drift":0.05}}\'',
  'session-open': 'intraday: local opening time (default 09:30)',
  'session-close': 'intraday: local closing time (default 16:00)',
  'time-zone': 'intraday: IANA time zone of the session (default America/New_York)',
} as const

/** Flags of `run` that are neither request fields nor settings. */
const RUN_FLAGS = {
  request: 'run, verify: a JSON file with the request (the POST /loads body); load options given as flags override its fields',
  'account-file': 'write the final account here (per-shard, for --resume-from); on failure it is written anyway',
  'resume-from': 'an account file: re-run only the shards that did not complete, with the request and seed it holds',
  report: 'write the load as one self-contained HTML report here at the end (charts over time, account, settings, environment; opens offline)',
} as const

/** Flags of `capacity`: the search and its objectives (the load options say what is written). */
export const CAPACITY_FLAGS = {
  'slo-p99': 'the p99 write latency a step may have, e.g. 200ms or 1s (required)',
  'slo-p90': 'the p90 write latency a step may have (optional)',
  'slo-p50': 'the p50 write latency a step may have (optional)',
  'max-error-rate': 'failed write attempts / attempts a step may have, e.g. 0, 0.01 or 1% (default 0)',
  'step-seconds': 'seconds each judged step writes at its rate (default 30)',
  'warmup-seconds': 'unjudged seconds before each step, at its rate (default 5)',
  'start-rate': 'points/s of the first step (default 10000)',
  'max-rate': 'points/s the search never goes past (default 10000000)',
  precision: 'stop when the first fail is within this much above the last pass, e.g. 2% (default 2%)',
  deadline: 'stop the search by then, e.g. 15m or 90s (default 15m): the best rate so far is reported, unconfirmed',
  chart: 'capacity: where the SVG chart of the steps goes (default ./ohlcv-loadgen-capacity-<seed>.svg)',
} as const

/** Flags of `candles` and `verify` that are not request fields. */
const QUERY_FLAGS = {
  symbol: 'candles: the ticker',
  interval: 'candles, verify: candle interval, 1s..1d (default 1m)',
  regenerate: 'candles: compute them from the load options and seed instead of the database',
  capacity: "verify: a capacity search's --json output (or GET /capacity/:id) instead of load options: checks every slice it wrote, warm-ups included",
} as const


const options: NonNullable<ParseArgsConfig['options']> = {
  json: { type: 'boolean' },
  regenerate: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
}
for (const f of Object.keys(REQUEST_FLAGS)) options[f] = { type: 'string' }
for (const f of Object.keys(QUERY_FLAGS)) options[f] ??= { type: 'string' }
for (const f of Object.keys(RUN_FLAGS)) options[f] = { type: 'string' }
for (const f of Object.keys(CAPACITY_FLAGS)) options[f] = { type: 'string' }
for (const s of Object.values(SETTINGS)) options[s.flag] = { type: 'string' }
/** settings that are also bare switches: `--no-sync` is `--no-sync true` */
const SWITCHES = new Set<string>([SETTINGS.noSync.flag])
for (const f of SWITCHES) options[f] = { type: 'boolean' }

export interface ParsedArgs {
  command: string | undefined
  request: Record<string, unknown>
  settings: RawSettings
  query: { symbol?: string; interval?: string; regenerate?: boolean; capacity?: string }
  run: { accountFile?: string; resumeFrom?: string; requestFile?: string; report?: string }
  /** capacity flags as given, by flag name */
  capacity: Partial<Record<keyof typeof CAPACITY_FLAGS, string>>
  json: boolean
  help: boolean
}

function camel(flag: string): string {
  return flag.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase())
}

/** Integers as typed by people: 1000000, 1_000_000 or 1e6. Anything else is left for the schema to reject. */
function number(v: string): number | string {
  const plain = v.replace(/_/g, '')
  if (/^-?\d+$/.test(plain) || /^\d+(\.\d+)?e\d+$/i.test(plain)) return Number(plain)
  return v
}

/** "AAPL=10,MSFT=4" → { AAPL: 10, MSFT: 4 }; numbers are checked by the request schema. */
function weights(v: string): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const pair of v.split(',').filter((p) => p.trim() !== '')) {
    const [sym = '', w] = pair.split('=')
    if (w === undefined) throw new UsageError(`invalid --weights: expected SYMBOL=WEIGHT pairs (got ${JSON.stringify(pair)})`)
    const n = Number(w)
    out[sym.trim()] = w.trim() !== '' && Number.isFinite(n) ? n : w
  }
  return out
}

function json(flag: string, v: string): unknown {
  try {
    return JSON.parse(v)
  } catch {
    throw new UsageError(`invalid ${flag}: not valid JSON`)
  }
}

export function parseCommandLine(argv: string[]): ParsedArgs {
  // `--gzip` alone is `--gzip on` (it also takes a level: --gzip 6)
  argv = argv.flatMap((a, i) => (a === '--gzip' && (argv[i + 1] === undefined || argv[i + 1]!.startsWith('-')) ? [a, 'on'] : [a]))
  let parsed
  try {
    parsed = parseArgs({ args: argv, options, allowPositionals: true, strict: true })
  } catch (e) {
    const err = e as Error & { code?: string }
    const flag = /'(-[^']+)'/.exec(err.message)?.[1]
    if (err.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') throw new UsageError(`unknown option ${flag ?? ''} (see: ohlcv-loadgen help)`)
    if (err.code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') throw new UsageError(`option ${flag?.split(' ')[0] ?? ''} needs a value`)
    throw new UsageError(err.message.split('\n')[0] ?? 'invalid arguments')
  }
  const { values, positionals } = parsed
  if (positionals.length > 1) throw new UsageError(`unexpected argument ${JSON.stringify(positionals[1])}`)

  const request: Record<string, unknown> = {}
  for (const flag of Object.keys(REQUEST_FLAGS)) {
    const v = values[flag]
    if (typeof v !== 'string') continue
    const field = camel(flag)
    if (field === 'symbols') request.symbols = v.split(',').map((s) => s.trim()).filter((s) => s !== '')
    else if (field === 'trades' || field === 'batchSize') request[field] = number(v)
    else if (field === 'ratePerSecond') request.ratePerSecond = /^\d+(\.\d+)?(e\d+)?$/i.test(v.replace(/_/g, '')) ? Number(v.replace(/_/g, '')) : v
    else if (field === 'weights') request.weights = weights(v)
    else if (field === 'tickSize') request.market = { ...(request.market as object), tickSize: /^\d+(\.\d+)?$/.test(v) ? Number(v) : v }
    else if (field === 'market') request.market = { ...(request.market as object), symbols: json('--market', v) }
    else if (field === 'sessionOpen') request.session = { ...(request.session as object), open: v }
    else if (field === 'sessionClose') request.session = { ...(request.session as object), close: v }
    else if (field === 'timeZone') request.session = { ...(request.session as object), timeZone: v }
    else request[field] = v
  }
  const settings: RawSettings = {}
  for (const [name, s] of Object.entries(SETTINGS) as [SettingName, (typeof SETTINGS)[SettingName]][]) {
    const v = values[s.flag]
    if (typeof v === 'string') settings[name] = v
    else if (v === true && SWITCHES.has(s.flag)) settings[name] = 'true'
  }
  const query: ParsedArgs['query'] = {}
  if (typeof values.symbol === 'string') query.symbol = values.symbol
  if (typeof values.interval === 'string') query.interval = values.interval
  if (values.regenerate === true) query.regenerate = true
  if (typeof values.capacity === 'string') query.capacity = values.capacity
  const run: ParsedArgs['run'] = {}
  if (typeof values['account-file'] === 'string') run.accountFile = values['account-file']
  if (typeof values['resume-from'] === 'string') run.resumeFrom = values['resume-from']
  if (typeof values.request === 'string') run.requestFile = values.request
  if (typeof values.report === 'string') run.report = values.report
  const capacity: ParsedArgs['capacity'] = {}
  for (const f of Object.keys(CAPACITY_FLAGS) as (keyof typeof CAPACITY_FLAGS)[]) {
    const v = values[f]
    if (typeof v === 'string') capacity[f] = v
  }
  return { command: positionals[0], request, settings, query, run, capacity, json: values.json === true, help: values.help === true }
}

/** The one line a user sees for bad input: request fields are named by their flags. */
export function usageLine(err: unknown): string {
  if (err instanceof InvalidRequestError) {
    const [head = '', ...rest] = err.field.split(/(?=[.[])/)
    // market.tickSize and market.symbols.X come from --tick-size and --market; session.* likewise
    const aliases: Record<string, string> = { 'market.tickSize': '--tick-size', 'session.open': '--session-open', 'session.close': '--session-close', 'session.timeZone': '--time-zone' }
    const alias = aliases[err.field] ?? (err.field.startsWith('market.symbols') ? `--market ${err.field.slice('market.symbols.'.length)}` : undefined)
    const flag = alias ?? `--${head.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}${rest.join('')}`
    return `invalid ${flag}: ${err.problem}`
  }
  if (err instanceof ConfigError) return `invalid ${err.message}`
  return (err as Error).message
}

export function helpText(): string {
  const pad = (s: string) => s.padEnd(22)
  // settings' columns as wide as their longest flag and variable: never run together
  const settings = Object.values(SETTINGS)
  const flagWidth = Math.max(...settings.map((s) => s.flag.length + 2))
  const envWidth = Math.max(...settings.map((s) => s.env.length))
  const settingPad = (s: string) => s.padEnd(flagWidth)
  const lines = [
    'usage: ohlcv-loadgen <command> [options]',
    '',
    'commands:',
    '  run      generate one load and write it (exit 0 ok, 1 load failed, 2 bad input, 130 interrupted)',
    '  serve    start the HTTP coordinator (POST /loads, GET /loads/:id, /candles, /metrics, /healthz, /readyz)',
    '  candles  OHLCV candles computed by InfluxDB: --symbol --interval --from --to [--measurement] [--json]',
    '  verify   regenerate a load from its flags and seed and compare it with InfluxDB (exit 0 equal, 1 differences)',
    '  capacity the highest rate InfluxDB sustains within --slo-p99 and --max-error-rate: fixed-rate steps, exponential then binary search (exit 0 found, 1 even the start rate fails, 2 bad options)',
    '  help     this text',
    '',
    'load options (run):',
    ...Object.entries(REQUEST_FLAGS).map(([f, h]) => `  ${pad(`--${f}`)}${h}`),
    ...Object.entries(RUN_FLAGS).map(([f, h]) => `  ${pad(`--${f}`)}${h}`),
    `  ${pad('--json')}print the final account (or candles, or the verify report) as JSON on stdout`,
    '',
    'capacity options (with the load options):',
    ...Object.entries(CAPACITY_FLAGS).map(([f, h]) => `  ${pad(`--${f}`)}${h}`),
    '',
    'candles / verify options:',
    ...Object.entries(QUERY_FLAGS).map(([f, h]) => `  ${pad(`--${f}`)}${h}`),
    '',
    'settings (flag, or environment variable):',
    ...Object.values(SETTINGS).map((s) => `  ${settingPad(`--${s.flag}`)} ${s.env.padEnd(envWidth)} ${s.help}${s.default ? ` (default ${s.default})` : ''}`),
  ]
  return lines.join('\n')
}
