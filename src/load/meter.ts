import { LatencyRecorder } from '../metrics/latency.js'
import type { CircuitBreaker } from '../../shared/breaker.js'
import { circuitLevel } from '../../shared/breakerRule.js'
import type { WriteConcurrency } from '../../shared/concurrency.js'
import type { ProgressDelta } from '../../shared/messages.js'
import type { LatencySummary, LoadConcurrency, PaceKept } from '../model/account.js'
import type { TimelineView } from '../model/timeline.js'
import { PaceWindows } from './pace.js'
import { Timeline } from './timeline.js'

/** Window over which "current rate" is measured. */
const RATE_WINDOW_MS = 5000
/** A timeline sample (and a rate sample) this often while the load runs. */
export const TIMELINE_EVERY_MS = 1000

/** What the meter reads at each sample: the load's counters, which it does not own. */
interface MeterSources {
  written: () => number
  planned: () => number
  inFlight: () => number
  breaker: CircuitBreaker
  concurrency: WriteConcurrency
}

/**
 * What a load measures of itself: write latency, rate, timeline, pace and the sink's write
 * concurrency as this load saw it. Reads are pure; only `sample(now)` (the load's timer) and
 * `record(delta, now)` (each progress delta) change what it holds.
 */
export class LoadMeter {
  /** the load over time (charts, reports) */
  readonly timeline: Timeline
  private readonly latency = new LatencyRecorder()
  /** what happened since the last timeline sample */
  private readonly tick = { latency: new LatencyRecorder(), batches: 0, retries: 0, errorsRetryable: 0, errorsPermanent: 0, splits: 0 }
  private lastSample = { at: 0, written: 0, t: 0 }
  /** (time, written) a sample each, over the rate window */
  private samples: { t: number; written: number }[] = []
  /** degraded time of earlier attempts, and the sink's degraded-time reading when this one began */
  private degradedMs = 0
  private degradedAtStart = 0
  private lowestLimit: number
  private lowestAtStart = 0
  private running = false
  /** this run's pace, when the load is paced */
  private pace: PaceWindows | undefined

  constructor(
    private readonly src: MeterSources,
    timeline?: TimelineView,
  ) {
    this.timeline = new Timeline(timeline)
    this.lowestLimit = src.concurrency.stats().limit
  }

  /** A run begins at `now` (performance.now()): the sample and rate baselines, the sink's readings. */
  begin(now: number): void {
    const written = this.src.written()
    const last = this.timeline.view().samples.at(-1)
    this.lastSample = { at: now, written, t: last?.t ?? 0 }
    this.samples = [{ t: now, written }]
    const atStart = this.src.concurrency.stats()
    this.degradedAtStart = atStart.degradedMs
    this.lowestAtStart = atStart.lowest
    this.running = true
  }

  /** The run is paced: judge from `now` whether it keeps `ratePerSecond` over the `points` it is to send. */
  paced(ratePerSecond: number, points: number, now: number): void {
    this.pace = new PaceWindows(ratePerSecond, points, now)
  }

  /** Takes a progress delta in: latencies, the interval's counts, and a look at the limit. */
  record(d: ProgressDelta): void {
    if (d.retries > 0 || d.batches > 0) this.sampleLimit()
    const now = this.pace ? performance.now() : 0
    for (const s of d.latencies) {
      this.latency.record(s)
      this.tick.latency.record(s)
      this.pace?.record(s, now)
    }
    const k = this.tick
    k.batches += d.batches
    k.retries += d.retries
    k.splits += d.splits
    for (const e of d.errors) {
      if (e.kind === 'retryable') k.errorsRetryable++
      else k.errorsPermanent++
    }
  }

  /** Keeps the lowest limit seen while this load runs, the sink's all-time lowest if it fell meanwhile. */
  sampleLimit(): void {
    this.lowestLimit = this.lowestNow()
  }

  /**
   * The timer's step: closes the interval since the last sample into one timeline sample (`tail`:
   * the run's last one), takes a rate sample, and looks at the limit.
   */
  sample(now: number, tail = false): void {
    this.sampleLimit()
    const written = this.src.written()
    this.samples.push({ t: now, written })
    while (this.samples.length > 2 && now - this.samples[0]!.t > RATE_WINDOW_MS) this.samples.shift()
    const dtMs = now - this.lastSample.at
    if (dtMs <= 0) return
    const k = this.tick
    const lat = k.latency.summary()
    const t = Math.round((this.lastSample.t + dtMs / 1000) * 1000) / 1000
    const add = tail && dtMs < TIMELINE_EVERY_MS / 2 ? 'addTail' : 'add'
    this.timeline[add]({
      t,
      dt: Math.round(dtMs) / 1000,
      written,
      pps: Math.round(((written - this.lastSample.written) * 1000) / dtMs),
      p50: lat.count > 0 ? lat.p50 : null,
      p90: lat.count > 0 ? lat.p90 : null,
      p99: lat.count > 0 ? lat.p99 : null,
      batches: k.batches,
      retries: k.retries,
      errorsRetryable: k.errorsRetryable,
      errorsPermanent: k.errorsPermanent,
      splits: k.splits,
      inFlight: this.src.inFlight(),
      circuit: circuitLevel(this.src.breaker.stats().state),
      limit: this.src.concurrency.stats().limit,
    })
    this.lastSample = { at: now, written, t }
    k.latency.reset()
    k.batches = k.retries = k.errorsRetryable = k.errorsPermanent = k.splits = 0
  }

  /**
   * The run has ended (after its last sample): its concurrency over every attempt so far, with the
   * degraded time rounded and kept for the next attempt, and its pace if it was paced.
   */
  end(written: number, elapsedMs: number): { writeConcurrency: LoadConcurrency; degradedThisRun: number; pace?: PaceKept } {
    const degradedBefore = this.degradedMs
    const { limit: _limit, ...writeConcurrency } = this.writeConcurrency()
    writeConcurrency.degradedMs = Math.round(writeConcurrency.degradedMs)
    this.degradedMs = writeConcurrency.degradedMs
    this.running = false
    const pace = this.pace && written > 0 ? this.pace.kept(written, elapsedMs, this.latency.summary().p50) : undefined
    this.pace = undefined
    return { writeConcurrency, degradedThisRun: Math.max(0, writeConcurrency.degradedMs - degradedBefore), ...(pace ? { pace } : {}) }
  }

  /** Current rate (points/s over the last few seconds) and ETA in seconds, as of the samples and `now`. */
  rate(now = performance.now()): { pointsPerSecond: number; etaSeconds: number | null } {
    const written = this.src.written()
    const first = this.samples[0]
    const dt = first ? (now - first.t) / 1000 : 0
    const pps = first && dt > 0 ? (written - first.written) / dt : 0
    const remaining = this.src.planned() - written
    return { pointsPerSecond: Math.round(pps), etaSeconds: pps > 0 ? Math.ceil(remaining / pps) : null }
  }

  /** The sink's write concurrency as this load sees it: the current limit, and this load's share of degraded time. */
  writeConcurrency(): LoadConcurrency & { limit: number } {
    const s = this.src.concurrency.stats()
    const running = this.running ? s.degradedMs - this.degradedAtStart : 0
    return { limit: s.limit, max: s.max, lowest: this.lowestNow(), degradedMs: this.degradedMs + running }
  }

  writeLatency(): LatencySummary {
    return this.latency.summary()
  }

  private lowestNow(): number {
    const s = this.src.concurrency.stats()
    let lowest = Math.min(this.lowestLimit, s.limit)
    // The sink's all-time lowest, if it fell while this load ran: catches dips between samples.
    if (this.running && s.lowest < this.lowestAtStart && s.lowest < lowest) lowest = s.lowest
    return lowest
  }
}
