/**
 * Which dataset a (request, seed) gives: the same format, the same bytes, on any machine and pool
 * size. Bumped whenever the generator's numbers change, so that a load is never resumed or
 * verified against a different dataset without saying so.
 *   1  seedrandom's Alea; polar normals; log-normal lots through exp
 *   2  seedrandom's Tyche-i; ziggurat normals and exponential gaps; lots from a table (~2× faster)
 */
export const DATASET_FORMAT = 2
