/**
 * Exact integer splitting. `share(total, parts, i)` is part i of `total` cut into `parts` nearly
 * equal integers: floor(total·(i+1)/parts) − floor(total·i/parts). The parts sum to `total` exactly,
 * any part can be computed alone (no prefix sums, no state), and `before(total, parts, i)` gives
 * the sum of parts 0..i−1, which is what trade ids and shard offsets need.
 */
export function before(total: number, parts: number, index: number): number {
  const product = total * index
  if (product <= Number.MAX_SAFE_INTEGER) return Math.floor(product / parts)
  // Past 2^53 the double product is inexact; BigInt keeps the split exact for huge plans.
  return Number((BigInt(total) * BigInt(index)) / BigInt(parts))
}

export function share(total: number, parts: number, index: number): number {
  return before(total, parts, index + 1) - before(total, parts, index)
}
