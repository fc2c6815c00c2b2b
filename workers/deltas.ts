import type { ProgressDelta } from '../shared/messages.js'
import { addRange } from '../shared/ranges.js'

/**
 * Progress deltas of one shard, merged and posted at most every `everyMs` instead of once per
 * batch. Each message costs a structured clone on both threads and wakes the main thread: at the
 * default 5,000-line batch that was ~0.02 µs per point of the client's CPU for progress nobody
 * reads faster than a few times a second. Nothing is lost: `flush()` posts the rest before the
 * shard reports, and the shard's own result stays the authoritative account. With `everyMs` 0
 * every delta is posted as it comes (a load logging one line per batch at debug asks for that).
 */
export class DeltaBuffer {
  private pending: ProgressDelta | undefined
  private timer: NodeJS.Timeout | undefined

  constructor(
    private readonly post: (d: ProgressDelta) => void,
    private readonly everyMs = 50,
  ) {}

  add(d: ProgressDelta): void {
    if (this.everyMs === 0) return this.post(d)
    const p = this.pending
    if (!p) {
      this.pending = { ...d, acked: d.acked.map(([a, b]) => [a, b]), errors: [...d.errors], latencies: [...d.latencies], encodeSeconds: [...d.encodeSeconds] }
      this.timer = setTimeout(() => this.flush(), this.everyMs)
      this.timer.unref() // flush() at the shard's end posts what is left
      return
    }
    p.written += d.written
    p.failed += d.failed
    p.bytes += d.bytes
    p.batches += d.batches
    p.retries += d.retries
    p.splits += d.splits
    for (const [a, b] of d.acked) addRange(p.acked, a, b)
    p.errors.push(...d.errors)
    p.latencies.push(...d.latencies)
    p.encodeSeconds.push(...d.encodeSeconds)
  }

  flush(): void {
    clearTimeout(this.timer)
    const p = this.pending
    this.pending = undefined
    if (p) this.post(p)
  }
}
