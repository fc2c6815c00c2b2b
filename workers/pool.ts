/**
 * The main thread's side of the worker pool: Piscina plus one progress channel per shard task.
 * Only this folder touches the worker-thread API.
 */
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { MessageChannel } from 'node:worker_threads'
import { Piscina } from 'piscina'
import { normalizeRequest } from '../src/request/normalize.js'
import { END_OF_PROGRESS, toShardSpec, type CandlesTask, type ShardCandles, type PortMessage, type ProgressDelta, type ShardResult, type ShardTask, type WarmTask } from '../shared/messages.js'

/**
 * The worker runs compiled JavaScript. From dist/workers/pool.js the entry sits next door; when
 * this file is loaded as TypeScript (vitest), the compiled entry is found under dist/ (the test
 * command builds first).
 */
function workerFile(): string {
  const here = import.meta.url
  const compiled = here.endsWith('.ts') ? new URL('../dist/workers/shard.js', here) : new URL('./shard.js', here)
  const path = fileURLToPath(compiled)
  if (!existsSync(path)) throw new Error(`worker entry ${path} is missing: run \`npm run build\` first`)
  return path
}

/** Old-generation cap per worker thread (MB): far above what a shard needs, well below V8's default. */
export const WORKER_OLD_SPACE_MB = 64

/** 200,000 trades of two symbols: ~60 ms per worker, enough for V8 to optimise the hot loops. */
function warmTask(): WarmTask {
  const request = { trades: 200_000, symbols: ['WARM', 'UP'], from: '2024-01-02T00:00:00Z', to: '2024-01-02T04:00:00Z', seed: 'warm', batchSize: 5000 }
  return { spec: toShardSpec(normalizeRequest(request, { now: () => 0, newSeed: () => 'warm' })) }
}

/** Shards a worker runs at once (see the constructor); the coordinator keeps this many per worker queued. */
export const TASKS_PER_WORKER = 2

export interface PoolStats {
  threads: number
  queueSize: number
  /** 0..1, Piscina's share of time the threads spent running tasks */
  utilization: number
  completed: number
}

export class ShardPool {
  private readonly piscina: Piscina
  private warmed: Promise<void> | undefined
  readonly size: number

  constructor(size: number) {
    this.size = size
    this.piscina = new Piscina({
      filename: workerFile(),
      minThreads: size,
      maxThreads: size,
      // Two shards per worker: the next one generates while the last batches of the one before
      // are in flight, so the database is not left with fewer writes at every shard boundary.
      // Both share the worker's write slots (workers/slots.ts): the in-flight limit is unchanged.
      concurrentTasksPerWorker: TASKS_PER_WORKER,
      // Tasks can wait in the queue: the coordinator bounds how many it submits (see load/run.ts).
      maxQueue: 'auto',
      idleTimeout: 60_000,
      // A worker keeps no per-point state (bodies and columns are reused buffers), but V8 lets
      // its old generation grow with the garbage of a long load before collecting: on a 50M-trade
      // load that slack was ~80 MB of the process's RSS. A cap keeps RSS flat as loads grow;
      // bench:scale shows the effect, and the speed is unchanged.
      resourceLimits: { maxOldGenerationSizeMb: WORKER_OLD_SPACE_MB },
    })
  }

  /**
   * Runs one shard. `onProgress` receives the worker's deltas; it is not called after the returned
   * promise settles, so the caller can treat the result as final.
   */
  async run(task: Omit<ShardTask, 'port'>, onProgress: (d: ProgressDelta) => void): Promise<ShardResult> {
    const { port1, port2 } = new MessageChannel()
    // A port delivers in order, so once the worker's END marker is in, every delta before it is
    // too. (The port's 'close' event is not a usable signal here: it does not reach this side
    // when the port travels inside a Piscina task.)
    let drained!: () => void
    const ended = new Promise<void>((resolve) => (drained = resolve))
    port1.on('message', (m: PortMessage) => (m === END_OF_PROGRESS ? drained() : onProgress(m)))
    try {
      const result = (await this.piscina.run({ ...task, port: port2 }, { transferList: [port2] })) as ShardResult
      await ended
      return result
    } finally {
      port1.removeAllListeners('message')
      port1.close()
    }
  }

  /**
   * Warms every worker up (see `warm` in workers/shard.ts): a load's first shards then run
   * compiled code. Once per pool; what a load does before its clock starts.
   */
  async warm(): Promise<void> {
    if (!this.warmed) {
      const task = warmTask()
      this.warmed = Promise.all(Array.from({ length: this.size }, () => this.piscina.run(task, { name: 'warm' }))).then(() => undefined)
    }
    await this.warmed
  }

  /** Regenerates one shard into candles on a worker thread. */
  async candles(task: CandlesTask): Promise<ShardCandles> {
    return (await this.piscina.run(task, { name: 'candles' })) as ShardCandles
  }

  stats(): PoolStats {
    return {
      threads: this.piscina.threads.length,
      queueSize: this.piscina.queueSize,
      utilization: this.piscina.utilization,
      completed: this.piscina.completed,
    }
  }

  async close(): Promise<void> {
    await this.piscina.close({ force: false })
  }
}
