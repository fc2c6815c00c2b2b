import { createReadStream, createWriteStream } from 'node:fs'
import { once } from 'node:events'
import { mkdtemp, rm } from 'node:fs/promises'
import { dirname, join, resolve } from 'node:path'
import type { Writable } from 'node:stream'
import { SinkUnavailableError } from '../errors.js'
import { InfluxV1Client } from '../influx/v1.js'
import { InfluxV3Client } from '../influx/v3.js'
import type { SinkConfig, WorkerSinkTarget } from './target.js'

/** The main thread's handle on a sink for one load. */
interface PreparedSink {
  /** what the worker running shard `i` writes to */
  targetFor(shard: number): WorkerSinkTarget
  /** a shard has finished (whatever its outcome) */
  shardDone(shard: number): Promise<void>
  /** all shards are done: flush and release */
  finish(): Promise<void>
}

/** Checks that the database answers (for /readyz), without side effects. */
export async function checkSink(cfg: SinkConfig): Promise<void> {
  if (cfg.kind === 'influx-v1') {
    const c = new InfluxV1Client(cfg, 1)
    try {
      await c.ping()
    } catch (e) {
      throw e instanceof SinkUnavailableError ? e : new SinkUnavailableError(`InfluxDB at ${cfg.url} is unreachable: ${(e as Error).message}`)
    } finally {
      c.close()
    }
  } else if (cfg.kind === 'influx-v2') {
    // loaded only for a v2 sink: @influxdata/influxdb-client is most of what a v1 run would load
    const { InfluxV2Client } = await import('../influx/v2.js')
    const c = new InfluxV2Client(cfg, 1)
    try {
      await c.ping()
    } finally {
      c.close()
    }
  } else if (cfg.kind === 'influx-v3') {
    const c = new InfluxV3Client(cfg, 1)
    try {
      await c.ping()
    } finally {
      c.close()
    }
  }
}

/**
 * Readies a sink before any shard runs, so a misconfigured sink fails the load at once with one
 * clear error instead of once per shard: InfluxDB 1.x gets its database created (idempotent),
 * 2.x must answer its health check, each must say it is InfluxDB (a server that answers 204 to
 * anything would take a whole load into nowhere), a file sink gets a folder for its part files.
 */
export async function prepareSink(cfg: SinkConfig, shardCount: number, owned: (shard: number) => boolean = () => true): Promise<PreparedSink> {
  switch (cfg.kind) {
    case 'influx-v1': {
      await identify(new InfluxV1Client(cfg, 1))
      if (cfg.createDb !== false) await createDatabase(new InfluxV1Client(cfg, 1), cfg)
      return fixedTarget(cfg)
    }
    case 'influx-v2':
      await checkSink(cfg)
      return fixedTarget(cfg)
    case 'influx-v3': {
      await checkSink(cfg)
      if (cfg.createDb) await createDatabase(new InfluxV3Client(cfg, 1), cfg)
      return fixedTarget(cfg)
    }
    case 'null':
      return fixedTarget(cfg)
    case 'file':
      return FileAssembler.create(cfg.out, shardCount, owned)
  }
}

/** The server must say it is InfluxDB before its 204s count as stored writes (see InfluxV1Client.identify). */
async function identify(client: InfluxV1Client): Promise<void> {
  try {
    await client.identify()
  } finally {
    client.close()
  }
}

/**
 * Creates the sink's database through `client` (CREATE DATABASE on 1.x, the configure endpoint on
 * 3: both fine when it exists), then closes the client.
 */
async function createDatabase(client: { createDatabase(): Promise<void>; close(): void }, cfg: { db: string; url: string }): Promise<void> {
  try {
    await client.createDatabase()
  } catch (e) {
    throw new SinkUnavailableError(`cannot create database ${cfg.db} at ${cfg.url}: ${(e as Error).message}`, { cause: e })
  } finally {
    client.close()
  }
}

function fixedTarget(target: WorkerSinkTarget): PreparedSink {
  return { targetFor: () => target, shardDone: () => Promise.resolve(), finish: () => Promise.resolve() }
}

/**
 * File sink: each shard is written by its worker to its own part file; parts are appended to the
 * output in shard order as soon as every earlier shard is done. The output is then byte-identical
 * whatever the pool size or the order in which shards finish, and stdout streams as the load runs.
 */
class FileAssembler implements PreparedSink {
  private next = 0
  private readonly done = new Set<number>()
  private chain: Promise<void> = Promise.resolve()

  private constructor(
    private readonly partsDir: string,
    private readonly out: Writable,
    private readonly shardCount: number,
    /** shards this run writes (a partition's); the others are passed over */
    private readonly owned: (shard: number) => boolean,
  ) {}

  static async create(out: string, shardCount: number, owned: (shard: number) => boolean): Promise<FileAssembler> {
    const toStdout = out === '-'
    const base = toStdout ? process.cwd() : dirname(resolve(out))
    let partsDir: string
    try {
      partsDir = await mkdtemp(join(base, '.ohlcv-parts-'))
    } catch (e) {
      throw new SinkUnavailableError(`cannot write next to ${out}: ${(e as Error).message}`, { cause: e })
    }
    const stream = toStdout ? process.stdout : createWriteStream(resolve(out))
    return new FileAssembler(partsDir, stream, shardCount, owned)
  }

  targetFor(shard: number): WorkerSinkTarget {
    return { kind: 'file-part', path: this.part(shard) }
  }

  private part(shard: number): string {
    return join(this.partsDir, `shard-${shard}.lp`)
  }

  shardDone(shard: number): Promise<void> {
    this.done.add(shard)
    this.advance()
    return this.chain
  }

  private advance(): void {
    while (this.next < this.shardCount && !this.owned(this.next)) this.next++
    while (this.done.has(this.next)) {
      const i = this.next++
      while (this.next < this.shardCount && !this.owned(this.next)) this.next++
      this.done.delete(i)
      this.chain = this.chain.then(async () => {
        await this.append(this.part(i))
        await rm(this.part(i), { force: true })
      })
    }
  }

  /**
   * Copies one part file to the output, honouring backpressure. Not stream.pipeline: with
   * `end: false` it leaves its listeners on the shared output, one set per shard, which piles up.
   */
  private async append(path: string): Promise<void> {
    try {
      for await (const chunk of createReadStream(path)) {
        if (!this.out.write(chunk)) await once(this.out, 'drain')
      }
    } catch (e) {
      // A shard stopped before its first write has no part file: nothing to append.
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e
    }
  }

  async finish(): Promise<void> {
    // Shards that never ran (cancelled load) still advance the cursor, so later parts get written.
    for (let i = this.next; i < this.shardCount; i++) this.done.add(i)
    this.advance()
    await this.chain
    if (this.out !== process.stdout) {
      await new Promise<void>((res, rej) => this.out.end((e?: Error | null) => (e ? rej(e) : res())))
    }
    await rm(this.partsDir, { recursive: true, force: true })
  }
}
