import { setTimeout as sleep } from 'node:timers/promises'

/**
 * Polls `condition` until it holds, else throws naming what was awaited. In place of a fixed sleep
 * before an expect: a sleep long enough for a busy machine is too long on an idle one, and the
 * other way round.
 */
export async function until(what: string, condition: () => boolean | Promise<boolean>, timeoutMs = 10_000, everyMs = 20): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    if (await condition()) return
    if (Date.now() > deadline) throw new Error(`waited ${timeoutMs} ms for ${what}`)
    await sleep(everyMs)
  }
}
