import { toErrorInfo, WriteError } from '../src/errors.js'
import type { ErrorInfo } from '../src/model/errors.js'
import { TradeEncoder, Body, newFragmentCache, type FragmentCache } from '../src/lineprotocol/encoder.js'
import { GbmModel, loadParamsKey } from '../src/market/gbm.js'
import { shardSeries, type Scratch } from '../src/market/series.js'
import { allocColumns, EXCHANGES, type MarketModel } from '../src/market/trades.js'
import { planLoad } from '../src/plan/plan.js'
import type { SymbolParamsSpec } from '../src/model/request.js'
import { CircuitBreaker } from '../shared/breaker.js'
import { WriteConcurrency } from '../shared/concurrency.js'
import { withRetry, WriteStoppedError, type RetryContext } from './retry.js'
import type { Sink } from '../src/sink/target.js'
import type { ProgressDelta, ShardResult, ShardTask } from '../shared/messages.js'
import { ABANDON, IN_FLIGHT, isStopped, signalStop, sleepUnlessStopped, STOP_FAILED, whenAbandoned } from '../shared/control.js'
import { nowMicros, Pacer } from '../shared/pacer.js'
import { addRange, covers, rangeTotal, subtractRanges, type Range } from '../shared/ranges.js'
import { WriteSlots } from './slots.js'

/** What the shards a worker runs share: write slots, spare bodies and columns (see executeShard). */
export interface WorkerShared {
  slots: WriteSlots
  bodies: Body[]
  columns: Scratch[]
  /** encoder fragments per measurement: built once per symbol, not once per series and shard */
  fragments: Map<string, FragmentCache>
  /** symbol parameters by index, per load (see GbmModel and loadParamsKey); the last two loads' */
  params: Map<string, (SymbolParamsSpec | undefined)[]>
}

export function workerShared(maxInFlight: number): WorkerShared {
  return { slots: new WriteSlots(maxInFlight), bodies: [], columns: [], fragments: new Map(), params: new Map() }
}

function paramsFor(shared: WorkerShared, spec: ShardTask['spec']): (SymbolParamsSpec | undefined)[] {
  const key = loadParamsKey(spec)
  let params = shared.params.get(key)
  if (!params) {
    if (shared.params.size >= 2) shared.params.clear()
    params = []
    shared.params.set(key, params)
  }
  return params
}

/** The worker's fragment cache for a measurement; one measurement's at a time (loads rarely mix). */
function fragmentsFor(shared: WorkerShared, measurement: string): FragmentCache {
  let cache = shared.fragments.get(measurement)
  if (!cache) {
    if (shared.fragments.size >= 4) shared.fragments.clear()
    cache = newFragmentCache()
    shared.fragments.set(measurement, cache)
  }
  return cache
}

function emptyDelta(shard: number): ProgressDelta {
  return { shard, written: 0, failed: 0, bytes: 0, batches: 0, retries: 0, splits: 0, acked: [], errors: [], latencies: [], encodeSeconds: [] }
}

/** Splits a body of `lines` lines at the line boundary nearest its middle. */
export function splitBody(body: Buffer, lines: number): [Buffer, number, Buffer, number] {
  const half = Math.floor(lines / 2)
  let at = 0
  for (let n = 0; n < half; n++) at = body.indexOf(10, at) + 1
  return [body.subarray(0, at), half, body.subarray(at), lines - half]
}

/**
 * Generates, encodes and writes one shard. Runs inside a worker thread but knows nothing of
 * threads: the sink and the progress callback are handed in, so tests can run it directly.
 *
 * Concurrency: generation is synchronous; a finished body is handed to the sink and generation
 * goes on into another body while writes are outstanding, up to one per write slot. What is in
 * `shared` belongs to the worker, not the shard: the write slots of every shard it runs at once
 * (see WriteSlots), and spare bodies and columns, recycled from shard to shard instead of allocated
 * per shard (megabytes each, outside V8's heap: they made RSS grow with the load). By default a
 * shard has its own. Bodies are recycled only after their write settles, so a body is never overwritten
 * while the socket still reads it.
 */
export async function executeShard(
  task: Omit<ShardTask, 'port'>,
  sink: Sink,
  report: (delta: ProgressDelta) => void,
  shared: WorkerShared = workerShared(task.maxInFlight),
): Promise<ShardResult> {
  const { slots, bodies: free } = shared
  const { spec, shard, control } = task
  const plan = planLoad(spec)
  const model: MarketModel = new GbmModel(spec, plan, paramsFor(shared, spec))
  const [startMs] = plan.shardBounds(shard)
  const encoder = new TradeEncoder(spec.measurement, EXCHANGES, model.tickDecimals, fragmentsFor(shared, spec.measurement))
  const breaker = new CircuitBreaker(task.breaker.buffer, task.breaker.settings)
  const concurrency = WriteConcurrency.of(task.breaker, task.concurrency)
  const pacer = task.pace ? new Pacer(task.pace.buffer, task.pace.ratePerSecond) : undefined
  const skip = task.skip ?? []

  let planned = 0
  for (let j = 0; j < spec.symbols.length; j++) planned += plan.seriesCount(j, shard).count

  const acked: Range[] = []
  for (const [a, b] of skip) addRange(acked, a, b)
  /** what this run sent, and what of it was not acknowledged (see ShardResult.doubt) */
  const sentNow: Range[] = []
  const failedNow: Range[] = []
  const result: ShardResult = { shard, status: 'completed', planned, written: 0, failed: 0, bytes: 0, batches: 0, retries: 0, splits: 0, acked }
  /** lines a rejected batch still had stored (InfluxDB 1.x partial writes) */
  let partiallyKept = 0
  let firstError: ErrorInfo | undefined
  const stopped = () => isStopped(control)
  const sleep = (ms: number) => sleepUnlessStopped(control, ms)

  const inFlight = new Set<Promise<void>>()
  // A second Ctrl-C: writes in flight are abandoned (failed, in doubt) instead of awaited.
  const abandon = whenAbandoned(control)
  const abandoned = abandon.abandoned.then(() => {
    throw new WriteStoppedError(undefined, 'abandoned in flight: the load was told not to wait for its writes')
  })
  abandoned.catch(() => {}) // raced per write; unobserved here
  const write = (buf: Buffer, lines: number) => Promise.race([sink.write(buf, lines), abandoned])
  const newBody = () => free.pop() ?? new Body(Math.min(spec.batchSize, planned || 1) * 120)

  /**
   * Writes lines [offset, offset + lines) with retries; a 413 splits the body in two and writes
   * each half, so a server with a small body limit still takes the load.
   */
  const writeSplitting = async (buf: Buffer, lines: number, offset: number, delta: ProgressDelta, ctx: RetryContext): Promise<void> => {
    try {
      await withRetry(() => write(buf, lines), task.retry, ctx)
      addRange(acked, offset, offset + lines)
      addRange(delta.acked, offset, offset + lines)
      delta.written += lines
    } catch (e) {
      if (!(e instanceof WriteError) || e.status !== 413 || lines < 2) throw e
      delta.splits++
      const [a, la, b, lb] = splitBody(buf, lines)
      await writeSplitting(a, la, offset, delta, ctx)
      await writeSplitting(b, lb, offset + la, delta, ctx)
    }
  }

  const send = (body: Body, offset: number, intendedUs: number, encodeSeconds: number): Promise<void> => {
    const lines = body.lines
    const bytes = body.length
    const delta = emptyDelta(shard)
    delta.encodeSeconds.push(encodeSeconds)
    // Counted before the bytes leave; the main thread takes them off when this batch's delta arrives.
    Atomics.add(control, IN_FLIGHT, lines)
    addRange(sentNow, offset, offset + lines)
    const ctx: RetryContext = {
      breaker,
      concurrency,
      stopped,
      sleep,
      onRetry: (err) => {
        delta.retries++
        delta.errors.push({ kind: err.kind, status: err.status })
      },
    }
    const p = writeSplitting(body.view(), lines, offset, delta, ctx)
      .then(
        () => {
          delta.bytes = bytes
          delta.batches = 1
          // From the intended send time: a paced load that falls behind shows it in its latencies.
          delta.latencies.push((nowMicros() - intendedUs) / 1e6)
        },
        (e: unknown) => {
          const err = e instanceof WriteError ? e : new WriteError(String(e))
          const kept = err.pointsAccepted
          partiallyKept += kept
          delta.written += kept
          delta.failed = lines - delta.written
          addRange(failedNow, offset, offset + lines)
          if (err instanceof WriteStoppedError) return
          delta.errors.push({ kind: err.kind, status: err.status })
          firstError ??= toErrorInfo(err)
          // Tell every worker of this load to stop: the load has failed and its account must say
          // so now, not after the remaining shards have hammered a broken sink.
          signalStop(control, STOP_FAILED)
        },
      )
      .finally(() => {
        slots.release()
        result.failed += delta.failed
        result.bytes += delta.bytes
        result.batches += delta.batches
        result.retries += delta.retries
        result.splits += delta.splits
        report(delta)
        // An abandoned write may still be on the socket: its body is dropped, never reused.
        if (Atomics.load(control, ABANDON) === 0) {
          body.reset()
          free.push(body)
        }
        inFlight.delete(p)
      })
    inFlight.add(p)
    return p
  }

  let cursor = 0
  /** when the body being filled was started: generation and encoding time per batch */
  let bodyStarted = performance.now()
  /** Hands a full body to the sink when its turn comes; false when the load has stopped. */
  const dispatch = async (body: Body): Promise<boolean> => {
    const encodeSeconds = (performance.now() - bodyStarted) / 1000
    const offset = cursor
    cursor += body.lines
    if (covers(skip, offset, offset + body.lines)) {
      // Acknowledged by an earlier run of this load (resume): already in the database.
      body.reset()
      free.push(body)
      return true
    }
    await slots.acquire()
    let intendedUs = nowMicros()
    if (pacer) {
      intendedUs = pacer.claim(body.lines)
      await sleep((intendedUs - nowMicros()) / 1000)
    }
    if (stopped()) {
      slots.release()
      return false
    }
    void send(body, offset, intendedUs, encodeSeconds) // releases the slot when the write settles
    return true
  }

  let body = newBody()
  /** `body` is the generator's, not handed to the sink */
  let held = true
  const scratch = shared.columns.pop() ?? { cols: allocColumns(0) }
  try {
    outer: for (const { j, count, offset, cols } of shardSeries(plan, model, shard, undefined, scratch)) {
      encoder.useSymbol(spec.symbols[j]!)
      for (let k = 0; k < count; ) {
        if (stopped()) break outer
        const take = Math.min(count - k, spec.batchSize - body.lines)
        encoder.encode(cols, k, k + take, startMs, offset + 1 + k, body)
        k += take
        if (body.lines === spec.batchSize) {
          if (!(await dispatch(body))) break outer
          body = newBody()
          bodyStarted = performance.now()
        }
      }
    }
    if (body.lines > 0 && !stopped()) held = !(await dispatch(body))
  } finally {
    shared.columns.push(scratch)
    if (held) {
      // not handed to the sink (empty, or the load stopped): back to the worker's spares
      body.reset()
      free.push(body)
    }
    // Whatever happened, every write already sent is accounted before the shard reports.
    while (inFlight.size > 0) await Promise.race(inFlight)
    abandon.dispose()
  }

  // Written comes from the ranges (skipped lines were acknowledged by an earlier run), not from deltas.
  result.written = rangeTotal(acked) + partiallyKept
  // In doubt: what an earlier run sent unanswered stays so until this run sends it again; what this
  // run sent unanswered is failed now and in doubt for the next run.
  const earlier = subtractRanges(task.doubt ?? [], acked)
  result.inDoubt = rangeTotal(subtractRanges(earlier, sentNow))
  for (const [a, b] of failedNow) addRange(earlier, a, b)
  // a failed batch may have had its first half acknowledged (a 413 split)
  result.doubt = subtractRanges(earlier, acked)
  if (firstError) {
    result.status = 'failed'
    result.error = firstError
  } else if (rangeTotal(acked) < planned) {
    result.status = 'stopped'
  }
  return result
}
