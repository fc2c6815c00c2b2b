/**
 * Paces a whole load to `ratePerSecond` across all its workers: one schedule in shared memory,
 * from which each batch claims the next slot of `lines / rate` seconds. The schedule is strict
 * (a late batch does not push the ones after it back), so the load's average rate is the target
 * even when the database stalls for a while, as a steady real-world producer would be.
 * Times are microseconds since the epoch, from each thread's high-resolution clock.
 */
export function nowMicros(): number {
  return Math.round((performance.timeOrigin + performance.now()) * 1000)
}

export class Pacer {
  private readonly slot: BigInt64Array

  constructor(
    readonly buffer: SharedArrayBuffer,
    readonly ratePerSecond: number,
  ) {
    this.slot = new BigInt64Array(buffer, 0, 1)
  }

  /** A schedule that starts now (the main thread, at the start of a run). */
  static create(ratePerSecond: number, startMicros = nowMicros()): Pacer {
    const p = new Pacer(new SharedArrayBuffer(8), ratePerSecond)
    Atomics.store(p.slot, 0, BigInt(startMicros))
    return p
  }

  /** Claims the next slot for a batch of `lines`; returns when it is meant to be sent (µs). */
  claim(lines: number): number {
    const length = BigInt(Math.max(1, Math.round((lines * 1e6) / this.ratePerSecond)))
    for (;;) {
      const start = Atomics.load(this.slot, 0)
      if (Atomics.compareExchange(this.slot, 0, start, start + length) === start) return Number(start)
    }
  }
}
