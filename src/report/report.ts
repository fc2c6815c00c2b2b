import { availableParallelism, cpus, hostname, release, totalmem, type } from 'node:os'
import type { LoadView } from '../model/view.js'
import { DATASET_FORMAT } from '../market/dataset.js'
import type { TimelineView } from '../model/timeline.js'
import { consolePage } from './page.js'

/** Where a load ran, for a report: what makes two reports comparable, or not. */
export function environment(poolSize: number): Record<string, string | number> {
  const cpu = cpus()[0]
  return {
    tool: `ohlcv-loadgen ${process.env.npm_package_version ?? '0.1.0'}`,
    datasetFormat: DATASET_FORMAT,
    node: process.version,
    os: `${type()} ${release()} ${process.arch}`,
    host: hostname(),
    cpus: `${availableParallelism()} x ${cpu?.model ?? 'unknown'}`,
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    poolSize,
  }
}

/**
 * A load's report: the console page with the load's data embedded, which it draws without a
 * single request. One self-contained HTML file: it opens offline and can be attached to a ticket.
 * Undefined when the page has not been built.
 */
export function renderReport(view: LoadView, timeline: TimelineView, env: Record<string, string | number>): string | undefined {
  const page = consolePage()
  if (!page) return undefined
  const data = { generatedAt: new Date().toISOString(), view, timeline, environment: env }
  // `<` escaped: no string in the data can close the script element
  const json = JSON.stringify(data).replaceAll('<', '\\u003c')
  return page.html.replace('<!--REPORT-->', () => `<script type="application/json" id="report-data">${json}</script>`)
}
