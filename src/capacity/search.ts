/**
 * The capacity search, pure: Envoy Nighthawk's shape. Steps at fixed rates: exponential from the
 * start rate until a step fails, then binary between the last pass and the first fail until they
 * are within the precision; then the found rate is held once more to confirm it. A rate that
 * passed and then failed no longer counts as a pass, so a failed confirmation resumes the search
 * below it. The first step failing ends the search with no rate.
 */
import type { StepMeasure, Verdict } from '../model/capacity.js'

export interface SearchOptions {
  startRate: number
  maxRate: number
  /** relative: 0.02 stops when the fail is within 2 % above the pass */
  precision: number
}

export interface StepOutcome {
  rate: number
  passed: boolean
  /** held to confirm a found rate */
  confirm?: boolean
}

type Next = { rate: number; phase: 'exponential' | 'binary' | 'confirm' } | { done: true; sustainable: number | undefined; confirmed: boolean }

/** The rates that failed, and those that passed and never failed (a failed rate no longer counts as a pass). */
function standing(steps: readonly StepOutcome[]): { failed: Set<number>; passes: number[] } {
  const failed = new Set(steps.filter((s) => !s.passed).map((s) => s.rate))
  return { failed, passes: steps.filter((s) => s.passed && !failed.has(s.rate)).map((s) => s.rate) }
}

/** The highest rate that still counts as a pass: what a search cut short reports, unconfirmed. */
export function bestPass(steps: readonly StepOutcome[]): number | undefined {
  const { passes } = standing(steps)
  return passes.length > 0 ? Math.max(...passes) : undefined
}

export function nextStep(steps: readonly StepOutcome[], o: SearchOptions): Next {
  if (steps.length === 0) return { rate: o.startRate, phase: 'exponential' }
  const { failed, passes } = standing(steps)
  if (passes.length === 0) {
    // nothing below the lowest fail holds: the first step failed, or a confirmation of it did
    const lowestFail = Math.min(...failed)
    if (lowestFail <= o.startRate) return { done: true, sustainable: undefined, confirmed: false }
  }
  const lo = passes.length > 0 ? Math.max(...passes) : 0
  const hi = [...failed].filter((r) => r > lo).reduce<number | undefined>((m, r) => (m === undefined || r < m ? r : m), undefined)
  const last = steps[steps.length - 1]!
  if (last.confirm && last.passed && last.rate === lo) return { done: true, sustainable: lo, confirmed: true }
  if (hi === undefined) {
    if (lo >= o.maxRate) return { rate: lo, phase: 'confirm' }
    return { rate: Math.min(lo * 2, o.maxRate), phase: 'exponential' }
  }
  if (lo === 0) return { rate: Math.max(1, Math.round(hi / 2)), phase: 'binary' }
  if ((hi - lo) / lo > o.precision) return { rate: Math.round((lo + hi) / 2), phase: 'binary' }
  return { rate: lo, phase: 'confirm' }
}

export interface Slo {
  p50Ms?: number
  p90Ms?: number
  p99Ms: number
  /** failed attempts / attempts at most */
  maxErrorRate: number
}

const pct = (x: number) => `${Math.round(x * 100)} %`

/** A step passes at ≥ 99 % of its target rate, within the latency objectives and the error rate. */
export function judge(m: StepMeasure, slo: Slo): Verdict {
  const reasons: string[] = []
  let limitedBy: Verdict['limitedBy']
  if (m.failed) reasons.push(m.failure ? `the load failed: ${m.failure}` : 'the load failed')
  if (m.achievedPointsPerSecond < m.targetPointsPerSecond * 0.99) {
    // a client that used (nearly) all the CPU could not send faster; a machine with none left starved
    // whoever runs on it; else the database did not take it
    limitedBy = m.clientCpu >= 0.9 ? 'generator' : m.hostCpu >= 0.9 ? 'host' : 'database'
    const why = {
      generator: 'the generator used all its CPU',
      host: `this machine's CPU was saturated: ${pct(m.hostCpu)} busy, ${pct(m.clientCpu)} of it the generator; a database or other processes here share it`,
      database: 'the database did not keep up',
    }[limitedBy]
    reasons.push(`achieved ${Math.round(m.achievedPointsPerSecond)} of ${m.targetPointsPerSecond} points/s (${why})`)
  }
  const check = (name: string, got: number, max: number | undefined) => {
    if (max !== undefined && got > max) reasons.push(`${name} ${got} ms over ${max} ms`)
  }
  check('p50', m.p50Ms, slo.p50Ms)
  check('p90', m.p90Ms, slo.p90Ms)
  check('p99', m.p99Ms, slo.p99Ms)
  const errorRate = m.attempts > 0 ? m.errors / m.attempts : 0
  if (errorRate > slo.maxErrorRate) reasons.push(`error rate ${(errorRate * 100).toFixed(2)} % over ${(slo.maxErrorRate * 100).toFixed(2)} %`)
  return { passed: reasons.length === 0, reasons, ...(limitedBy ? { limitedBy } : {}) }
}
