/**
 * Loads that write into the same measurement and time range as a new one, on the same sink: their
 * points and the new load's share the database, so `verify` of either counts both (every default
 * load covers the last 24 hours). Said as a warning when a load starts, never a refusal: writing
 * into a range on purpose (a resume, a second dataset) is legitimate.
 */
export interface EarlierLoad {
  id: string
  status: string
  seed: string | number
  from: string
  to: string
  measurement: string
  sink: Record<string, string>
}

/** One line per earlier load whose range and measurement overlap `load`'s on the same sink. */
export function overlapWarnings(
  load: { fromMs: number; toMs: number; measurement: string },
  sink: Record<string, string>,
  earlier: readonly EarlierLoad[],
): string[] {
  const same = (a: Record<string, string>) => a.kind === sink.kind && a.url === sink.url && (a.db ?? a.bucket) === (sink.db ?? sink.bucket)
  return earlier
    .filter((e) => e.measurement === load.measurement && same(e.sink) && Date.parse(e.from) < load.toMs && load.fromMs < Date.parse(e.to))
    .map(
      (e) =>
        `load ${e.id} (${e.status}, seed ${JSON.stringify(e.seed)}) wrote measurement ${JSON.stringify(e.measurement)} over ${e.from} .. ${e.to}, which this load's range overlaps: verify of either counts the other's points too; give this load another --measurement or range for a dataset of its own`,
    )
}

/**
 * verify's hint when the database holds more points than load `id`'s dataset: another load or
 * dataset wrote into the range; `warnings` (overlapWarnings of its spec) name the stored ones.
 */
export function moreThanDatasetHint(id: string, more: number, warnings: readonly string[]): string {
  const others = warnings.filter((w) => !w.startsWith(`load ${id} `))
  return `${more.toLocaleString('en-US')} point(s) more than this dataset has: another load or dataset wrote into this measurement and range${others.length ? `; the store names ${others.map((w) => w.slice(0, w.indexOf(' wrote'))).join(', ')}` : ''}`
}
