/**
 * Runs `task(0..count)` with at most `limit` running at once, starting no new task once `stopped()`
 * is true. Resolves when every started task has settled; if any rejected, rejects with the first
 * error, but only after the others have settled, so nothing is left running behind the caller.
 *
 * Work is handed out a few items at a time rather than all at once: a 10^10-trade load has 10^5
 * shards, and a cancelled load should not leave thousands of tasks in the pool's queue.
 */
export async function runBounded(
  count: number,
  limit: number,
  task: (i: number) => Promise<void>,
  stopped: () => boolean = () => false,
): Promise<void> {
  const running = new Set<Promise<void>>()
  let failure: { error: unknown } | undefined
  for (let i = 0; i < count; i++) {
    while (running.size >= limit) await Promise.race(running)
    if (stopped() || failure) break
    const p: Promise<void> = task(i)
      .catch((error: unknown) => {
        failure ??= { error }
      })
      .finally(() => running.delete(p))
    running.add(p)
  }
  await Promise.all(running)
  if (failure) throw failure.error
}
