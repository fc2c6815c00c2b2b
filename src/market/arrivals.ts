import { A, B, C, D, type Draws } from './rng.js'
import { exponential, exponentialSlow, KE, WE } from './ziggurat.js'
import { normalise, type Profile } from './session.js'

/**
 * Arrival times of one symbol's trades inside one shard: `out[0..n)` gets strictly increasing
 * integer offsets in [0, widthNs), nanoseconds from the shard start.
 *
 * Constant rate (`evenly` or Poisson): draw n non-decreasing values v_k in [0, widthNs − n] and
 * use v_k + k. Adding the rank makes equal neighbours distinct and the maximum is widthNs − 1; the
 * shift is at most n ns over the shard, far below anything a candle can see.
 *
 * Poisson: a Poisson process conditioned on exactly n arrivals is n sorted uniforms, built from
 * normalised cumulative sums of n + 1 exponential gaps (no sort needed).
 */
export function fillArrivals(out: Float64Array, n: number, widthNs: number, evenly: boolean, u: Draws): void {
  if (n === 0) return
  if (n > widthNs) throw new RangeError(`${n} arrivals cannot be unique in ${widthNs} ns`)
  const room = widthNs - n
  if (evenly) {
    const step = room / n
    for (let k = 0; k < n; k++) out[k] = Math.floor(k * step) + k
    return
  }
  const scale = room / sortedUniforms(out, n, u)
  for (let k = 0; k < n; k++) out[k] = Math.floor(out[k]! * scale) + k
}

/**
 * Fills out[0..n) with cumulative exponential sums; returns the total including one more gap.
 * The gaps are ziggurat exponentials with Tyche-i stepped inline, state in locals (see Draws and
 * ziggurat.ts): the same numbers as `exponential(u)` taken n + 1 times.
 */
function sortedUniforms(out: Float64Array, n: number, u: Draws): number {
  const st = u.state
  let a = st[A]!
  let b = st[B]!
  let c = st[C]!
  let d = st[D]!
  let sum = 0
  for (let k = 0; k < n; k++) {
    // Tyche-i's step (Draws#int32), then the ziggurat exponential's fast path
    b = (b << 25) ^ (b >>> 7) ^ c; c = (c - d) | 0; d = (d << 24) ^ (d >>> 8) ^ a; a = (a - b) | 0
    b = (b << 20) ^ (b >>> 12) ^ c; c = (c - d) | 0; d = (d << 16) ^ (c >>> 16) ^ a; a = (a - b) | 0
    const i = a & 255
    const j = a >>> 8
    if (j < KE[i]!) sum += j * WE[i]!
    else {
      st[A] = a; st[B] = b; st[C] = c; st[D] = d
      sum += exponentialSlow(st, i, j)
      a = st[A]!; b = st[B]!; c = st[C]!; d = st[D]!
    }
    out[k] = sum
  }
  st[A] = a
  st[B] = b
  st[C] = c
  st[D] = d
  return sum + exponential(u)
}

/**
 * Arrivals from a varying rate: random arrivals (as Poisson, conditioned on n) pushed through the
 * inverse of the profile's piecewise-linear CDF, then nudged apart to be unique integers.
 */
export function fillArrivalsFromProfile(out: Float64Array, n: number, widthNs: number, profile: Profile, u: Draws): void {
  if (n === 0) return
  if (n > widthNs) throw new RangeError(`${n} arrivals cannot be unique in ${widthNs} ns`)
  const total = sortedUniforms(out, n, u)
  const { t, c } = profile
  let j = 0
  for (let k = 0; k < n; k++) {
    const q = out[k]! / total
    while (j < c.length - 2 && c[j + 1]! <= q) j++
    const dc = c[j + 1]! - c[j]!
    out[k] = Math.floor(dc > 0 ? t[j]! + ((q - c[j]!) / dc) * (t[j + 1]! - t[j]!) : t[j]!)
  }
  // Forward: strictly increasing; backward: inside [0, widthNs). Both hold since n ≤ widthNs.
  let prev = -1
  for (let k = 0; k < n; k++) {
    const v = Math.max(out[k]!, prev + 1)
    out[k] = v
    prev = v
  }
  let next = widthNs
  for (let k = n - 1; k >= 0 && out[k]! >= next; k--) {
    out[k] = next - 1
    next = out[k]!
  }
}

/**
 * Clustered arrivals: calm periods and bursts alternate (exponential durations, means 60 s and
 * 5 s), bursts 20 times as intense. Per (symbol, shard); the clustering makes per-second counts
 * over-dispersed (variance well above the mean), unlike Poisson.
 */
export function burstProfile(widthNs: number, u: Draws): Profile {
  const CALM_NS = 60e9
  const BURST_NS = 5e9
  const BURST_LEVEL = 20
  const t = [0]
  const c = [0]
  let at = 0
  let mass = 0
  let burst = u.next() < BURST_NS / (BURST_NS + CALM_NS)
  while (at < widthNs) {
    const len = Math.min(widthNs - at, exponential(u) * (burst ? BURST_NS : CALM_NS))
    at += len
    mass += len * (burst ? BURST_LEVEL : 1)
    t.push(at)
    c.push(mass)
    burst = !burst
  }
  return normalise(t, c, mass)
}
