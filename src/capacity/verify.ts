import { verifyLoad, type VerifyReport } from '../candles/verify.js'
import { InvalidRequestError, UsageError } from '../errors.js'
import { normalizeRequest, type NormalizeContext } from '../request/normalize.js'
import type { LoadSpec } from '../model/request.js'
import { validateLoadRequest } from '../request/validate.js'
import type { SinkConfig } from '../sink/target.js'
import type { ShardPool } from '../../workers/pool.js'
import type { CapacitySlice } from './run.js'

export interface SliceVerified extends CapacitySlice {
  report: VerifyReport
}

export interface CapacityVerifyReport {
  ok: boolean
  seed: string | number
  pointsExpected: number
  pointsFound: number
  differencesTotal: number
  /** every slice the search wrote, in order, each with its own verify report */
  slices: SliceVerified[]
}

/** Slices a search may list: a 15 m deadline of 1 s steps writes a few thousand at most. */
const MAX_SLICES = 100_000

/**
 * The dataset a capacity search wrote, from its `--json` output or `GET /capacity/:id`: every
 * slice as the load spec it was written with. Pure; throws one line naming what is wrong.
 */
export function capacityDataset(output: unknown, ctx: NormalizeContext): { seed: string | number; slices: { slice: CapacitySlice; spec: LoadSpec }[] } {
  const o = output as { load?: unknown; slices?: unknown } | null
  if (typeof o !== 'object' || o === null || Array.isArray(o)) throw new UsageError('not a capacity search: expected the JSON object `capacity --json` prints (or GET /capacity/:id)')
  if (o.load === undefined || o.slices === undefined) throw new UsageError('no `load` and `slices` in it: a search still running, or the output of a version before them (verify each step with its --from/--to/--trades and the seed)')
  if (typeof o.load !== 'object' || o.load === null || Array.isArray(o.load)) throw new UsageError('invalid `load`: must be an object (the request the search wrote with)')
  if (!Array.isArray(o.slices) || o.slices.length === 0 || o.slices.length > MAX_SLICES) throw new UsageError(`invalid \`slices\`: must be a list of 1 to ${MAX_SLICES} slices`)
  const load = o.load as Record<string, unknown>
  if (load.seed === undefined) throw new UsageError('invalid `load`: it has no seed')
  const slices = o.slices.map((raw: unknown, i) => {
    const s = raw as Partial<CapacitySlice> | null
    if (typeof s !== 'object' || s === null || (s.kind !== 'warmup' && s.kind !== 'step') || typeof s.from !== 'string' || typeof s.to !== 'string' || typeof s.trades !== 'number') {
      throw new UsageError(`invalid slices[${i}]: expected { kind: "warmup" | "step", from, to, trades }`)
    }
    const slice: CapacitySlice = { kind: s.kind, from: s.from, to: s.to, trades: s.trades }
    try {
      const spec = normalizeRequest(validateLoadRequest({ ...load, from: slice.from, to: slice.to, trades: slice.trades }, `slices[${i}]`), ctx)
      return { slice, spec }
    } catch (e) {
      // the schema names slices[i].field; the normaliser (a range, a market) names the field alone
      if (e instanceof InvalidRequestError) throw new UsageError(`invalid ${e.field.startsWith('slices[') ? e.message : `slices[${i}]${e.field ? '.' : ': '}${e.message}`}`)
      throw e
    }
  })
  return { seed: load.seed as string | number, slices }
}

/**
 * Verifies every slice of a capacity search against the database, one after the other (each one
 * regenerates its slice on the pool): the search is one dataset, exact only if every slice is.
 */
export async function verifyCapacity(
  dataset: ReturnType<typeof capacityDataset>,
  sink: SinkConfig,
  pool: ShardPool,
  interval: { text: string; ms: number },
): Promise<CapacityVerifyReport> {
  const slices: SliceVerified[] = []
  for (const { slice, spec } of dataset.slices) slices.push({ ...slice, report: await verifyLoad(spec, sink, pool, interval) })
  const sum = (f: (r: VerifyReport) => number) => slices.reduce((t, s) => t + f(s.report), 0)
  return {
    ok: slices.every((s) => s.report.ok),
    seed: dataset.seed,
    pointsExpected: sum((r) => r.pointsExpected),
    pointsFound: sum((r) => r.pointsFound),
    differencesTotal: sum((r) => r.differencesTotal),
    slices,
  }
}
