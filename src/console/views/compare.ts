import { api } from '../api.js'
import { overlayChart } from '../charts.js'
import { duration, fmt, h, statusBadge } from '../dom.js'
import type { TimelineView as Timeline } from '../../model/timeline.js'
import type { LoadView } from '../../model/view.js'

/** Finished loads side by side: what changed between them, what it did to points/s and latency. */
export async function compareView(root: HTMLElement, ids: string[]): Promise<void> {
  const loads = await Promise.all(ids.map(async (id) => ({ view: await api<LoadView>('GET', `/loads/${id}`), timeline: await api<Timeline>('GET', `/loads/${id}/timeline`) })))
  const rows: [string, (v: LoadView) => string | number | Node][] = [
    ['status', (v) => statusBadge(v.status)],
    ['created', (v) => new Date(v.createdAt).toLocaleString()],
    ['trades', (v) => v.request.trades],
    ['symbols', (v) => v.request.symbols.length],
    ['batch size', (v) => v.request.batchSize],
    ['rate', (v) => v.request.ratePerSecond ?? 'as fast as taken'],
    ['distribution', (v) => v.request.distribution],
    ['sink', (v) => Object.values(v.sink).join(' ')],
    ['write concurrency max', (v) => v.writeConcurrency.max],
    ['points written', (v) => v.result?.pointsWritten ?? v.progress.pointsWritten],
    ['points failed', (v) => v.result?.pointsFailed ?? v.progress.pointsFailed],
    ['duration', (v) => duration(v.result?.durationMs)],
    ['points/s', (v) => v.result?.pointsPerSecond ?? 0],
    ['latency p50 ms', (v) => fmt(v.result?.writeLatencyMs.p50, 1)],
    ['latency p99 ms', (v) => fmt(v.result?.writeLatencyMs.p99, 1)],
    ['retries', (v) => v.result?.retries ?? v.progress.retries],
    ['ran degraded', (v) => duration(v.writeConcurrency.degradedMs)],
  ]
  const label = (v: LoadView) => `${v.id.slice(0, 8)} (batch ${fmt(v.request.batchSize)})`
  root.replaceChildren(
    h('h1', {}, `Compare ${loads.length} loads`),
    h('table', { id: 'compare-table' },
      h('tr', {}, h('th', {}, ''), ...loads.map(({ view }) => h('th', { class: 'num' }, h('a', { href: `#/loads/${view.id}` }, view.id.slice(0, 8))))),
      ...rows.map(([name, value]) => h('tr', {}, h('th', {}, name), ...loads.map(({ view }) => {
        const v = value(view)
        return h('td', { class: 'num' }, typeof v === 'number' ? fmt(v) : v)
      }))),
    ),
    h('h2', {}, 'points/s over time'),
    overlayChart('points/s', loads.map(({ view, timeline }) => ({ label: label(view), samples: timeline.samples }))),
  )
}
