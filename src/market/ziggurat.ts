import { int32Of, uniformOf, type Draws } from './rng.js'

/**
 * Ziggurat samplers (Marsaglia & Tsang 2000, 256 layers) for the standard normal and the standard
 * exponential: one 32-bit draw, a table lookup, a compare and a multiply for ~99% of samples, no
 * log or sqrt. Exact in distribution (the rare rest goes through the wedge and tail tests).
 *
 * Each draw is split: its low 8 bits pick the layer and its high 24 bits the position, so the two
 * are independent (the original reused the layer bits in the position; Doornik 2005 showed the
 * correlation that makes).
 *
 * The fast path is written out inline in the hot loops (see `fillTrades`, `sortedUniforms`):
 *
 *   normal:      i = r & 255; j = r >> 8;  if (Math.abs(j) < KN[i]) z = j * WN[i] else z = normalSlow(st, i, j)
 *   exponential: i = r & 255; j = r >>> 8; if (j < KE[i])           e = j * WE[i] else e = exponentialSlow(st, i, j)
 *
 * The slow paths draw further words from the stream's state `st` (the loops store their local
 * copy back before calling and reload it after). Tables are built once from Math.exp/log/sqrt,
 * which V8 computes with its own fdlibm port: the same bits on every machine.
 */

const LAYERS = 256

/** Normal: the tail starts at R; every layer, and the base with its tail, has area V. */
const RN = 3.6541528853610088
const VN = 0.00492867323399
const MN = 2 ** 23 // |j| < 2^23: the position's scale

/** Exponential: the same for exp(−x). */
const RE = 7.697117470131487
const VE = 0.003949659822581572
const ME = 2 ** 24 // j < 2^24

/**
 * One ziggurat's tables for a decreasing density f (f(0) = 1) and its inverse: layer 0 is the base
 * (with the tail beyond r), layer 1 the top; layer i spans x in [0, x_i], K[i] = x_{i−1} / x_i
 * scaled says which positions lie wholly under the curve, W[i] = x_i scaled back, F[i] = f(x_i).
 */
function layers(r: number, v: number, scale: number, f: (x: number) => number, fInverse: (y: number) => number) {
  const K = new Int32Array(LAYERS)
  const W = new Float64Array(LAYERS)
  const F = new Float64Array(LAYERS)
  const q = v / f(r)
  K[0] = Math.floor((r / q) * scale)
  K[1] = 0
  W[0] = q / scale
  W[LAYERS - 1] = r / scale
  F[0] = 1
  F[LAYERS - 1] = f(r)
  let x = r
  let above = r
  for (let i = LAYERS - 2; i >= 1; i--) {
    x = fInverse(v / x + f(x))
    K[i + 1] = Math.floor((x / above) * scale)
    above = x
    F[i] = f(x)
    W[i] = x / scale
  }
  return { K, W, F }
}

const normalLayers = layers(RN, VN, MN, (x) => Math.exp(-0.5 * x * x), (y) => Math.sqrt(-2 * Math.log(y)))
const exponentialLayers = layers(RE, VE, ME, (x) => Math.exp(-x), (y) => -Math.log(y))
export const { K: KN, W: WN } = normalLayers
const FN = normalLayers.F
export const { K: KE, W: WE } = exponentialLayers
const FE = exponentialLayers.F

/** Uniform on (0, 1]: safe under a log. */
const openUniform = (st: Int32Array): number => 1 - uniformOf(st)

/** The normal's rare rest: layer i, signed position j were drawn and missed the fast path. */
export function normalSlow(st: Int32Array, i: number, j: number): number {
  for (;;) {
    if (i === 0) {
      // the tail beyond RN (Marsaglia 1964)
      let x: number
      let y: number
      do {
        x = -Math.log(openUniform(st)) / RN
        y = -Math.log(openUniform(st))
      } while (y + y < x * x)
      return j > 0 ? RN + x : -RN - x
    }
    const x = j * WN[i]!
    if (FN[i]! + uniformOf(st) * (FN[i - 1]! - FN[i]!) < Math.exp(-0.5 * x * x)) return x
    const r = int32Of(st)
    i = r & 255
    j = r >> 8
    if (Math.abs(j) < KN[i]!) return j * WN[i]!
  }
}

/** The exponential's rare rest: layer i, position j were drawn and missed the fast path. */
export function exponentialSlow(st: Int32Array, i: number, j: number): number {
  for (;;) {
    if (i === 0) return RE - Math.log(openUniform(st)) // memoryless tail
    const x = j * WE[i]!
    if (FE[i]! + uniformOf(st) * (FE[i - 1]! - FE[i]!) < Math.exp(-x)) return x
    const r = int32Of(st)
    i = r & 255
    j = r >>> 8
    if (j < KE[i]!) return j * WE[i]!
  }
}

/** A standard normal from the word r already drawn from stream state st (and more, if it must). */
export function normalOf(st: Int32Array, r: number): number {
  const i = r & 255
  const j = r >> 8
  return Math.abs(j) < KN[i]! ? j * WN[i]! : normalSlow(st, i, j)
}

/** A standard normal from a stream: the inline fast path's reference. */
export const normal = (u: Draws): number => normalOf(u.state, u.int32())

/** A standard exponential (mean 1) from a stream: the inline fast path's reference. */
export function exponential(u: Draws): number {
  const r = u.int32()
  const i = r & 255
  const j = r >>> 8
  return j < KE[i]! ? j * WE[i]! : exponentialSlow(u.state, i, j)
}
