/**
 * Write slots shared by the shards a worker thread runs at once: at most `size` batches in flight
 * per worker, whichever shards they belong to. A worker runs a second shard while the first one's
 * last batches are still in flight, so the database is not left idle at every shard boundary; the
 * slots keep that overlap from raising the worker's in-flight limit (`--max-in-flight`).
 */
export class WriteSlots {
  private free: number
  private readonly waiting: (() => void)[] = []

  constructor(readonly size: number) {
    this.free = size
  }

  /** Resolves when a slot is held; slots are handed out in the order they were asked for. */
  acquire(): Promise<void> {
    if (this.free > 0 && this.waiting.length === 0) {
      this.free--
      return Promise.resolve()
    }
    return new Promise((resolve) => this.waiting.push(resolve))
  }

  release(): void {
    const next = this.waiting.shift()
    if (next) next()
    else this.free++
  }

  /** slots held right now */
  get held(): number {
    return this.size - this.free
  }
}
