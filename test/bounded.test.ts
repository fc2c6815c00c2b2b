import { setTimeout as sleep } from 'node:timers/promises'
import { describe, expect, it } from 'vitest'
import { runBounded } from '../src/load/bounded.js'

describe('runBounded', () => {
  it('never runs more than the limit at once, and runs every item', async () => {
    let now = 0
    let peak = 0
    const done: number[] = []
    await runBounded(20, 3, async (i) => {
      peak = Math.max(peak, ++now)
      await sleep(1 + (i % 4))
      now--
      done.push(i)
    })
    expect(peak).toBe(3)
    expect(done.sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i))
  })

  it('starts nothing new once stopped', async () => {
    const started: number[] = []
    await runBounded(100, 2, async (i) => {
      started.push(i)
      await sleep(1)
    }, () => started.length >= 5)
    expect(started).toHaveLength(5)
  })

  it('after a failure starts nothing new, and rejects only once the running tasks have settled', async () => {
    const settled: number[] = []
    await expect(
      runBounded(10, 3, async (i) => {
        await sleep(i === 1 ? 1 : 20)
        settled.push(i)
        if (i === 1) throw new Error('boom')
      }),
    ).rejects.toThrow('boom')
    // 0 and 2 were running when 1 failed: both finished; 3 was never started
    expect(settled.sort()).toEqual([0, 1, 2])
  })
})
