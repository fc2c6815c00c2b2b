/**
 * A round lot's count of 100-share lots, m = max(1, round(e^(0.4 + 0.8·Z))) for a standard normal
 * Z, drawn from one 32-bit uniform by inverting its distribution function: no normal, no exp
 * (bench:encode: ~15 ns a trade less than sampling Z and taking e^).
 *
 * P(m ≤ M) = Φ((ln(M + ½) − 0.4) / 0.8). CUT[M] is that in units of 2^-32, so a draw v
 * (0 ≤ v < 2^32) gives the first M with v < CUT[M]. GUIDE, indexed by v's top 10 bits, says where
 * to start looking: on average about one comparison. The range ends where the rest of the mass is
 * below 2^-32 (m ≈ 220, Z ≈ 6.2).
 *
 * Φ is integrated here (Simpson's rule between thresholds) rather than taken from an erf
 * approximation: exact to ~1e-13, in plain arithmetic and Math.exp, so the same bits everywhere.
 */

const MU = 0.4
const SIGMA = 0.8
const TWO_32 = 0x100000000
const GUIDE_BITS = 10
/** a draw's top GUIDE_BITS bits: v >>> GUIDE_SHIFT */
export const GUIDE_SHIFT = 32 - GUIDE_BITS
const density = (z: number): number => Math.exp(-0.5 * z * z) / Math.sqrt(2 * Math.PI)

/** ∫ density over [a, b], composite Simpson with n (even) panels. */
function integral(a: number, b: number, n: number): number {
  const h = (b - a) / n
  let sum = density(a) + density(b)
  for (let k = 1; k < n; k++) sum += density(a + k * h) * (k % 2 === 1 ? 4 : 2)
  return (sum * h) / 3
}

const cuts: number[] = [0] // index 0 unused: m starts at 1
{
  let z = (Math.log(1.5) - MU) / SIGMA
  let cdf = 0.5 + integral(0, z, 64)
  for (let m = 1; ; m++) {
    // within one unit of the top (the sum's own error is ~1e-13): the last lot count takes the rest
    if (cdf * TWO_32 >= TWO_32 - 1) {
      cuts.push(Infinity)
      break
    }
    cuts.push(Math.floor(cdf * TWO_32))
    const next = (Math.log(m + 1.5) - MU) / SIGMA
    cdf += integral(z, next, 64)
    z = next
  }
}

/** CUT[m]: draws below it give at most m lots; the last entry is Infinity. */
export const CUT = Float64Array.from(cuts)

/** GUIDE[g]: the lot count for the smallest draw with top bits g, where the search starts. */
export const GUIDE = new Int32Array(1 << GUIDE_BITS)
for (let g = 0, m = 1; g < GUIDE.length; g++) {
  const v = g * 2 ** GUIDE_SHIFT
  while (v >= CUT[m]!) m++
  GUIDE[g] = m
}

/** Lots for a draw v in [0, 2^32): the inline lookup's reference. */
export function roundLots(v: number): number {
  let m = GUIDE[v >>> GUIDE_SHIFT]!
  while (v >= CUT[m]!) m++
  return m
}
