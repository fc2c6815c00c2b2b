import { loadCharts } from '../charts.js'
import { duration, fmt, h, kvTable, statusBadge } from '../dom.js'
import type { ReportData } from '../types.js'
import { accountTable, settingsTable, sinkTable } from './load.js'

/** A load's report: the page with its data embedded, drawn with no request at all (opens offline). */
export function reportView(root: HTMLElement, data: ReportData): void {
  const v = data.view
  const r = v.result
  const charts = loadCharts()
  document.title = `ohlcv-loadgen report ${v.id}`
  document.querySelector('header nav')?.remove()
  root.replaceChildren(
    h('h1', {}, `Report: load ${v.id} `, statusBadge(v.status)),
    h('p', { class: 'muted' }, `generated ${data.generatedAt}`),
    r?.error ?? v.error ? h('p', { class: 'error' }, `${(r?.error ?? v.error)!.code}: ${(r?.error ?? v.error)!.message}`) : '',
    h('div', { class: 'row' },
      h('div', {}, h('h2', {}, 'Account'), h('div', { id: 'account' }, accountTable(r ?? v.progress))),
      h('div', {}, h('h2', {}, 'Outcome'), kvTable([
        ['duration', duration(r?.durationMs)],
        ['points/s', r?.pointsPerSecond ?? 0],
        ['write latency p50 / p90 / p99 / max ms', r ? `${fmt(r.writeLatencyMs.p50, 1)} / ${fmt(r.writeLatencyMs.p90, 1)} / ${fmt(r.writeLatencyMs.p99, 1)} / ${fmt(r.writeLatencyMs.max, 1)}` : '–'],
        ['write concurrency (lowest of max)', `${v.writeConcurrency.lowest} of ${v.writeConcurrency.max}`],
        ['ran degraded', duration(v.writeConcurrency.degradedMs)],
        ['resumes', v.resumes],
      ])),
      h('div', {}, h('h2', {}, 'Settings'), settingsTable(v)),
      h('div', {}, h('h2', {}, 'Sink'), sinkTable(v)),
      h('div', {}, h('h2', {}, 'Environment'), kvTable(Object.entries(data.environment).map(([k, x]) => [k, typeof x === 'number' ? x : String(x)]))),
    ),
    r && r.attempts.length > 0
      ? h('div', {}, h('h2', {}, 'Attempts'), h('table', {}, h('tr', {}, ...['started', 'duration', 'points written', 'retries', 'circuit opens', 'paced: asked / taken points/s'].map((c) => h('th', {}, c))),
          ...r.attempts.map((a) => h('tr', {}, h('td', {}, a.startedAt), h('td', {}, duration(a.durationMs)), h('td', { class: 'num' }, fmt(a.pointsWritten)), h('td', { class: 'num' }, fmt(a.retries)), h('td', { class: 'num' }, fmt(a.circuitOpens)),
            h('td', { class: 'num' }, a.pace ? `${fmt(a.pace.targetPointsPerSecond)} / ${fmt(a.pace.achievedPointsPerSecond)}` : '')))))
      : '',
    h('h2', {}, `Over time (${data.timeline.resolutionSeconds} s per sample)`),
    charts.el,
  )
  charts.set(data.timeline.samples)
}
