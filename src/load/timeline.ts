/**
 * A load over time, for charts: at most one sample a second while it runs, bounded in memory. When
 * MAX_SAMPLES are held, neighbours are merged two by two (the resolution halves) and new samples
 * are taken at the coarser step, so a load of any length keeps between MAX_SAMPLES / 2 and
 * MAX_SAMPLES samples spanning all of it. Pure data: the load feeds it, the API and reports read it.
 */
import type { TimelineSample, TimelineView } from '../model/timeline.js'

export const MAX_SAMPLES = 720

const nullableMax = (a: number | null, b: number | null) => (a === null ? b : b === null ? a : Math.max(a, b))

/**
 * Two neighbours as one. Percentiles cannot be merged exactly without the histograms: p50 and p90
 * are the batch-weighted mean of the two, p99 the higher of the two (never hides a spike).
 */
export function mergeSamples(a: TimelineSample, b: TimelineSample): TimelineSample {
  const dt = a.dt + b.dt
  const batches = a.batches + b.batches
  const weighted = (x: number | null, y: number | null) =>
    x === null ? y : y === null ? x : Math.round(((x * a.batches + y * b.batches) / Math.max(1, batches)) * 1000) / 1000
  return {
    t: b.t,
    dt,
    written: b.written,
    pps: dt > 0 ? Math.round((a.pps * a.dt + b.pps * b.dt) / dt) : 0,
    p50: weighted(a.p50, b.p50),
    p90: weighted(a.p90, b.p90),
    p99: nullableMax(a.p99, b.p99),
    batches,
    retries: a.retries + b.retries,
    errorsRetryable: a.errorsRetryable + b.errorsRetryable,
    errorsPermanent: a.errorsPermanent + b.errorsPermanent,
    splits: a.splits + b.splits,
    inFlight: Math.max(a.inFlight, b.inFlight),
    circuit: Math.max(a.circuit, b.circuit) as 0 | 1 | 2,
    limit: Math.min(a.limit, b.limit),
  }
}

export class Timeline {
  private samples: TimelineSample[] = []
  private resolution = 1
  /** samples of the current resolution step not yet merged into one (resolution > 1) */
  private pending: TimelineSample | undefined
  private pendingCount = 0
  /** bumped on every change: a stream sends what is new */
  version = 0

  constructor(from?: TimelineView) {
    if (from) {
      this.samples = from.samples.slice(-MAX_SAMPLES)
      this.resolution = Math.max(1, from.resolutionSeconds)
    }
  }

  /** Adds a 1-second (or so) sample; merges as needed so memory stays bounded. */
  add(s: TimelineSample): void {
    this.version++
    if (this.resolution > 1) {
      this.pending = this.pending ? mergeSamples(this.pending, s) : s
      if (++this.pendingCount < this.resolution) return
      s = this.pending
      this.pending = undefined
      this.pendingCount = 0
    }
    this.samples.push(s)
    if (this.samples.length >= MAX_SAMPLES) {
      const halved: TimelineSample[] = []
      for (let i = 0; i + 1 < this.samples.length; i += 2) halved.push(mergeSamples(this.samples[i]!, this.samples[i + 1]!))
      if (this.samples.length % 2) halved.push(this.samples[this.samples.length - 1]!)
      this.samples = halved
      this.resolution *= 2
    }
  }

  /**
   * The short interval at the end of a run, folded into the sample before it: a 60 ms tail is
   * noise as a rate of its own, but its counts belong in the totals.
   */
  addTail(s: TimelineSample): void {
    const last = this.samples.length - 1
    if (this.pending) this.pending = mergeSamples(this.pending, s)
    else if (last >= 0) this.samples[last] = mergeSamples(this.samples[last]!, s)
    else return this.add(s)
    this.version++
  }

  /** The timeline so far, the step in progress included as a last (shorter) sample. */
  view(): TimelineView {
    return { resolutionSeconds: this.resolution, samples: this.pending ? [...this.samples, this.pending] : [...this.samples] }
  }

  /** Samples of whole steps so far (what a stream sends as they come), without a copy. */
  committed(): { resolutionSeconds: number; samples: readonly TimelineSample[] } {
    return { resolutionSeconds: this.resolution, samples: this.samples }
  }
}
