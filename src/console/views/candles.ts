import { CandlestickSeries, createChart, HistogramSeries, type ISeriesApi, type UTCTimestamp } from 'lightweight-charts'
import { api, ApiError } from '../api.js'
import { fmt, h } from '../dom.js'
import type { Candle } from '../../model/candle.js'
import type { LoadView } from '../../model/view.js'

const INTERVALS: [string, number][] = [['1s', 1e3], ['5s', 5e3], ['15s', 15e3], ['1m', 6e4], ['5m', 3e5], ['15m', 9e5], ['1h', 3.6e6], ['4h', 1.44e7], ['1d', 8.64e7]]

/** The smallest interval that draws the range in at most ~600 candles. */
function intervalFor(fromMs: number, toMs: number): string {
  for (const [name, ms] of INTERVALS) if ((toMs - fromMs) / ms <= 600) return name
  return '1d'
}

/** What the page keeps for tests and the curious: the candle series' data as drawn. */
declare global {
  interface Window {
    ohlcvConsole?: { candles?: ISeriesApi<'Candlestick'>; volume?: ISeriesApi<'Histogram'> }
  }
}

/** Candlesticks with volume bars for one symbol, computed by the database (GET /candles). */
export async function candlesView(root: HTMLElement, query: URLSearchParams): Promise<void> {
  let symbols: string[] = []
  let from = query.get('from') ?? ''
  let to = query.get('to') ?? ''
  let measurement = query.get('measurement') ?? 'trades'
  const loadId = query.get('load')
  if (loadId) {
    const v = await api<LoadView>('GET', `/loads/${loadId}`)
    symbols = v.request.symbols
    from ||= v.request.from
    to ||= v.request.to
    measurement = v.request.measurement
  }
  const symbol = h('input', { id: 'c-symbol', list: 'c-symbols', value: query.get('symbol') ?? symbols[0] ?? '' })
  const list = h('datalist', { id: 'c-symbols' }, ...symbols.slice(0, 1000).map((s) => h('option', { value: s })))
  const fromIn = h('input', { id: 'c-from', value: from, size: 26 })
  const toIn = h('input', { id: 'c-to', value: to, size: 26 })
  const interval = h('input', { id: 'c-interval', value: query.get('interval') ?? (from && to ? intervalFor(Date.parse(from), Date.parse(to)) : '1m'), size: 5 })
  const meas = h('input', { id: 'c-measurement', value: measurement, size: 10 })
  const show = h('button', { class: 'primary', type: 'submit' }, 'Show')
  const note = h('p', { id: 'candles-note', class: 'muted' })
  const box = h('div', { id: 'candles-chart', class: 'card' })
  root.replaceChildren(
    h('h1', {}, 'Candles'),
    h('form', { class: 'row', id: 'candles-form' },
      h('label', {}, 'symbol ', symbol, list), h('label', {}, 'from ', fromIn), h('label', {}, 'to ', toIn), h('label', {}, 'interval ', interval), h('label', {}, 'measurement ', meas), show),
    note,
    box,
  )
  const chart = createChart(box, { autoSize: true, layout: { attributionLogo: true }, timeScale: { timeVisible: true, secondsVisible: true } })
  const candles = chart.addSeries(CandlestickSeries, {})
  candles.priceScale().applyOptions({ scaleMargins: { top: 0.05, bottom: 0.25 } })
  const volume = chart.addSeries(HistogramSeries, { priceFormat: { type: 'volume' }, priceScaleId: '', color: '#94a3b8' })
  volume.priceScale().applyOptions({ scaleMargins: { top: 0.8, bottom: 0 } })
  window.ohlcvConsole = { candles, volume }
  const draw = async () => {
    const q = new URLSearchParams({ symbol: symbol.value.trim(), interval: interval.value.trim(), from: fromIn.value.trim(), to: toIn.value.trim(), measurement: meas.value.trim() })
    note.textContent = 'Asking the database…'
    try {
      const rows = await api<Candle[]>('GET', `/candles?${q.toString()}`)
      const time = (c: Candle) => (Date.parse(c.time) / 1000) as UTCTimestamp
      candles.setData(rows.map((c) => ({ time: time(c), open: c.open, high: c.high, low: c.low, close: c.close })))
      volume.setData(rows.map((c) => ({ time: time(c), value: c.volume, color: c.close >= c.open ? '#86efac' : '#fca5a5' })))
      chart.timeScale().fitContent()
      note.textContent = `${fmt(rows.length)} candles of ${q.get('symbol')} (${q.get('interval')}), ${fmt(rows.reduce((t, c) => t + c.trades, 0))} trades, computed by the database`
    } catch (e) {
      candles.setData([])
      volume.setData([])
      note.textContent = e instanceof ApiError ? `${e.code}: ${e.message}` : String(e)
    }
  }
  ;(root.querySelector('#candles-form') as HTMLFormElement).onsubmit = (e) => {
    e.preventDefault()
    void draw()
  }
  if (symbol.value && fromIn.value && toIn.value) await draw()
}
