import { open, type FileHandle } from 'node:fs/promises'
import { InfluxV1Client } from '../src/influx/v1.js'
import type { InfluxV2Client } from '../src/influx/v2.js'
import { InfluxV3Client } from '../src/influx/v3.js'
import type { Sink, WorkerSinkTarget } from '../src/sink/target.js'

/** Counts and forgets: measures generation and encoding alone. */
class NullSink implements Sink {
  write(): Promise<void> {
    return Promise.resolve()
  }
  close(): Promise<void> {
    return Promise.resolve()
  }
}

/**
 * Appends bodies to one part file. Each write gets its position when it is issued, so bodies land
 * in issue order even with several writes in flight (the thread pool may finish them in any order).
 */
class FilePartSink implements Sink {
  private position = 0
  private constructor(private readonly fh: FileHandle) {}
  static async open(path: string): Promise<FilePartSink> {
    return new FilePartSink(await open(path, 'w'))
  }
  async write(body: Buffer): Promise<void> {
    const at = this.position
    this.position += body.length
    await this.fh.write(body, 0, body.length, at)
  }
  close(): Promise<void> {
    return this.fh.close()
  }
}

class InfluxSink implements Sink {
  constructor(private readonly client: InfluxV1Client | InfluxV2Client | InfluxV3Client) {}
  write(body: Buffer, lines: number): Promise<void> {
    return this.client.write(body, lines)
  }
  close(): Promise<void> {
    this.client.close()
    return Promise.resolve()
  }
}

/** Opens a worker-side sink. `maxInFlight` sizes the keep-alive connection pool. */
export async function openSink(target: WorkerSinkTarget, maxInFlight: number): Promise<Sink> {
  switch (target.kind) {
    case 'null':
      return new NullSink()
    case 'file-part':
      return FilePartSink.open(target.path)
    case 'influx-v1':
      return new InfluxSink(new InfluxV1Client(target, maxInFlight))
    case 'influx-v3':
      return new InfluxSink(new InfluxV3Client(target, maxInFlight))
    case 'influx-v2':
      // loaded only for a v2 sink (see prepare.ts)
      return new InfluxSink(new (await import('../src/influx/v2.js')).InfluxV2Client(target, maxInFlight))
  }
}
