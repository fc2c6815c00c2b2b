import type { InfluxV1Target } from '../influx/v1.js'
import type { InfluxV2Target } from '../influx/v2.js'
import type { InfluxV3Target } from '../influx/v3.js'

/** Where a load's data goes, as configured by the user (env, flags). Plain data. */
export type SinkConfig = InfluxV1Target | InfluxV2Target | InfluxV3Target | { kind: 'file'; out: string } | { kind: 'null' }

/**
 * What a worker is told to write to, per shard. Plain data so it crosses the thread boundary; the
 * file sink becomes one part file per shard, which the main thread joins in shard order.
 */
export type WorkerSinkTarget = InfluxV1Target | InfluxV2Target | InfluxV3Target | { kind: 'file-part'; path: string } | { kind: 'null' }

/** A sink as a worker uses it: one body at a time, acknowledged or rejected with a WriteError. */
export interface Sink {
  write(body: Buffer, lines: number): Promise<void>
  close(): Promise<void>
}

/** The sink description with secrets masked, for logs and API responses. */
export function describeSink(cfg: SinkConfig): Record<string, string> {
  switch (cfg.kind) {
    case 'influx-v1':
      return { kind: cfg.kind, url: cfg.url, db: cfg.db, ...(cfg.rp ? { rp: cfg.rp } : {}) }
    case 'influx-v2':
      return { kind: cfg.kind, url: cfg.url, org: cfg.org, bucket: cfg.bucket }
    case 'influx-v3':
      return { kind: cfg.kind, url: cfg.url, db: cfg.db, ...(cfg.noSync ? { noSync: 'true' } : {}), ...(cfg.acceptPartial ? { acceptPartial: 'true' } : {}) }
    case 'file':
      return { kind: cfg.kind, out: cfg.out }
    case 'null':
      return { kind: cfg.kind }
  }
}
