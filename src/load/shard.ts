import { toErrorInfo, WriteError, type ErrorInfo } from '../errors.js'
import { TradeEncoder, Body } from '../lineprotocol/encoder.js'
import { GbmModel } from '../market/gbm.js'
import { shardSeries } from '../market/series.js'
import { EXCHANGES, type MarketModel } from '../market/trades.js'
import { planLoad } from '../plan/plan.js'
import { withRetry } from '../sink/retry.js'
import type { Sink } from '../sink/target.js'
import { RUN, STOP_FAILED, type ProgressDelta, type ShardResult, type ShardTask } from '../../workers/messages.js'

function emptyDelta(shard: number): ProgressDelta {
  return { shard, written: 0, failed: 0, bytes: 0, batches: 0, retries: 0, errors: [], latencies: [] }
}

/**
 * Generates, encodes and writes one shard. Runs inside a worker thread but knows nothing of
 * threads: the sink and the progress callback are handed in, so tests can run it directly.
 *
 * Concurrency: generation is synchronous; a finished body is handed to the sink and generation
 * goes on into another body while up to `maxInFlight` writes are outstanding. Bodies are recycled
 * only after their write settles, so a body is never overwritten while the socket still reads it.
 */
export async function executeShard(
  task: Omit<ShardTask, 'port'>,
  sink: Sink,
  report: (delta: ProgressDelta) => void,
): Promise<ShardResult> {
  const { spec, shard, control } = task
  const plan = planLoad(spec)
  const model: MarketModel = new GbmModel(spec, plan)
  const [startMs] = plan.shardBounds(shard)
  const encoder = new TradeEncoder(spec.measurement, EXCHANGES, model.tickDecimals)

  let planned = 0
  for (let j = 0; j < spec.symbols.length; j++) planned += plan.seriesCount(j, shard).count

  const result: ShardResult = { shard, status: 'completed', planned, written: 0, failed: 0, bytes: 0, batches: 0, retries: 0 }
  let firstError: ErrorInfo | undefined
  const stopped = () => Atomics.load(control, 0) !== RUN

  const free: Body[] = []
  const inFlight = new Set<Promise<void>>()
  const newBody = () => free.pop() ?? new Body(Math.min(spec.batchSize, planned || 1) * 120)

  const send = (body: Body): Promise<void> => {
    const lines = body.lines
    const bytes = body.length
    const delta = emptyDelta(shard)
    const started = performance.now()
    const p = withRetry(() => sink.write(body.view(), lines), task.retry, {
      stopped,
      onRetry: (err) => {
        delta.retries++
        delta.errors.push({ kind: err.kind, status: err.status })
      },
    })
      .then(
        () => {
          delta.written = lines
          delta.bytes = bytes
          delta.batches = 1
          delta.latencies.push((performance.now() - started) / 1000)
        },
        (e: unknown) => {
          const err = e instanceof WriteError ? e : new WriteError(String(e))
          delta.written = err.pointsAccepted
          delta.failed = lines - err.pointsAccepted
          delta.errors.push({ kind: err.kind, status: err.status })
          firstError ??= toErrorInfo(err)
          // Tell every worker of this load to stop: the load has failed and its account must say
          // so now, not after the remaining shards have hammered a broken sink.
          Atomics.store(control, 0, STOP_FAILED)
        },
      )
      .finally(() => {
        result.written += delta.written
        result.failed += delta.failed
        result.bytes += delta.bytes
        result.batches += delta.batches
        result.retries += delta.retries
        report(delta)
        body.reset()
        free.push(body)
        inFlight.delete(p)
      })
    inFlight.add(p)
    return p
  }

  // Waits for a free slot; resolves at once while fewer than maxInFlight writes are outstanding.
  const slot = async () => {
    while (inFlight.size >= task.maxInFlight) await Promise.race(inFlight)
  }

  let body = newBody()
  try {
    outer: for (const { j, count, offset, cols } of shardSeries(plan, model, shard)) {
      encoder.useSymbol(spec.symbols[j]!)
      for (let k = 0; k < count; ) {
        if (stopped()) break outer
        const take = Math.min(count - k, spec.batchSize - body.lines)
        encoder.encode(cols, k, k + take, startMs, offset + 1 + k, body)
        k += take
        if (body.lines === spec.batchSize) {
          await slot()
          if (stopped()) break outer
          void send(body)
          body = newBody()
        }
      }
    }
    if (body.lines > 0 && !stopped()) {
      await slot()
      if (!stopped()) void send(body)
    }
  } finally {
    // Whatever happened, every write already sent is accounted before the shard reports.
    while (inFlight.size > 0) await Promise.race(inFlight)
  }

  if (firstError) {
    result.status = 'failed'
    result.error = firstError
  } else if (result.written + result.failed < planned) {
    result.status = 'stopped'
  }
  return result
}
