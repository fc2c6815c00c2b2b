import * as hdr from 'hdr-histogram-js'
import type { LatencySummary } from '../model/account.js'

/**
 * Batch write latency of one load as an HDR histogram (microseconds, 3 significant digits, up
 * to an hour): every batch any worker wrote is recorded here on the main thread, so percentiles
 * are over the whole load, not averages of per-worker percentiles. Reported in milliseconds.
 */
export class LatencyRecorder {
  private readonly h = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 3_600_000_000, numberOfSignificantValueDigits: 3 })

  record(seconds: number): void {
    this.h.recordValue(Math.min(3_600_000_000, Math.max(1, Math.round(seconds * 1e6))))
  }

  reset(): void {
    this.h.reset()
  }

  summary(): LatencySummary {
    const ms = (us: number) => Math.round(us) / 1000
    if (this.h.totalCount === 0) return { count: 0, p50: 0, p90: 0, p99: 0, max: 0 }
    return {
      count: this.h.totalCount,
      p50: ms(this.h.getValueAtPercentile(50)),
      p90: ms(this.h.getValueAtPercentile(90)),
      p99: ms(this.h.getValueAtPercentile(99)),
      max: ms(this.h.maxValue),
    }
  }
}
