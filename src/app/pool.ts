import { ShardPool } from '../../workers/pool.js'

/** What the pool says of itself (for the metrics of a `run`). */
export type PoolStats = ReturnType<ShardPool['stats']>

/**
 * Runs `fn` on a pool of its own and closes the pool however `fn` ends: a pool left open keeps
 * its worker threads, and with them the process, alive.
 */
export async function withPool<T>(size: number, fn: (pool: ShardPool) => Promise<T>): Promise<T> {
  const pool = new ShardPool(size)
  try {
    return await fn(pool)
  } finally {
    await pool.close()
  }
}
