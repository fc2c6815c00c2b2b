import { api, ApiError, download, follow, formField } from '../api.js'
import type { CapacitySearchView as CapacityView, CapacityStep as Step, CapacityVerified } from '../../model/capacity.js'
import { fmt, h } from '../dom.js'

/** The options of POST /capacity, as a form; a 400 shows beside the field it names. */
export function capacityForm(root: HTMLElement): void {
  const fields: [string, string, string][] = [
    ['sloP99', 'p99 objective', '200ms'],
    ['sloP90', 'p90 objective (optional)', ''],
    ['maxErrorRate', 'max error rate', '0'],
    ['stepSeconds', 'step seconds', '30'],
    ['warmupSeconds', 'warm-up seconds', '5'],
    ['startRate', 'start rate (points/s)', '10000'],
    ['maxRate', 'max rate (points/s)', '10000000'],
    ['precision', 'precision', '2%'],
    ['deadline', 'deadline', '15m'],
    ['symbols', 'symbols (optional)', ''],
  ]
  const inputs = new Map<string, HTMLInputElement>()
  const errors = new Map<string, HTMLElement>()
  const general = h('p', { class: 'error', id: 'capacity-error' })
  const form = h('form', { class: 'load', id: 'capacity-form', novalidate: true },
    ...fields.map(([name, label, value]) => {
      const input = h('input', { name, id: `cap-${name}`, value })
      const err = h('span', { class: 'field-error', 'data-field': name })
      inputs.set(name, input)
      errors.set(name, err)
      return h('label', {}, label, input, err)
    }),
    h('div', {}, h('button', { class: 'primary', type: 'submit' }, 'Find the capacity')),
  )
  form.onsubmit = async (e) => {
    e.preventDefault()
    general.textContent = ''
    for (const el of errors.values()) el.textContent = ''
    const body: Record<string, unknown> = {}
    for (const [name] of fields) {
      const v = inputs.get(name)!.value.trim()
      if (v === '') continue
      if (name === 'symbols') body.load = { symbols: v.split(',').map((s) => s.trim()).filter((s) => s !== '') }
      else body[name] = v
    }
    try {
      const created = await api<CapacityView>('POST', '/capacity', body)
      location.hash = `#/capacity/${created.id}`
    } catch (err) {
      const name = err instanceof ApiError ? formField(err.field) : ''
      const at = errors.get(name)
      if (at && err instanceof ApiError) at.textContent = err.message
      else general.textContent = (err as Error).message
    }
  }
  root.replaceChildren(
    h('h1', {}, 'Capacity'),
    h('p', { class: 'muted' }, 'The highest rate the database takes within the objectives: fixed-rate steps, doubling until one fails, then halving the gap, then holding the rate found once more.'),
    general,
    form,
  )
}

/** A search as it runs: one row per judged step, then the rate found and the chart. */
export async function capacityView(root: HTMLElement, id: string, signal: AbortSignal): Promise<void> {
  const body = h('tbody')
  const result = h('p', { id: 'capacity-result' })
  const chart = h('div', { id: 'capacity-chart' })
  const verify = h('button', { id: 'capacity-verify', disabled: true, title: 'regenerate every slice the search wrote, warm-ups included, and compare it with the database' }, 'Verify the dataset')
  const verifyOut = h('div', { id: 'capacity-verify-result' })
  verify.onclick = async () => {
    verify.disabled = true
    verifyOut.replaceChildren(h('p', { class: 'muted' }, 'Verifying every slice: regenerating it and comparing candles with the database…'))
    try {
      const r = await api<CapacityVerified>('POST', `/capacity/${id}/verify`, {})
      const steps = r.slices.filter((s) => s.kind === 'step').length
      const what = `${fmt(r.slices.length)} slices (${fmt(steps)} steps, ${fmt(r.slices.length - steps)} warm-ups)`
      const bad = r.slices.filter((s) => !s.report.ok)
      verifyOut.replaceChildren(
        h('p', { class: r.ok ? '' : 'error', 'data-ok': String(r.ok) }, r.ok
          ? `verify ok: ${what}, ${fmt(r.pointsFound)} points identical to the regenerated dataset`
          : `verify found ${fmt(r.differencesTotal)} difference(s) in ${fmt(bad.length)} of ${what}: ${fmt(r.pointsFound)} points found, ${fmt(r.pointsExpected)} expected`),
        bad.length ? h('table', {}, h('tr', {}, ...['slice', 'from', 'trades', 'found', 'differences'].map((c) => h('th', {}, c))), ...bad.map((s) => h('tr', {}, h('td', {}, s.kind), h('td', {}, s.from), h('td', { class: 'num' }, fmt(s.trades)), h('td', { class: 'num' }, fmt(s.report.pointsFound)), h('td', { class: 'num' }, fmt(s.report.differencesTotal))))) : '',
      )
    } catch (e) {
      verifyOut.replaceChildren(h('p', { class: 'error' }, e instanceof ApiError ? `${e.code}: ${e.message}` : String(e)))
    } finally {
      verify.disabled = false
    }
  }
  root.replaceChildren(
    h('div', { class: 'row' }, h('h1', {}, `Capacity search ${id.slice(0, 8)}`), verify),
    result,
    verifyOut,
    h('table', { id: 'capacity-steps' }, h('thead', {}, h('tr', {}, ...['step', 'phase', 'target/s', 'achieved/s', 'p50 ms', 'p90 ms', 'p99 ms', 'errors', 'client CPU', 'host CPU', 'verdict'].map((c) => h('th', {}, c)))), body),
    chart,
  )
  const row = (s: Step) =>
    body.append(h('tr', { 'data-passed': String(s.passed) },
      h('td', { class: 'num' }, body.children.length + 1), h('td', {}, s.phase), h('td', { class: 'num' }, fmt(s.targetPointsPerSecond)), h('td', { class: 'num' }, fmt(s.achievedPointsPerSecond)),
      h('td', { class: 'num' }, fmt(s.p50Ms, 1)), h('td', { class: 'num' }, fmt(s.p90Ms, 1)), h('td', { class: 'num' }, fmt(s.p99Ms, 1)), h('td', { class: 'num' }, s.errors),
      h('td', { class: 'num' }, `${Math.round(s.clientCpu * 100)} %`), h('td', { class: 'num' }, `${Math.round(s.hostCpu * 100)} %`), h('td', {}, s.passed ? 'pass' : `fail: ${s.reasons.join('; ')}`)))
  const done = async (v: CapacityView) => {
    const found = v.sustainablePointsPerSecond
    result.textContent = v.error ? `failed: ${v.error.message}` : found === null || found === undefined ? 'no sustainable rate: the start rate failed its objectives' : `sustainable: ${fmt(found)} points/s${v.confirmed ? ' (held twice)' : ' (not confirmed)'}`
    result.dataset.sustainable = String(found ?? '')
    verify.disabled = v.status === 'failed'
    const blob = await download(v.links.chart)
    chart.replaceChildren(h('img', { src: URL.createObjectURL(blob), alt: 'the steps of the capacity search' }))
  }
  result.textContent = 'running…'
  await follow(`/capacity/${id}/events`, (event, data) => {
    if (event === 'step') row(data as Step)
    if (event === 'done') void done(data as CapacityView)
  }, signal)
}
