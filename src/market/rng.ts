import seedrandom from 'seedrandom'

/** Indexes into Draws#state: Tyche-i's four 32-bit words. */
export const A = 0
export const B = 1
export const C = 2
export const D = 3

/**
 * A seeded stream of 32-bit draws (and uniforms on [0, 1) made from them).
 *
 * One stream per name, e.g. `stream(seed, 'AAPL', 17)` → `${seed}/AAPL/17`. Streams are derived
 * by name, not drawn from a parent stream, so any shard can be regenerated alone and the order in
 * which workers run shards cannot change a single number.
 *
 * The numbers are seedrandom's `tychei` (Tyche-i, Neves & Araujo 2011: a ChaCha-like quarter round,
 * good statistical quality): seedrandom seeds it from the name and hands its state over, and the
 * state is stepped here. Why not seedrandom's own closure: the hot loops (`fillTrades` in gbm.ts,
 * `sortedUniforms` in arrivals.ts) copy the state into locals and step it inline, and the closure
 * hides it. Why Tyche-i and not Alea (dataset format 1): 32 integer bits per step in ~1.6 ns,
 * against Alea's ~6 ns serial floating-point chain, and whole bits feed the ziggurat samplers.
 * The unit tests hold this to seedrandom's sequence, draw for draw.
 */
export class Draws {
  readonly state = new Int32Array(4)

  constructor(name: string) {
    const st = seedrandom.tychei(name, { state: true }).state()
    this.state[A] = st.a
    this.state[B] = st.b
    this.state[C] = st.c
    this.state[D] = st.d
  }

  /** The next 32-bit word, signed: Tyche-i's step, exactly as seedrandom takes it. */
  int32(): number {
    return int32Of(this.state)
  }

  /** Uniform on [0, 1) with 32 bits, as seedrandom's `tychei()` returns it. */
  next(): number {
    return uniformOf(this.state)
  }
}

/**
 * Tyche-i's step on a stream's state: the next 32-bit word, signed. The hot loops spell this out
 * on locals instead (a call per draw would load and store the state each time).
 */
export function int32Of(st: Int32Array): number {
  let a = st[A]!
  let b = st[B]!
  let c = st[C]!
  let d = st[D]!
  b = (b << 25) ^ (b >>> 7) ^ c
  c = (c - d) | 0
  d = (d << 24) ^ (d >>> 8) ^ a
  a = (a - b) | 0
  b = (b << 20) ^ (b >>> 12) ^ c
  c = (c - d) | 0
  d = (d << 16) ^ (c >>> 16) ^ a
  a = (a - b) | 0
  st[A] = a
  st[B] = b
  st[C] = c
  st[D] = d
  return a
}

/** Uniform on [0, 1) with 32 bits from a stream's state. */
export const uniformOf = (st: Int32Array): number => (int32Of(st) >>> 0) / 0x100000000

export function stream(seed: string | number, ...parts: (string | number)[]): Draws {
  return new Draws([String(seed), ...parts.map(String)].join('/'))
}
