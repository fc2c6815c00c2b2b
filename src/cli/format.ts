import type { CapacityOptions, CapacityReport, CapacityStep } from '../capacity/run.js'
import type { CapacityVerifyReport } from '../capacity/verify.js'
import type { VerifyReport } from '../candles/verify.js'
import type { LoadResult } from '../model/account.js'

/**
 * What the CLI prints, as pure functions of what a command found: the numbers and the lines of
 * its summaries. Scripts parse these lines, so every byte is part of the contract.
 */

/** A count or rate as people read it, grouped the same on every machine: 1,234,567. */
export function num(x: number): string {
  return x.toLocaleString('en-US')
}

/** A measured rate, whole: 12,346 (not 12,345.679). */
export function whole(x: number): string {
  return num(Math.round(x))
}

/** 5,370,000 → 5.37M: the progress bar has one line to fit in. */
export function compact(x: number): string {
  const units: [number, string][] = [[1e9, 'B'], [1e6, 'M'], [1e3, 'k']]
  for (const [size, unit] of units) if (x >= size) return `${(x / size).toPrecision(3)}${unit}`
  return String(Math.round(x))
}

/** Milliseconds as seconds with `digits` decimals: 1234 → "1.23". */
export function seconds(ms: number, digits = 2): string {
  return (ms / 1000).toFixed(digits)
}

/** What `run` ran, beside its result: the summary's second line and its notes. */
export interface RunFacts {
  seed: string | number
  from: string
  to: string
  batchSize: number
  shardCount: number
  /** `index/count` when the run is one partition of several */
  partition?: string
  poolSize: number
  sink: Record<string, string>
  /** why the account file is elsewhere, or not written ('' when neither) */
  accountNote: string
  /** where the report went ('' when none was asked) */
  reportNote: string
  /** the account file to resume from, when the load can be resumed */
  resumeFrom?: string
}

/** `run`'s summary (without `--json`): one line per fact, the lines with nothing to say left out. */
export function runSummary(result: LoadResult, f: RunFacts): string {
  return (
    `load ${result.status}: ${num(result.pointsWritten)} points written of ${num(result.pointsPlanned)} planned ` +
    `(${num(result.pointsFailed)} failed, ${result.pointsInDoubt > 0 ? `${num(result.pointsInDoubt)} in doubt, ` : ''}${num(result.pointsUnsent)} unsent) in ${seconds(result.durationMs)} s, ` +
    `${num(result.pointsPerSecond)} points/s${result.attempts.length > 1 ? ` over ${result.attempts.length} attempts` : ''}\n` +
    attemptLine(result) +
    `seed ${JSON.stringify(f.seed)}, ${f.from} .. ${f.to}, ${num(f.shardCount)} shard${f.shardCount === 1 ? '' : 's'}` +
    (f.partition !== undefined ? ` (partition ${f.partition}: ${num(result.shardsTotal)} of them)` : '') +
    `, pool ${f.poolSize}, ` +
    `batch ${f.batchSize}, sink ${Object.values(f.sink).join(' ')}\n` +
    (result.retries > 0 || result.batchesSplit > 0 ? retriesLine(result) : '') +
    degradedLine(result) +
    paceLine(result) +
    (result.error ? `error: ${result.error.message}\n` : '') +
    f.accountNote +
    f.reportNote +
    (f.resumeFrom !== undefined ? `account in ${f.resumeFrom}; resume with: ohlcv-loadgen run --resume-from ${f.resumeFrom}\n` : '')
  )
}

/** A resumed load: what this attempt did on its own, beside the totals of the first line. */
export function attemptLine(result: LoadResult): string {
  if (result.attempts.length < 2) return ''
  const a = result.attempts[result.attempts.length - 1]!
  const pps = a.durationMs > 0 ? Math.round(a.pointsWritten / (a.durationMs / 1000)) : 0
  return `this attempt (${result.attempts.length} of ${result.attempts.length}): ${num(a.pointsWritten)} points written in ${seconds(a.durationMs)} s, ${num(pps)} points/s\n`
}

/** Retries, splits and circuit opens, in total and, for a resumed load, in this attempt. */
export function retriesLine(result: LoadResult): string {
  const opens = result.attempts.reduce((t, a) => t + a.circuitOpens, 0)
  const last = result.attempts[result.attempts.length - 1]
  const total = `${num(result.retries)} retries, ${num(result.batchesSplit)} batches split (413), circuit opened ${num(opens)} time(s)`
  if (result.attempts.length < 2 || !last) return `${total}\n`
  return `in all ${result.attempts.length} attempts: ${total}; this attempt: ${num(last.retries)} retries, circuit opened ${num(last.circuitOpens)} time(s)\n`
}

/** A paced load: whether it kept its rate (the last attempt's), as a capacity step is judged. */
export function paceLine(result: LoadResult): string {
  const p = result.attempts.at(-1)?.pace
  if (!p) return ''
  const share = p.achievedPointsPerSecond / p.targetPointsPerSecond
  const kept = share >= 0.99 ? 'kept it' : 'fell behind'
  return `paced at ${num(p.targetPointsPerSecond)} points/s: ${kept}, ${num(p.achievedPointsPerSecond)} points/s taken (${(share * 100).toFixed(1)} %), writes ${seconds(p.lagGrowthMs)} s later at the end than at the start\n`
}

/** Says how long the server's overload held the load back, if it did. */
export function degradedLine(result: LoadResult): string {
  const c = result.writeConcurrency
  if (c.degradedMs <= 0 && c.lowest >= c.max) return ''
  return `ran degraded for ${seconds(c.degradedMs, 1)} s: the server signalled overload, writes in flight went down to ${c.lowest} of ${c.max}\n`
}

/**
 * Why verify may have found differences, from the counts alone: verify cannot see which version or
 * request wrote the database, so it names the likely cause the counts point to and no other. A
 * "another dataset format" hint on a database that simply lacks points (a load that stopped, a
 * resume that skipped what it should have sent) sent people looking for the wrong thing.
 */
export function verifyHint(report: { pointsFound: number; pointsExpected: number }, datasetFormat: number): string {
  const gap = report.pointsFound - report.pointsExpected
  if (gap < 0) return `${num(-gap)} fewer than the dataset has: the load did not finish (resume it), or part of it went to another database or measurement`
  if (gap > 0) return `${num(gap)} more than the dataset has: another load or dataset probably wrote into this range and measurement`
  return `as many as the dataset has, with other values: the load was made with another seed or request, or by a version with another dataset format than ${datasetFormat}`
}

/** One difference verify found, indented under what it belongs to. */
function differenceLine(d: VerifyReport['differences'][number], indent: string): string {
  return `${indent}${d.symbol}${d.time ? ` ${d.time}` : ''} ${d.field}: expected ${d.expected}, found ${d.found}\n`
}

/** `verify`'s answer: ok in one line, or the differences (the first of them, saying so). */
export function verifyText(report: VerifyReport, interval: string, datasetFormat: number, partition?: string): string {
  if (report.ok) {
    return `verify ok${partition !== undefined ? ` (partition ${partition})` : ''}: ${num(report.pointsFound)} points in ${num(report.symbols)} symbols, ${num(report.candlesCompared)} candles (${interval}) identical to the regenerated dataset\n`
  }
  let text = `verify found ${num(report.differencesTotal)} difference(s): ${num(report.pointsFound)} points found, ${num(report.pointsExpected)} expected (${verifyHint(report, datasetFormat)})\n`
  for (const d of report.differences) text += differenceLine(d, '  ')
  // a cut-short list says so: the first N of the total, so nobody takes the list for all of them
  if (report.differencesTotal > report.differences.length) text += `  (the first ${num(report.differences.length)} of ${num(report.differencesTotal)} differences listed)\n`
  return text
}

/** `verify --capacity`'s answer: ok in one line, or each slice that differs with its first five differences. */
export function verifyCapacityText(report: CapacityVerifyReport): string {
  const steps = report.slices.filter((s) => s.kind === 'step').length
  const what = `${num(report.slices.length)} slices (${num(steps)} steps, ${num(report.slices.length - steps)} warm-ups)`
  if (report.ok) return `verify ok: capacity search, ${what}, ${num(report.pointsFound)} points identical to the regenerated dataset (seed ${JSON.stringify(report.seed)})\n`
  const bad = report.slices.filter((s) => !s.report.ok)
  let text = `verify found ${num(report.differencesTotal)} difference(s) in ${num(bad.length)} of ${what}: ${num(report.pointsFound)} points found, ${num(report.pointsExpected)} expected\n`
  let step = 0
  for (const s of report.slices) {
    if (s.kind === 'step') step++
    if (s.report.ok) continue
    text += `  ${s.kind === 'step' ? `step ${step}` : `warm-up before step ${step + 1}`} (${s.from} .. ${s.to}, ${num(s.trades)} trades): ${num(s.report.pointsFound)} points found\n`
    for (const d of s.report.differences.slice(0, 5)) text += differenceLine(d, '    ')
    if (s.report.differencesTotal > 5) text += `    ... and ${num(s.report.differencesTotal - 5)} more\n`
  }
  return text
}

/** The head of `capacity`'s table of steps. */
export const CAPACITY_HEADER = `step  phase        target/s   achieved/s   p50 ms   p90 ms   p99 ms  errors  client CPU  host CPU  verdict\n`

/** One row of `capacity`'s table: the `shown`th step, as it was judged. */
export function capacityRow(shown: number, s: CapacityStep): string {
  const cpu = (share: number) => `${Math.round(share * 100)} %`
  return `${String(shown).padStart(4)}  ${s.phase.padEnd(11)} ${whole(s.targetPointsPerSecond).padStart(10)} ${whole(s.achievedPointsPerSecond).padStart(12)} ${String(s.p50Ms).padStart(8)} ${String(s.p90Ms).padStart(8)} ${String(s.p99Ms).padStart(8)} ${String(s.errors).padStart(7)} ${cpu(s.clientCpu).padStart(11)} ${cpu(s.hostCpu).padStart(9)}  ${s.passed ? 'pass' : `FAIL: ${s.reasons.join('; ')}`}\n`
}

/** `capacity`'s verdict under the table: the rate found (or why none), the seed, and where its files went. */
export function capacityVerdict(report: CapacityReport, o: CapacityOptions, dataNote: string, chartNote: string): string {
  const found = report.sustainablePointsPerSecond
  return (
    (found === undefined
      ? `no sustainable rate: the start rate ${whole(o.startRate)} points/s failed its objectives (lower --start-rate)\n`
      : `sustainable: ${whole(found)} points/s within p99 ${o.slo.p99Ms} ms and error rate ${(o.slo.maxErrorRate * 100).toFixed(2)} %` +
        `${report.confirmed ? ' (held twice)' : ' (not confirmed: the search ended before it could hold it again)'}${report.ended === 'max-rate' ? `; --max-rate ${whole(o.maxRate)} reached` : ''}${report.ended === 'deadline' ? '; the deadline ended the search' : ''}\n`) +
    `seed ${JSON.stringify(report.seed)}\n${dataNote}\n${chartNote}\n`
  )
}
