import uPlot from 'uplot'
import 'uplot/dist/uPlot.min.css'
import { h } from './dom.js'
import type { TimelineSample as Sample } from '../model/timeline.js'

/** A time-series chart over a load's timeline: x = seconds since the load started. */
interface SeriesDef {
  label: string
  stroke: string
  value: (s: Sample) => number | null
  /** a step line (states, levels) */
  stepped?: boolean
}

interface Chart {
  el: HTMLElement
  set(samples: readonly Sample[]): void
}

const width = (el: HTMLElement) => Math.max(320, el.clientWidth - 24)

function timeChart(title: string, defs: SeriesDef[], height = 200): Chart {
  const el = h('div', { class: 'card chart', 'data-chart': title })
  let plot: uPlot | undefined
  let pending: readonly Sample[] = []
  const data = (samples: readonly Sample[]): uPlot.AlignedData => [samples.map((s) => s.t), ...defs.map((d) => samples.map((s) => d.value(s)))]
  const make = () => {
    plot = new uPlot(
      {
        title,
        width: width(el),
        height,
        scales: { x: { time: false } },
        axes: [{ label: 'seconds' }, { size: 70 }],
        series: [{ label: 's' }, ...defs.map((d) => ({ label: d.label, stroke: d.stroke, width: 2, spanGaps: true, ...(d.stepped ? { paths: uPlot.paths.stepped!({ align: 1 }) } : {}) }))],
      },
      data(pending),
      el,
    )
  }
  // drawn once the element is in the page (it needs a width)
  const observer = new ResizeObserver(() => {
    if (!el.isConnected || el.clientWidth === 0) return
    if (!plot) make()
    else plot.setSize({ width: width(el), height })
  })
  observer.observe(el)
  return {
    el,
    set(samples) {
      pending = samples
      plot?.setData(data(samples))
    },
  }
}

/** The charts of one load, as the live view and the report show them. */
export function loadCharts(): { el: HTMLElement; set(samples: readonly Sample[]): void } {
  const charts = [
    timeChart('points/s', [{ label: 'points/s', stroke: '#2563eb', value: (s) => s.pps }]),
    timeChart('write latency (ms)', [
      { label: 'p50', stroke: '#16a34a', value: (s) => s.p50 },
      { label: 'p90', stroke: '#d97706', value: (s) => s.p90 },
      { label: 'p99', stroke: '#dc2626', value: (s) => s.p99 },
    ]),
    timeChart('retries, errors and splits per interval', [
      { label: 'retries', stroke: '#7c3aed', value: (s) => s.retries },
      { label: 'retryable errors', stroke: '#d97706', value: (s) => s.errorsRetryable },
      { label: 'permanent errors', stroke: '#dc2626', value: (s) => s.errorsPermanent },
      { label: 'splits (413)', stroke: '#0891b2', value: (s) => s.splits },
    ]),
    timeChart('circuit (0 closed, 1 half-open, 2 open) and write concurrency', [
      { label: 'circuit', stroke: '#dc2626', value: (s) => s.circuit, stepped: true },
      { label: 'concurrency limit', stroke: '#2563eb', value: (s) => s.limit, stepped: true },
    ]),
    timeChart('points in flight', [{ label: 'in flight', stroke: '#0f766e', value: (s) => s.inFlight }]),
  ]
  return { el: h('div', { class: 'grid' }, ...charts.map((c) => c.el)), set: (samples) => charts.forEach((c) => c.set(samples)) }
}

/** points/s of several loads over their own time, overlaid (compare). */
export function overlayChart(title: string, loads: { label: string; samples: readonly Sample[] }[]): HTMLElement {
  const el = h('div', { class: 'card chart', 'data-chart': title })
  const colours = ['#2563eb', '#dc2626', '#16a34a', '#d97706', '#7c3aed', '#0891b2', '#be185d', '#4b5563']
  const tables = loads.map((l): uPlot.AlignedData => [l.samples.map((s) => s.t), l.samples.map((s) => s.pps)])
  const observer = new ResizeObserver(() => {
    if (!el.isConnected || el.clientWidth === 0 || el.querySelector('.uplot')) return
    observer.disconnect()
    new uPlot(
      {
        title,
        width: width(el),
        height: 260,
        scales: { x: { time: false } },
        axes: [{ label: 'seconds since start' }, { size: 70 }],
        series: [{ label: 's' }, ...loads.map((l, i) => ({ label: l.label, stroke: colours[i % colours.length]!, width: 2, spanGaps: true }))],
      },
      uPlot.join(tables),
      el,
    )
  })
  observer.observe(el)
  return el
}
