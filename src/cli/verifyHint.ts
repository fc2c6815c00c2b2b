/**
 * Why verify may have found differences, from the counts alone: verify cannot see which version or
 * request wrote the database, so it names the likely cause the counts point to and no other. A
 * "another dataset format" hint on a database that simply lacks points (a load that stopped, a
 * resume that skipped what it should have sent) sent people looking for the wrong thing.
 */
export function verifyHint(report: { pointsFound: number; pointsExpected: number }, datasetFormat: number): string {
  const n = (x: number) => x.toLocaleString('en-US')
  const gap = report.pointsFound - report.pointsExpected
  if (gap < 0) return `${n(-gap)} fewer than the dataset has: the load did not finish (resume it), or part of it went to another database or measurement`
  if (gap > 0) return `${n(gap)} more than the dataset has: another load or dataset probably wrote into this range and measurement`
  return `as many as the dataset has, with other values: the load was made with another seed or request, or by a version with another dataset format than ${datasetFormat}`
}
