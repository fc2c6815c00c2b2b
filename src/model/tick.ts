// Apart from request.ts (TypeBox): the generator in every worker thread needs these, and importing
// TypeBox costs a thread ~0.15 s of CPU.

/** Tick sizes are decimal: some m·10^-d with d ≤ 8, so prices are written exactly as integers. */
export const MAX_TICK_DECIMALS = 8

/** Number of decimals of a tick size, or -1 when it is not m·10^-d for d ≤ MAX_TICK_DECIMALS. */
export function tickDecimals(tick: number): number {
  for (let d = 0; d <= MAX_TICK_DECIMALS; d++) {
    const scaled = tick * 10 ** d
    if (Math.abs(scaled - Math.round(scaled)) < 1e-9 * Math.max(1, scaled)) return d
  }
  return -1
}
