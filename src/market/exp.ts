/**
 * e^x for the trade loop: table-driven, no division, inlined by V8 (Math.exp is a call into C++,
 * and the loop's live doubles are spilled around each call; fdlibm's algorithm, ported, still
 * costs a division on the loop's path).
 *
 * x = (256·m + j)·ln2/256 + r with |r| ≤ ln2/512, so e^x = 2^m · 2^(j/256) · e^r, e^r by its
 * Taylor polynomial to r⁵ (the first term left out is below 2^-60). Within 1 ulp of Math.exp
 * (the unit tests measure it on millions of inputs). Deterministic: IEEE double arithmetic in a
 * fixed order and tables built once from exact powers of two and Math.pow, which V8 computes with
 * its own fdlibm port. Inputs beyond ±700 (never met by prices or sizes) go to Math.exp.
 */

/** POW2[BIAS + m] = 2^m exactly, for |m| ≤ 1022: scaling by it is exact. */
const BIAS = 1022
const POW2 = new Float64Array(2 * BIAS + 1)
for (let m = 0, p = 1; m <= BIAS; m++, p *= 2) POW2[BIAS + m] = p
for (let m = 0, p = 1; m <= BIAS; m++, p /= 2) POW2[BIAS - m] = p

/** STEP[j] = 2^(j/256) */
const STEP = new Float64Array(256)
for (let j = 0; j < 256; j++) STEP[j] = Math.pow(2, j / 256)

const INV_STEP = 256 / Math.LN2
/** ln2/256 in two parts: the high one has 21 trailing zero bits, so k·HI is exact for |k| < 2^21. */
const STEP_HI = 6.9314718036912382e-1 / 256 // fdlibm's ln2_hi, 0x3FE62E42 FEE00000
const STEP_LO = 1.9082149292705877e-10 / 256 // fdlibm's ln2_lo
const LIMIT = 700

export function exp(x: number): number {
  if (!(x > -LIMIT && x < LIMIT)) return Math.exp(x)
  const k = Math.round(x * INV_STEP)
  const r = x - k * STEP_HI - k * STEP_LO
  const p = 1 + r * (1 + r * (0.5 + r * (1 / 6 + r * (1 / 24 + r * (1 / 120)))))
  return POW2[BIAS + (k >> 8)]! * (STEP[k & 255]! * p)
}
