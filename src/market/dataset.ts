/**
 * Which dataset a (request, seed) gives: the same format, the same bytes, on any machine and pool
 * size. Bumped whenever the generator's numbers change, so that a load is never resumed or
 * verified against a different dataset without saying so.
 *   1  seedrandom's Alea; polar normals; log-normal lots through exp
 *   2  seedrandom's Tyche-i; ziggurat normals and exponential gaps; lots from a table (~2× faster)
 *   3  shards of many-symbol loads hold at least 100 trades per symbol (plan.ts, tradesPerShard);
 *      loads of up to 1,000 symbols are byte for byte format 2's
 */
export const DATASET_FORMAT = 3

/** Symbols up to which format 3 plans every load exactly as format 2 did. */
const FORMAT_2_SAME_UP_TO_SYMBOLS = 1000

/** Whether a load made with `format` has the bytes this version makes for a load of `symbols` symbols. */
export function sameDataset(format: number, symbols: number): boolean {
  return format === DATASET_FORMAT || (format === 2 && symbols <= FORMAT_2_SAME_UP_TO_SYMBOLS)
}
