import { describe, expect, it } from 'vitest'
import { DeltaBuffer } from '../workers/deltas.js'
import type { ProgressDelta } from '../shared/messages.js'

describe('progress deltas', () => {
  let offset = 0
  const delta = (written: number, latency: number, at = offset): ProgressDelta => ({
    shard: 3,
    acked: [[at, (offset = at + written)]],
    written,
    failed: 1,
    bytes: written * 100,
    batches: 1,
    retries: 0,
    splits: 0,
    errors: [{ kind: 'retryable', status: 503 }],
    latencies: [latency],
    encodeSeconds: [0.001],
  })

  it('are merged into one message per interval, and flush() posts the rest at once', async () => {
    const posted: ProgressDelta[] = []
    const deltas = new DeltaBuffer((d) => posted.push(d), 30)
    deltas.add(delta(10, 0.1))
    deltas.add(delta(20, 0.2))
    expect(posted).toEqual([])
    await new Promise((r) => setTimeout(r, 60))
    // the acknowledged ranges merge: [0, 10) and [10, 30) are [0, 30)
    expect(posted).toEqual([{ ...delta(30, 0.1, 0), failed: 2, bytes: 3000, batches: 2, errors: [{ kind: 'retryable', status: 503 }, { kind: 'retryable', status: 503 }], latencies: [0.1, 0.2], encodeSeconds: [0.001, 0.001] }])
    deltas.add(delta(5, 0.3))
    deltas.flush()
    deltas.flush()
    expect(posted).toHaveLength(2)
    expect(posted[1]).toMatchObject({ written: 5, latencies: [0.3] })
  })

  it('with 0 ms, go out one by one as they come', () => {
    const posted: ProgressDelta[] = []
    const deltas = new DeltaBuffer((d) => posted.push(d), 0)
    deltas.add(delta(10, 0.1))
    deltas.add(delta(20, 0.2))
    expect(posted.map((d) => d.written)).toEqual([10, 20])
  })
})
