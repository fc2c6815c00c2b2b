/**
 * Counter-based randomness: a uniform or normal draw that is a pure function of (key, counter).
 * Used where a stream would be wasteful: the Brownian path at shard edges needs a handful of
 * draws at arbitrary tree nodes, and seeding a generator per node costs microseconds.
 */

/** 32-bit FNV-1a of a string: turns `${seed}/${symbol}` into a key. */
export function hashString(s: string): number {
  let h = 0x811c9dc5
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i)
    h = Math.imul(h, 0x01000193)
  }
  return h >>> 0
}

/** A strong 32-bit mix (murmur3 finaliser) of key and counter. */
function mix(key: number, counter: number, lane: number): number {
  let h = (key ^ Math.imul(counter + 1, 0x9e3779b1) ^ Math.imul(lane + 1, 0x85ebca6b)) >>> 0
  h ^= h >>> 16
  h = Math.imul(h, 0x85ebca6b)
  h ^= h >>> 13
  h = Math.imul(h, 0xc2b2ae35)
  h ^= h >>> 16
  return h >>> 0
}

/** Uniform on (0, 1) with 53 bits, from (key, counter, lane). Never 0: safe under log. */
function uniformAt(key: number, counter: number, lane = 0): number {
  const hi = mix(key, counter, lane * 2) >>> 5
  const lo = mix(key, counter, lane * 2 + 1) >>> 6
  return (hi * 67108864 + lo + 0.5) / 9007199254740992
}

/** Standard normal from (key, counter), by Box–Muller on two counter-based uniforms. */
export function normalAt(key: number, counter: number): number {
  const u1 = uniformAt(key, counter, 0)
  const u2 = uniformAt(key, counter, 1)
  return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2)
}
