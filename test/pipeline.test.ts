import { randomBytes } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { DEFAULT_LOAD_OPTIONS } from '../src/load/run.js'
import { executeShard, workerShared } from '../workers/executeShard.js'
import { CircuitBreaker, DEFAULT_BREAKER } from '../shared/breaker.js'
import { openSink } from '../workers/sinks.js'
import { DEFAULT_RETRY } from '../shared/retryPolicy.js'
import { toShardSpec } from '../shared/messages.js'
import { CONTROL_SLOTS } from '../shared/control.js'
import { WriteSlots } from '../workers/slots.js'
import { planLoad } from '../src/plan/plan.js'
import { runLoad, spec } from './harness/load.js'
import { forward, startFakeInflux, type Script } from './harness/fakeInflux.js'
import { countInflux } from './harness/servers.js'

const influxUrl = inject('influxUrl')

/**
 * A pass-through proxy in front of the real influxd that only watches: how many writes are open
 * at once, and which shard each write belongs to (from its first line's timestamp). Not a fake:
 * every request and answer is influxd's own.
 */
async function watchingProxy(shardOf: (tsNs: bigint) => number) {
  let open = 0
  const seen = { maxOpen: 0, shards: new Map<number, { firstStart: number; lastEnd: number }>() }
  const target = new URL(influxUrl)
  const watch: Script = (req) => {
    if (!req.url.startsWith('/write')) return forward(req, new URL(req.url, target))
    open++
    seen.maxOpen = Math.max(seen.maxOpen, open)
    const first = req.body.subarray(0, req.body.indexOf(10)).toString()
    const shard = shardOf(BigInt(first.slice(first.lastIndexOf(' ') + 1)))
    const s = seen.shards.get(shard) ?? { firstStart: performance.now(), lastEnd: 0 }
    seen.shards.set(shard, s)
    return forward(req, new URL(req.url, target), {
      done: () => {
        open--
        s.lastEnd = performance.now()
      },
    })
  }
  const server = await startFakeInflux(watch, { record: false })
  return { url: server.url, seen, close: () => server.close() }
}

describe('a worker overlaps shards without raising its in-flight limit', () => {
  const request = { symbols: ['AAPL', 'MSFT'], from: '2024-02-05T00:00:00Z', to: '2024-02-06T00:00:00Z', trades: 600_000, seed: 'pipeline', batchSize: 5000 }
  const s = spec(request)
  const plan = planLoad(s)
  const fromNs = BigInt(Date.parse(request.from)) * 1_000_000n
  const shardNs = (BigInt(Date.parse(request.to)) * 1_000_000n - fromNs) / BigInt(plan.shardCount)
  let proxy: Awaited<ReturnType<typeof watchingProxy>>
  let url = ''
  beforeAll(async () => {
    proxy = await watchingProxy((ts) => Math.min(plan.shardCount - 1, Number((ts - fromNs) / shardNs)))
    url = proxy.url
  })
  afterAll(() => proxy.close())

  it('one worker, max 2 in flight: never a third write open, the next shard starts before the last one ends, every point lands', async () => {
    expect(plan.shardCount).toBeGreaterThan(3)
    const db = `t_pipe_${randomBytes(4).toString('hex')}`
    const result = await runLoad(s, { kind: 'influx-v1', url, db, timeoutMs: 30_000 }, 1, { ...DEFAULT_LOAD_OPTIONS, maxInFlight: 2 })
    expect(result).toMatchObject({ status: 'succeeded', pointsPlanned: 600_000, pointsWritten: 600_000, pointsFailed: 0 })
    expect(await countInflux(influxUrl, db)).toBe(600_000)

    expect(proxy.seen.maxOpen).toBe(2)
    const shards = [...proxy.seen.shards.entries()].sort((a, b) => a[0] - b[0])
    expect(shards.map(([i]) => i)).toEqual(Array.from({ length: plan.shardCount }, (_, i) => i))
    // The database is not left waiting at shard boundaries: some shard's first write goes out
    // while the shard before it still has writes open.
    const overlaps = shards.slice(1).filter(([i, cur]) => cur.firstStart < proxy.seen.shards.get(i - 1)!.lastEnd)
    expect(overlaps.length).toBeGreaterThan(0)
  })
})

describe('write slots', () => {
  it('hand out at most `size` at once, first come first served', async () => {
    const slots = new WriteSlots(2)
    const order: number[] = []
    await slots.acquire()
    await slots.acquire()
    expect(slots.held).toBe(2)
    const waiting = [1, 2, 3].map((n) => slots.acquire().then(() => order.push(n)))
    await Promise.resolve()
    expect(order).toEqual([])
    slots.release()
    await waiting[0]
    expect(order).toEqual([1])
    slots.release()
    slots.release()
    await Promise.all(waiting)
    expect(order).toEqual([1, 2, 3])
    expect(slots.held).toBe(2)
    slots.release()
    slots.release()
    expect(slots.held).toBe(0)
  })
})

describe('a worker reuses its buffers from shard to shard', () => {
  it('bodies and columns come back to the worker after every shard', async () => {
    const s = spec({ symbols: ['AAPL', 'MSFT'], from: '2024-02-05T00:00:00Z', to: '2024-02-06T00:00:00Z', trades: 500_000, seed: 'reuse', batchSize: 5000 })
    const plan = planLoad(s)
    const shared = workerShared(2)
    const breaker = CircuitBreaker.create(DEFAULT_BREAKER)
    const sink = await openSink({ kind: 'null' }, 2)
    const bodies = new Set<unknown>()
    for (let shard = 0; shard < plan.shardCount; shard++) {
      const control = new Int32Array(new SharedArrayBuffer(CONTROL_SLOTS * 4))
      const result = await executeShard(
        { shard, shardCount: plan.shardCount, spec: toShardSpec(s), sink: { kind: 'null' }, maxInFlight: 2, retry: DEFAULT_RETRY, control, breaker: { buffer: breaker.buffer, settings: DEFAULT_BREAKER }, concurrency: { max: 2, adaptive: true, decreaseEveryMs: 1000 } },
        sink,
        () => {},
        shared,
      )
      expect(result.status).toBe('completed')
      for (const b of shared.bodies) bodies.add(b)
      // Everything is back: one body per write slot and the one being filled (the shards here end
      // on a full batch, so that one is empty and was never sent), and the columns.
      expect(shared.bodies).toHaveLength(3)
      expect(shared.slots.held).toBe(0)
      expect(shared.columns).toHaveLength(1)
    }
    // and they are the same three from the first shard to the last
    expect(plan.shardCount).toBeGreaterThan(3)
    expect(bodies.size).toBe(3)
  })
})
