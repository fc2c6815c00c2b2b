import seedrandom from 'seedrandom'

/**
 * A seeded stream of uniform draws on [0, 1) and standard normal draws.
 *
 * One stream per name, e.g. `stream(seed, 'AAPL', 17)` → `${seed}/AAPL/17`. Streams are derived
 * by name, not drawn from a parent stream, so any shard can be regenerated alone and the order in
 * which workers run shards cannot change a single number.
 *
 * The numbers are seedrandom's Alea (seeded by seedrandom, which hands its state over), stepped
 * here as a class: the hot loops call `next()` millions of times per shard and V8 inlines a
 * monomorphic method into them, where seedrandom's closure over a state object costs a call and
 * a heap-number write per draw. The unit tests hold both to the same sequence.
 */
/**
 * The whole state of a Draws: Alea's three seeds and carry, and the spare normal. The trade loop
 * (`GbmModel.fillTrades`) copies it into locals and steps Alea inline: state in registers instead
 * of object fields makes that loop about 1.4x faster.
 */
export interface DrawState {
  s0: number
  s1: number
  s2: number
  c: number
  spare: number
  hasSpare: boolean
}

export class Draws implements DrawState {
  s0: number
  s1: number
  s2: number
  c: number
  spare = 0
  hasSpare = false

  constructor(name: string) {
    const st = seedrandom.alea(name, { state: true }).state()
    this.s0 = st.s0
    this.s1 = st.s1
    this.s2 = st.s2
    this.c = st.c
  }

  /** Uniform on [0, 1): Alea's step, exactly as seedrandom takes it. */
  next(): number {
    const t = 2091639 * this.s0 + this.c * 2.3283064365386963e-10 // 2^-32
    this.s0 = this.s1
    this.s1 = this.s2
    this.c = t | 0
    return (this.s2 = t - this.c)
  }

  /** Standard normal by the polar Box–Muller method; the spare value serves the next call. */
  normal(): number {
    if (this.hasSpare) {
      this.hasSpare = false
      return this.spare
    }
    let x: number
    let y: number
    let s: number
    do {
      x = 2 * this.next() - 1
      y = 2 * this.next() - 1
      s = x * x + y * y
    } while (s >= 1 || s === 0)
    const f = Math.sqrt((-2 * Math.log(s)) / s)
    this.spare = y * f
    this.hasSpare = true
    return x * f
  }
}

export function stream(seed: string | number, ...parts: (string | number)[]): Draws {
  return new Draws([String(seed), ...parts.map(String)].join('/'))
}
