/**
 * e^x in JavaScript arithmetic, equal bit for bit to V8's Math.exp (fdlibm's exp, V8's
 * base::ieee754::exp). Why: Math.exp is a call into C++, and the trade loop's live doubles are
 * spilled around each call; this is inlined instead (bench:encode: generation ~3% faster). Inputs
 * off its main path (non-finite, |x| < 2^-28, |x| ≥ 708, and x = 1, which fdlibm special-cases)
 * go to Math.exp itself, so results are the same for every input. The unit tests compare the two
 * on millions of inputs; the pinned dataset digests compare whole loads.
 */

/** POW2[BIAS + k] = 2^k exactly, for |k| ≤ 1022: scaling by it is exact. */
const BIAS = 1022
const POW2 = new Float64Array(2 * BIAS + 1)
for (let k = 0, p = 1; k <= BIAS; k++, p *= 2) POW2[BIAS + k] = p
for (let k = 0, p = 1; k <= BIAS; k++, p /= 2) POW2[BIAS - k] = p

/** The double whose high 32 bits are `hi` and low 32 bits 0: fdlibm's thresholds compare high words. */
function withHighWord(hi: number): number {
  const view = new DataView(new ArrayBuffer(8))
  view.setUint32(0, hi >>> 0)
  return view.getFloat64(0)
}

const LN2_HI = 6.93147180369123816490e-1 // 0x3FE62E42 FEE00000
const LN2_LO = 1.90821492927058770002e-10 // 0x3DEA39EF 35793C76
const INV_LN2 = 1.44269504088896338700e0
const P1 = 1.66666666666666019037e-1
const P2 = -2.77777777770155933842e-3
const P3 = 6.61375632143793436117e-5
const P4 = -1.65339022054652515390e-6
const P5 = 4.13813679705723846039e-8
/** |x| above 0.5·ln2 is reduced by k·ln2 (by ±ln2 below 1.5·ln2) */
const HALF_LN2 = withHighWord(0x3fd62e43)
const ONE_HALF_LN2 = withHighWord(0x3ff0a2b2)
const TINY = withHighWord(0x3e300000)
/** from here on fdlibm scales in two steps (|k| ≥ 1022); Math.exp does those */
const BIG = 708

export function exp(x: number): number {
  const ax = x < 0 ? -x : x
  if (!(ax >= TINY && ax < BIG) || x === 1) return Math.exp(x)
  if (ax < HALF_LN2) {
    const t = x * x
    const c = x - t * (P1 + t * (P2 + t * (P3 + t * (P4 + t * P5))))
    return 1 - ((x * c) / (c - 2.0) - x)
  }
  // x = k·ln2 + (hi − lo), |hi − lo| ≤ 0.5·ln2
  const k = ax < ONE_HALF_LN2 ? (x < 0 ? -1 : 1) : (INV_LN2 * x + (x < 0 ? -0.5 : 0.5)) | 0
  const hi = x - k * LN2_HI
  const lo = k * LN2_LO
  const r = hi - lo
  const t = r * r
  const c = r - t * (P1 + t * (P2 + t * (P3 + t * (P4 + t * P5))))
  return (1 - (lo - (r * c) / (2.0 - c) - hi)) * POW2[BIAS + k]!
}
