import seedrandom from 'seedrandom'

/**
 * Indexes into Draws#state: Alea's three seeds and carry; then the trade loop's spare polar normal
 * and whether it is set, carried from one call of `fillTrades` to the next.
 */
export const S0 = 0
export const S1 = 1
export const S2 = 2
export const CARRY = 3
export const SPARE = 4
export const HAS_SPARE = 5

/**
 * A seeded stream of uniform draws on [0, 1).
 *
 * One stream per name, e.g. `stream(seed, 'AAPL', 17)` → `${seed}/AAPL/17`. Streams are derived
 * by name, not drawn from a parent stream, so any shard can be regenerated alone and the order in
 * which workers run shards cannot change a single number.
 *
 * The numbers are seedrandom's Alea: seedrandom seeds it and hands its state over, and the state
 * is stepped here. Why not seedrandom's own closure: the trade loop (`fillTrades` in gbm.ts)
 * needs the state, to copy it into locals and step Alea inline, and the closure hides it. Why a
 * Float64Array: as class fields, the doubles were boxed on every draw (one young-generation GC per
 * ~60,000 draws, measured). The unit tests hold this to seedrandom's sequence, draw for draw.
 */
export class Draws {
  readonly state = new Float64Array(6)

  constructor(name: string) {
    const st = seedrandom.alea(name, { state: true }).state()
    this.state[S0] = st.s0
    this.state[S1] = st.s1
    this.state[S2] = st.s2
    this.state[CARRY] = st.c
  }

  /** Uniform on [0, 1): Alea's step, exactly as seedrandom takes it. */
  next(): number {
    const st = this.state
    const t = 2091639 * st[S0]! + st[CARRY]! * 2.3283064365386963e-10 // 2^-32
    st[S0] = st[S1]!
    st[S1] = st[S2]!
    const c = t | 0
    st[CARRY] = c
    return (st[S2] = t - c)
  }
}

export function stream(seed: string | number, ...parts: (string | number)[]): Draws {
  return new Draws([String(seed), ...parts.map(String)].join('/'))
}
