import { UsageError } from '../errors.js'
import type { CapacityOptions } from './run.js'

/** The capacity search's options, as the CLI's flags name them (the API's body in camelCase). */
export const CAPACITY_OPTIONS = ['slo-p99', 'slo-p90', 'slo-p50', 'max-error-rate', 'step-seconds', 'warmup-seconds', 'start-rate', 'max-rate', 'precision', 'deadline'] as const
export type CapacityOption = (typeof CAPACITY_OPTIONS)[number]

/** How a face names an option: `--start-rate` on the command line, `body.startRate` in the API. */
export type OptionNamer = (option: CapacityOption) => string

const flagName: OptionNamer = (o) => `--${o}`

/**
 * A capacity option that cannot be used: which one (`option`) and what is wrong with it
 * (`problem`, whose words name any option through the namer given), apart, so that each face
 * names options its own way from the field, never by rewriting the message. The message is the
 * CLI's: `invalid --option: problem`, or the problem alone for a missing option.
 */
export class CapacityOptionError extends UsageError {
  constructor(
    readonly option: CapacityOption,
    readonly problem: (name: OptionNamer) => string,
    readonly missing = false,
  ) {
    super(missing ? problem(flagName) : `invalid ${flagName(option)}: ${problem(flagName)}`)
  }
}

/** `200ms`, `1s`, `1.5s`, `2m`, or a bare number of ms, as milliseconds. */
function parseDurationMs(flag: CapacityOption, v: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(v.trim())
  if (!m) throw new CapacityOptionError(flag, () => `${JSON.stringify(v)} is not a duration like 200ms, 1s or 15m`)
  const n = Number(m[1]) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[(m[2] ?? 'ms') as 'ms' | 's' | 'm' | 'h']
  if (!(n > 0)) throw new CapacityOptionError(flag, () => 'must be more than 0')
  return n
}

/** `2%` or `0.02` as a fraction. */
function fraction(flag: CapacityOption, v: string, allowZero: boolean): number {
  const m = /^(\d+(?:\.\d+)?)(%)?$/.exec(v.trim())
  const n = m ? Number(m[1]) / (m[2] ? 100 : 1) : NaN
  if (!(n >= 0 && n < 1) || (!allowZero && n === 0)) throw new CapacityOptionError(flag, () => `${JSON.stringify(v)} must be a fraction${allowZero ? '' : ' above 0'} and below 1, like 0.02 or 2%`)
  return n
}

function positive(flag: CapacityOption, v: string | undefined, fallback: number, max = 1e9): number {
  if (v === undefined) return fallback
  const n = Number(v.replace(/_/g, ''))
  if (!Number.isFinite(n) || n <= 0 || n > max) throw new CapacityOptionError(flag, () => `${JSON.stringify(v)} must be a number above 0 and at most ${max}`)
  return n
}

/** The capacity flags, checked: every problem is one line naming the flag (a CapacityOptionError). */
export function capacityOptions(f: Partial<Record<string, string>>): CapacityOptions {
  if (f['slo-p99'] === undefined) throw new CapacityOptionError('slo-p99', (name) => `capacity needs ${name('slo-p99')} (the p99 write latency a step may have, e.g. ${name('slo-p99')} 200ms)`, true)
  const startRate = Math.round(positive('start-rate', f['start-rate'], 10_000))
  const maxRate = Math.round(positive('max-rate', f['max-rate'], 10_000_000))
  if (maxRate < startRate) throw new CapacityOptionError('max-rate', (name) => `${maxRate} is below ${name('start-rate')} ${startRate}`)
  return {
    startRate,
    maxRate,
    precision: f.precision === undefined ? 0.02 : fraction('precision', f.precision, false),
    slo: {
      p99Ms: parseDurationMs('slo-p99', f['slo-p99']),
      ...(f['slo-p90'] !== undefined ? { p90Ms: parseDurationMs('slo-p90', f['slo-p90']) } : {}),
      ...(f['slo-p50'] !== undefined ? { p50Ms: parseDurationMs('slo-p50', f['slo-p50']) } : {}),
      maxErrorRate: f['max-error-rate'] === undefined ? 0 : fraction('max-error-rate', f['max-error-rate'], true),
    },
    stepSeconds: positive('step-seconds', f['step-seconds'], 30, 3600),
    warmupSeconds: f['warmup-seconds'] === '0' ? 0 : positive('warmup-seconds', f['warmup-seconds'], 5, 600),
    deadlineMs: f.deadline === undefined ? 15 * 60_000 : parseDurationMs('deadline', f.deadline),
  }
}
