import { InfluxV1Client, quoteIdent } from '../influx/v1.js'
import { InfluxV3Client } from '../influx/v3.js'
import type { SinkConfig } from './target.js'

/**
 * Whether the sink's database already holds points of the load's measurement in its range (`run`
 * has no load store to ask, so it asks the database: one point, not a count, which stays cheap on a
 * large database). A missing database, an unreachable server or a v2/file/null sink answer false:
 * the load's own checks say what is wrong with the first two.
 */
export async function rangeOccupied(sink: SinkConfig, load: { fromMs: number; toMs: number; measurement: string }): Promise<boolean> {
  if (sink.kind !== 'influx-v1' && sink.kind !== 'influx-v3') return false
  const q = `SELECT ${quoteIdent('trade_id')} FROM ${quoteIdent(load.measurement)} WHERE time >= ${load.fromMs}ms AND time < ${load.toMs}ms LIMIT 1`
  const client = sink.kind === 'influx-v1' ? new InfluxV1Client({ ...sink, timeoutMs: Math.min(sink.timeoutMs, 5000) }, 1) : new InfluxV3Client({ ...sink, timeoutMs: Math.min(sink.timeoutMs, 5000) }, 1)
  try {
    const r = await client.query(q)
    return (r.results?.[0]?.series?.[0]?.values?.length ?? 0) > 0
  } catch {
    return false
  } finally {
    client.close()
  }
}

/** The line `run` prints before a load into an occupied range. */
export function occupiedWarning(load: { from: string; to: string; measurement: string }): string {
  return `the database already holds points of measurement ${JSON.stringify(load.measurement)} in ${load.from} .. ${load.to} (another load or dataset wrote there): verify will count them too; give this load another --measurement or range for a dataset of its own`
}
