import { parseArgs, type ParseArgsConfig } from 'node:util'
import { SETTINGS, type RawSettings, type SettingName } from '../config.js'
import { ConfigError, InvalidRequestError } from '../errors.js'

/** Flags that map to load request fields (named like the fields, kebab-cased). */
export const REQUEST_FLAGS = {
  symbols: 'comma-separated tickers (default AAPL,MSFT,GOOG,AMZN,TSLA)',
  from: 'ISO-8601 start, inclusive (default: 24 h before --to)',
  to: 'ISO-8601 end, exclusive (default: now)',
  trades: 'total trades across all symbols (default 1000000)',
  seed: 'string or integer; same seed, same dataset (default: random, reported)',
  'batch-size': 'lines per write request (default 5000)',
  distribution: 'uniform | poisson (default poisson)',
  measurement: 'measurement name (default trades)',
} as const

/** A command line that cannot be understood: exit 2 with one line. */
export class UsageError extends Error {}

const options: NonNullable<ParseArgsConfig['options']> = {
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
}
for (const f of Object.keys(REQUEST_FLAGS)) options[f] = { type: 'string' }
for (const s of Object.values(SETTINGS)) options[s.flag] = { type: 'string' }

export interface ParsedArgs {
  command: string | undefined
  request: Record<string, unknown>
  settings: RawSettings
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

export function parseCommandLine(argv: string[]): ParsedArgs {
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
    else request[field] = v
  }
  const settings: RawSettings = {}
  for (const [name, s] of Object.entries(SETTINGS) as [SettingName, (typeof SETTINGS)[SettingName]][]) {
    const v = values[s.flag]
    if (typeof v === 'string') settings[name] = v
  }
  return { command: positionals[0], request, settings, json: values.json === true, help: values.help === true }
}

/** The one line a user sees for bad input: request fields are named by their flags. */
export function usageLine(err: unknown): string {
  if (err instanceof InvalidRequestError) {
    const [head = '', ...rest] = err.field.split(/(?=[.[])/)
    const flag = `--${head.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}${rest.join('')}`
    return `invalid ${flag}: ${err.message.slice(err.field.length + 2)}`
  }
  if (err instanceof ConfigError) return `invalid ${err.message}`
  return (err as Error).message
}

export function helpText(): string {
  const pad = (s: string) => s.padEnd(22)
  const lines = [
    'usage: ohlcv-loadgen <command> [options]',
    '',
    'commands:',
    '  run      generate one load and write it (exit 0 ok, 1 load failed, 2 bad input, 130 interrupted)',
    '  serve    start the HTTP coordinator (POST /loads, GET /loads/:id, /metrics, /healthz, /readyz)',
    '  help     this text',
    '',
    'load options (run):',
    ...Object.entries(REQUEST_FLAGS).map(([f, h]) => `  ${pad(`--${f}`)}${h}`),
    `  ${pad('--json')}print the final account as one JSON object on stdout`,
    '',
    'settings (flag, or environment variable):',
    ...Object.values(SETTINGS).map((s) => `  ${pad(`--${s.flag}`)}${s.env.padEnd(18)} ${s.help}${s.default ? ` (default ${s.default})` : ''}`),
  ]
  return lines.join('\n')
}
