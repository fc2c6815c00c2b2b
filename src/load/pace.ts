import { LatencyRecorder } from '../metrics/latency.js'
import type { PaceKept } from '../model/account.js'

/** Fewer batches than this in either quarter compared: too few for a median, judged from the duration. */
const MIN_BATCHES = 4

/**
 * Did a paced run keep its rate? A database that takes less than the rate builds a backlog, and a
 * batch's latency (counted from its intended send time) grows along the schedule; one that keeps
 * up answers the last batches as fast as the earlier ones. So compare the median latency of the
 * batches meant for a quarter of the schedule early on with that of its last quarter: their
 * medians sit 5/8 of the schedule apart, so the whole schedule fell behind by 8/5 of the
 * difference, and the rate achieved is the target x schedule / (schedule + that). Medians over
 * many batches, where judging by the duration (the last batch's answer) swung a 3 s step by ±2 %
 * on one late answer under a busy CPU. The early quarter starts after the first eighth: a run
 * starts with empty queues (the link's, the server's) that fill to their steady depth, and a 4 s
 * run at 90 % of a 200 Mbit/s link read that as 1.2 % behind. A generator that cannot keep up
 * falls behind its schedule the same way, and shows too.
 */
export class PaceWindows {
  private readonly early = new LatencyRecorder()
  private readonly late = new LatencyRecorder()
  /** the schedule's length, ms */
  private readonly scheduleMs: number

  constructor(
    private readonly ratePerSecond: number,
    /** points this run is to send */
    points: number,
    /** when the schedule started (performance.now()) */
    private readonly t0: number,
  ) {
    this.scheduleMs = (points / ratePerSecond) * 1000
  }

  /** A batch answered `latencySeconds` after its intended send time, seen at `nowMs`. */
  record(latencySeconds: number, nowMs: number): void {
    const intended = nowMs - latencySeconds * 1000 - this.t0
    if (intended >= this.scheduleMs / 8 && intended < (this.scheduleMs * 3) / 8) this.early.record(latencySeconds)
    else if (intended >= (this.scheduleMs * 3) / 4) this.late.record(latencySeconds)
  }

  /**
   * The rate kept, for `written` points over a run of `durationMs` with median latency `p50Ms`;
   * with too few batches to compare, from the duration less one median write.
   */
  kept(written: number, durationMs: number, p50Ms: number): PaceKept {
    const target = this.ratePerSecond
    const early = this.early.summary()
    const late = this.late.summary()
    const scheduleMs = (written / target) * 1000
    let growth: number
    if (early.count >= MIN_BATCHES && late.count >= MIN_BATCHES) growth = ((late.p50 - early.p50) * 8) / 5
    else growth = Math.max(durationMs - p50Ms, durationMs / 2) - scheduleMs
    growth = Math.max(0, growth)
    const achieved = scheduleMs + growth > 0 ? Math.round((target * scheduleMs) / (scheduleMs + growth)) : 0
    return { targetPointsPerSecond: target, achievedPointsPerSecond: achieved, lagGrowthMs: Math.round(growth * 10) / 10 }
  }
}
