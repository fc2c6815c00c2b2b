import type { Distribution } from '../request/schema.js'
import type { Uniform } from './rng.js'

/**
 * Fills `out[0..n)` with strictly increasing integer offsets in [0, widthNs): the arrival times of
 * one symbol's trades inside one shard, in nanoseconds from the shard start.
 *
 * Uniqueness without rejection: draw n non-decreasing values v_k in [0, widthNs − n], then use
 * v_k + k. Adding the rank makes equal neighbours distinct and the maximum is widthNs − 1. The
 * shift is at most n ns over the shard, far below anything a candle can see.
 *
 * - `uniform`: evenly spaced.
 * - `poisson`: a Poisson process conditioned on exactly n arrivals, i.e. sorted uniforms, built
 *   from normalised cumulative sums of n + 1 exponential gaps (no sort needed).
 */
export function fillArrivals(
  out: Float64Array,
  n: number,
  widthNs: number,
  distribution: Distribution,
  u: Uniform,
): void {
  if (n === 0) return
  if (n > widthNs) throw new RangeError(`${n} arrivals cannot be unique in ${widthNs} ns`)
  const room = widthNs - n
  if (distribution === 'uniform') {
    const step = room / n
    for (let k = 0; k < n; k++) out[k] = Math.floor(k * step) + k
    return
  }
  let sum = 0
  for (let k = 0; k < n; k++) {
    sum += -Math.log(1 - u())
    out[k] = sum
  }
  sum += -Math.log(1 - u())
  const scale = room / sum
  for (let k = 0; k < n; k++) out[k] = Math.floor(out[k]! * scale) + k
}
