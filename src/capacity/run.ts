import { availableParallelism, cpus } from 'node:os'
import type { Logger } from 'pino'
import { SinkUnavailableError } from '../errors.js'
import { LoadRun, type LoadOptions } from '../load/run.js'
import { normalizeRequest, type NormalizeContext } from '../request/normalize.js'
import { validateLoadRequest } from '../request/validate.js'
import type { SinkConfig } from '../sink/target.js'
import type { ShardPool } from '../../workers/pool.js'
import { bestPass, judge, nextStep, type SearchOptions, type Slo, type StepOutcome } from './search.js'
import type { CapacitySlice, CapacityStep, StepMeasure } from '../model/capacity.js'

export interface CapacityOptions extends SearchOptions {
  slo: Slo
  /** seconds each judged step writes at its rate */
  stepSeconds: number
  /** seconds of unjudged warm-up before each step, at the step's rate */
  warmupSeconds: number
  /** the whole search stops by then (ms); the last found rate is reported, unconfirmed */
  deadlineMs: number
}

export type { CapacitySlice, CapacityStep }

export interface CapacityReport {
  /** the highest rate that passed, held twice; absent when even the start rate failed */
  sustainablePointsPerSecond: number | undefined
  confirmed: boolean
  /** why the search ended */
  ended: 'converged' | 'start-rate-failed' | 'deadline' | 'max-rate'
  seed: string | number
  slo: Slo
  steps: CapacityStep[]
  /**
   * the load request every slice was written with (its seed included, trades and rate left out):
   * with `slices`, the whole search is one dataset `verify --capacity` checks
   */
  load: Record<string, unknown>
  /** every slice written, warm-ups included, consecutive from the request's `from` */
  slices: CapacitySlice[]
}

/** CPU time of every process on the machine so far (ms): busy, and in all (idle included). */
function hostTimes(): { busy: number; total: number } {
  let busy = 0
  let total = 0
  for (const { times: t } of cpus()) {
    busy += t.user + t.nice + t.sys + t.irq
    total += t.user + t.nice + t.sys + t.irq + t.idle
  }
  return { busy, total }
}

/** Market time each step (and each warm-up) writes: consecutive, disjoint slices of one timeline. */
const SLICE_MS = 86_400_000

/**
 * Runs the capacity search: every step is an open-loop paced load at a fixed rate (the pacer;
 * latency from intended send times, so a stall counts), preceded by an unjudged warm-up. Steps
 * write consecutive day-long slices starting at the request's `from` with its seed, so each is a
 * load `verify` can check. One pool for the whole search. Aborting `signal` ends the search after
 * the step running, never within it (a step cut short would be judged on a wrong measure).
 */
export async function runCapacity(
  base: Record<string, unknown>,
  o: CapacityOptions,
  deps: { sink: SinkConfig; pool: ShardPool; log: Logger; options: LoadOptions; normalize: NormalizeContext; onStepStart?: (rate: number) => void; onStep?: (step: CapacityStep, next: number | undefined) => void; signal?: AbortSignal | undefined },
): Promise<CapacityReport> {
  const first = normalizeRequest(validateLoadRequest({ ...base, trades: 1 }), deps.normalize)
  const startMs = first.fromMs
  let slice = 0
  const steps: CapacityStep[] = []
  const slices: CapacitySlice[] = []
  const outcomes: StepOutcome[] = []
  const deadline = Date.now() + o.deadlineMs
  const load = async (rate: number, seconds: number, kind: CapacitySlice['kind']) => {
    const fromMs = startMs + slice++ * SLICE_MS
    const request = { from: new Date(fromMs).toISOString(), to: new Date(fromMs + SLICE_MS).toISOString(), trades: Math.max(1, Math.round(rate * seconds)), ratePerSecond: rate }
    slices.push({ kind, from: request.from, to: request.to, trades: request.trades })
    const spec = normalizeRequest(validateLoadRequest({ ...base, ...request, seed: first.seed }), deps.normalize)
    const run = new LoadRun({ id: `capacity-${slice}`, spec, sink: deps.sink, pool: deps.pool, log: deps.log, options: deps.options })
    const cpu = process.cpuUsage()
    const host = hostTimes()
    const result = await run.run()
    const used = process.cpuUsage(cpu)
    const after = hostTimes()
    const hostCpu = after.total > host.total ? (after.busy - host.busy) / (after.total - host.total) : 0
    return { request, result, cpu: (used.user + used.system) / 1000 / Math.max(1, result.durationMs) / availableParallelism(), hostCpu }
  }
  let ended: CapacityReport['ended'] = 'converged'
  const { trades: _t, ratePerSecond: _r, to: _to, ...rest } = base
  const written = { slo: o.slo, steps, load: { ...rest, from: first.from, seed: first.seed }, slices }
  for (;;) {
    const next = nextStep(outcomes, o)
    if ('done' in next) {
      if (next.sustainable === undefined) ended = 'start-rate-failed'
      return { sustainablePointsPerSecond: next.sustainable, confirmed: next.confirmed, ended: next.sustainable !== undefined && next.sustainable >= o.maxRate ? 'max-rate' : ended, seed: first.seed, ...written }
    }
    if (Date.now() >= deadline || deps.signal?.aborted) {
      return { sustainablePointsPerSecond: bestPass(outcomes), confirmed: false, ended: 'deadline', seed: first.seed, ...written }
    }
    deps.onStepStart?.(next.rate)
    if (o.warmupSeconds > 0) await load(next.rate, o.warmupSeconds, 'warmup')
    const { request, result, cpu, hostCpu } = await load(next.rate, o.stepSeconds, 'step')
    // a database that cannot be reached or prepared is not a rate it cannot take: say so, and stop
    if (result.error?.code === 'OHLCV_SINK_UNAVAILABLE') throw new SinkUnavailableError(result.error.message)
    const attempts = result.batchesWritten + result.retries + (result.pointsFailed > 0 ? 1 : 0)
    const measure: StepMeasure = {
      targetPointsPerSecond: next.rate,
      // how the step kept its rate: from the growth of its latencies along the schedule (see PaceWindows)
      achievedPointsPerSecond: result.attempts.at(-1)?.pace?.achievedPointsPerSecond ?? 0,
      p50Ms: result.writeLatencyMs.p50,
      p90Ms: result.writeLatencyMs.p90,
      p99Ms: result.writeLatencyMs.p99,
      errors: result.retries + (result.pointsFailed > 0 ? 1 : 0),
      attempts,
      clientCpu: Math.round(cpu * 1000) / 1000,
      hostCpu: Math.round(Math.min(1, hostCpu) * 1000) / 1000,
      failed: result.status !== 'succeeded',
      ...(result.error ? { failure: result.error.message } : {}),
    }
    const step: CapacityStep = { ...measure, ...judge(measure, o.slo), phase: next.phase, errorRate: attempts > 0 ? measure.errors / attempts : 0, request }
    steps.push(step)
    outcomes.push({ rate: next.rate, passed: step.passed, confirm: next.phase === 'confirm' })
    deps.log.info({ step }, `capacity step ${next.rate} points/s: ${step.passed ? 'passed' : 'failed'}`)
    const upcoming = nextStep(outcomes, o)
    deps.onStep?.(step, 'done' in upcoming ? undefined : upcoming.rate)
  }
}
