import { api, ApiError, download, follow } from '../api.js'
import { loadCharts } from '../charts.js'
import { duration, fmt, h, kvTable, statusBadge } from '../dom.js'
import type { Account, PaceKept } from '../../model/account.js'
import type { TimelineSample as Sample, TimelineView as Timeline } from '../../model/timeline.js'
import type { LoadView, ProgressEvent as Progress } from '../../model/view.js'

const RESUMABLE = new Set(['failed', 'cancelled', 'interrupted'])

export function accountTable(a: Account & { pointsInDoubt?: number }): HTMLTableElement {
  return kvTable([
    ['points planned', a.pointsPlanned],
    ['points written', a.pointsWritten],
    ['points failed', a.pointsFailed],
    ['points in doubt', a.pointsInDoubt ?? 0],
    ['points unsent', a.pointsUnsent],
    ['bytes written', a.bytesWritten],
    ['batches written', a.batchesWritten],
    ['retries', a.retries],
    ['batches split', a.batchesSplit],
    ['shards done', `${fmt(a.shardsDone)} / ${fmt(a.shardsTotal)}`],
  ])
}

export function settingsTable(v: LoadView): HTMLElement {
  const { symbols, ...rest } = v.request
  return h('div', {},
    kvTable([
      ['symbols', symbols.length > 12 ? `${symbols.slice(0, 12).join(', ')} … (${fmt(symbols.length)})` : symbols.join(', ')],
      ...Object.entries(rest).map(([k, val]): [string, string] => [k, typeof val === 'string' ? val : JSON.stringify(val)]),
      ['shards', String(v.shards)],
    ]),
  )
}

export function sinkTable(v: LoadView): HTMLTableElement {
  return kvTable(Object.entries(v.sink))
}

/** One load, live: progress, charts over time, account, settings, sink, and its actions. */
export async function loadView(root: HTMLElement, id: string, signal: AbortSignal): Promise<void> {
  let view = await api<LoadView>('GET', `/loads/${id}`)
  let samples: Sample[] = []
  const charts = loadCharts()
  const bar = h('progress', { id: 'progress', max: 1, value: 0 })
  const barText = h('div', { id: 'progress-text', class: 'muted' })
  const status = h('span', { id: 'status' })
  const account = h('div', { id: 'account' })
  const message = h('p', { class: 'error', id: 'load-error' })
  const verifyOut = h('div', { id: 'verify-result' })
  const cancel = h('button', { id: 'cancel' }, 'Cancel')
  const resume = h('button', { id: 'resume' }, 'Resume')
  const verify = h('button', { id: 'verify', title: 'regenerate the dataset and compare its candles at the chosen interval with the database' }, 'Verify')
  // the interval candles are compared at: finer finds a lost point's minute, coarser reads less
  const verifyInterval = h('select', { id: 'verify-interval', 'aria-label': 'verify at interval' }, ...['1m', '5m', '15m', '1h', '1d'].map((i) => h('option', { value: i }, `at ${i}`)))
  const report = h('button', { id: 'report' }, 'Report')
  const candles = h('a', { href: `#/candles?load=${id}`, id: 'candles-link' }, h('button', {}, 'Candles'))

  const draw = (p: Pick<Progress, 'pointsPlanned' | 'pointsWritten' | 'pointsPerSecond' | 'etaSeconds'>, state: string) => {
    const done = p.pointsPlanned > 0 ? p.pointsWritten / p.pointsPlanned : 1
    bar.value = done
    bar.dataset.written = String(p.pointsWritten)
    barText.textContent = `${fmt(p.pointsWritten)} / ${fmt(p.pointsPlanned)} points · ${(Math.floor(done * 1000) / 10).toFixed(1)} %` +
      (state === 'running' ? ` · ${fmt(p.pointsPerSecond)} points/s · ETA ${p.etaSeconds === null ? '–' : `${p.etaSeconds} s`}` : '')
    status.replaceChildren(statusBadge(state))
    cancel.disabled = state !== 'running' && state !== 'queued'
    resume.disabled = !RESUMABLE.has(state)
    verify.disabled = !(view.result !== undefined)
  }
  const drawView = () => {
    const r = view.result
    draw(r ? { ...r, pointsPerSecond: r.pointsPerSecond, etaSeconds: null } : view.progress, view.status)
    account.replaceChildren(
      accountTable(r ?? view.progress),
      r ? kvTable([['duration', duration(r.durationMs)], ['points/s', r.pointsPerSecond], ['write latency p50 / p90 / p99 ms', `${fmt(r.writeLatencyMs.p50, 1)} / ${fmt(r.writeLatencyMs.p90, 1)} / ${fmt(r.writeLatencyMs.p99, 1)}`], ['attempts', r.attempts.length], ...paceRow(r.attempts.at(-1)?.pace)]) : '',
    )
    const err = r?.error ?? view.error
    message.textContent = err ? `${err.code}: ${err.message}` : ''
  }

  const stream = async () => {
    await follow(`/loads/${id}/events`, (event, data) => {
      if (event === 'timeline') samples = [...(data as Timeline).samples]
      else if (event === 'sample') samples.push(data as Sample)
      else if (event === 'progress') {
        const p = data as Progress
        view.status = p.status
        draw(p, p.status)
      }
      if (event === 'timeline' || event === 'sample') charts.set(samples)
    }, signal)
    if (signal.aborted) return
    view = await api<LoadView>('GET', `/loads/${id}`)
    drawView()
  }

  cancel.onclick = async () => {
    cancel.disabled = true
    await api('DELETE', `/loads/${id}`).catch((e: Error) => (message.textContent = e.message))
  }
  resume.onclick = async () => {
    resume.disabled = true
    try {
      view = await api<LoadView>('POST', `/loads/${id}/resume`)
      drawView()
      void stream()
    } catch (e) {
      message.textContent = (e as Error).message
    }
  }
  verify.onclick = async () => {
    verify.disabled = true
    verifyOut.replaceChildren(h('p', { class: 'muted' }, 'Verifying: regenerating the dataset and comparing candles with the database…'))
    try {
      const r = await api<{ ok: boolean; pointsFound: number; pointsExpected: number; candlesCompared: number; differencesTotal: number; differences: { symbol: string; time?: string; field: string; expected: unknown; found: unknown }[] }>('POST', `/loads/${id}/verify`, { interval: verifyInterval.value })
      verifyOut.replaceChildren(
        h('p', { class: r.ok ? '' : 'error', 'data-ok': String(r.ok) }, r.ok
          ? `verify ok: ${fmt(r.pointsFound)} points, ${fmt(r.candlesCompared)} candles (${verifyInterval.value}) identical to the regenerated dataset`
          : `verify found ${fmt(r.differencesTotal)} difference(s): ${fmt(r.pointsFound)} points found, ${fmt(r.pointsExpected)} expected`),
        r.differences.length ? h('table', {}, h('tr', {}, ...['symbol', 'time', 'field', 'expected', 'found'].map((c) => h('th', {}, c))), ...r.differences.map((d) => h('tr', {}, h('td', {}, d.symbol), h('td', {}, d.time ?? ''), h('td', {}, d.field), h('td', {}, String(d.expected)), h('td', {}, String(d.found))))) : '',
      )
    } catch (e) {
      verifyOut.replaceChildren(h('p', { class: 'error' }, e instanceof ApiError ? `${e.code}: ${e.message}` : String(e)))
    } finally {
      verify.disabled = false
    }
  }
  report.onclick = async () => {
    const blob = await download(`/loads/${id}/report`)
    const a = h('a', { href: URL.createObjectURL(blob), download: `ohlcv-loadgen-${id}.html` })
    a.click()
  }

  root.replaceChildren(
    h('div', { class: 'row' }, h('h1', {}, `Load ${id.slice(0, 8)}`), status, cancel, resume, verify, verifyInterval, report, candles),
    h('div', { class: 'card' }, bar, barText, message),
    verifyOut,
    h('h2', {}, 'Over time'),
    charts.el,
    h('div', { class: 'row' },
      h('div', {}, h('h2', {}, 'Account'), account),
      h('div', {}, h('h2', {}, 'Settings'), settingsTable(view)),
      h('div', {}, h('h2', {}, 'Sink'), sinkTable(view)),
    ),
  )
  drawView()
  await stream()
}

/** A paced load: the rate asked and the rate the database took (the last attempt's, as `run` says it). */
function paceRow(p: PaceKept | undefined): [string, string][] {
  if (!p) return []
  const share = p.achievedPointsPerSecond / p.targetPointsPerSecond
  return [['paced', `${fmt(p.targetPointsPerSecond)} points/s: ${share >= 0.99 ? 'kept it' : 'fell behind'}, ${fmt(p.achievedPointsPerSecond)} taken (${(share * 100).toFixed(1)} %)`]]
}
