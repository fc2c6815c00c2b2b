/**
 * Sets of line offsets within a shard as sorted, disjoint, half-open ranges [from, to). A shard's
 * acknowledged lines are one or two ranges in practice, so an exact account per shard costs a few
 * numbers, never per-point state.
 */
export type Range = [number, number]

/** Adds [from, to) to a sorted, disjoint list, merging neighbours. Returns the same array. */
export function addRange(set: Range[], from: number, to: number): Range[] {
  if (to <= from) return set
  let i = 0
  while (i < set.length && set[i]![1] < from) i++
  let j = i
  let lo = from
  let hi = to
  while (j < set.length && set[j]![0] <= hi) {
    lo = Math.min(lo, set[j]![0])
    hi = Math.max(hi, set[j]![1])
    j++
  }
  set.splice(i, j - i, [lo, hi])
  return set
}

export function rangeTotal(set: readonly Range[]): number {
  let n = 0
  for (const [a, b] of set) n += b - a
  return n
}

/** The part of `set` not in `minus`, as a new list. */
export function subtractRanges(set: readonly Range[], minus: readonly Range[]): Range[] {
  const out: Range[] = []
  for (const [a, b] of set) {
    let lo = a
    for (const [c, d] of minus) {
      if (d <= lo || c >= b) continue
      if (c > lo) out.push([lo, c])
      lo = Math.max(lo, d)
      if (lo >= b) break
    }
    if (lo < b) out.push([lo, b])
  }
  return out
}

/** Whether [from, to) lies entirely inside one range of the set. */
export function covers(set: readonly Range[], from: number, to: number): boolean {
  for (const [a, b] of set) if (a <= from && to <= b) return true
  return false
}

/** Whether a value is a well-formed range list (from an account file). */
export function isRangeList(v: unknown): v is Range[] {
  if (!Array.isArray(v)) return false
  let prev = -1
  for (const r of v) {
    if (!Array.isArray(r) || r.length !== 2 || !Number.isSafeInteger(r[0]) || !Number.isSafeInteger(r[1])) return false
    const [a, b] = r as [number, number]
    if (a <= prev || b <= a) return false
    prev = b
  }
  return true
}
