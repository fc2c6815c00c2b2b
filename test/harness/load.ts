import { pino } from 'pino'
import { LoadRun, DEFAULT_LOAD_OPTIONS, type LoadOptions } from '../../src/load/run.js'
import type { LoadResult } from '../../src/model/account.js'
import { normalizeRequest } from '../../src/request/normalize.js'
import type { LoadRequestInput, LoadSpec } from '../../src/model/request.js'
import { validateLoadRequest } from '../../src/request/validate.js'
import type { SinkConfig } from '../../src/sink/target.js'
import { ShardPool } from '../../workers/pool.js'

export const silent = pino({ level: 'silent' })

export function spec(raw: LoadRequestInput): LoadSpec {
  return normalizeRequest(validateLoadRequest(raw), { now: () => Date.parse('2024-05-01T00:00:00Z'), newSeed: () => 'test' })
}

/** Runs one load in-process through a real pool of `poolSize` threads. */
export async function runLoad(s: LoadSpec, sink: SinkConfig, poolSize: number, options: LoadOptions = DEFAULT_LOAD_OPTIONS): Promise<LoadResult> {
  const pool = new ShardPool(poolSize)
  try {
    return await new LoadRun({ id: 'test', spec: s, sink, pool, log: silent, options }).run()
  } finally {
    await pool.close()
  }
}
