import { api } from '../api.js'
import { duration, fmt, h, statusBadge } from '../dom.js'
import type { LoadSummary } from '../../model/summary.js'

const FINISHED = new Set(['succeeded', 'failed', 'cancelled', 'interrupted'])

/** Every load the coordinator knows, newest first; tick two or more finished ones to compare them. */
export async function listView(root: HTMLElement, signal: AbortSignal): Promise<void> {
  const picked = new Set<string>()
  const compare = h('button', { class: 'primary', id: 'compare', disabled: true }, 'Compare selected')
  compare.onclick = () => (location.hash = `#/compare/${[...picked].join(',')}`)
  const body = h('tbody')
  const more = h('button', { hidden: true }, 'Older loads')
  let next: string | null = null
  root.replaceChildren(
    h('div', { class: 'row' }, h('h1', {}, 'Loads'), h('a', { href: '#/new' }, h('button', {}, 'New load')), compare),
    h('table', { id: 'loads' },
      h('thead', {}, h('tr', {}, ...['', 'load', 'status', 'created', 'trades', 'symbols', 'batch', 'written', 'points/s', 'p99 ms', 'duration'].map((c) => h('th', {}, c)))),
      body,
    ),
    more,
  )
  const row = (l: LoadSummary) => {
    const box = h('input', { type: 'checkbox', 'data-id': l.id, disabled: !FINISHED.has(l.status) })
    box.checked = picked.has(l.id)
    box.onchange = () => {
      if (box.checked) picked.add(l.id)
      else picked.delete(l.id)
      compare.disabled = picked.size < 2
    }
    return h('tr', { 'data-id': l.id },
      h('td', {}, box),
      h('td', {}, h('a', { href: `#/loads/${l.id}` }, l.id.slice(0, 8))),
      h('td', {}, statusBadge(l.status)),
      h('td', {}, new Date(l.createdAt).toLocaleString()),
      h('td', { class: 'num' }, fmt(l.request.trades)),
      h('td', { class: 'num' }, fmt(l.request.symbolCount)),
      h('td', { class: 'num' }, fmt(l.request.batchSize)),
      h('td', { class: 'num' }, fmt(l.account.pointsWritten)),
      h('td', { class: 'num' }, fmt(l.pointsPerSecond)),
      h('td', { class: 'num' }, fmt(l.writeLatencyP99Ms, 1)),
      h('td', { class: 'num' }, duration(l.durationMs)),
    )
  }
  const load = async (page: string, append: boolean) => {
    const { loads, next: n } = await api<{ loads: LoadSummary[]; next: string | null }>('GET', page)
    if (append) body.append(...loads.map(row))
    else body.replaceChildren(...loads.map(row))
    next = n
    more.hidden = next === null
    return loads
  }
  more.onclick = () => void (next && load(next, true))
  let loads = await load('/loads?limit=50', false)
  // while a load runs, the list follows it
  while (!signal.aborted && loads.some((l) => !FINISHED.has(l.status))) {
    await new Promise((r) => setTimeout(r, 2000))
    if (!signal.aborted) loads = await load('/loads?limit=50', false)
  }
}
