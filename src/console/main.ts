import './style.css'
import { h } from './dom.js'
import type { ReportData } from './types.js'
import { candlesView } from './views/candles.js'
import { capacityForm, capacityView } from './views/capacity.js'
import { compareView } from './views/compare.js'
import { formView } from './views/form.js'
import { listView } from './views/list.js'
import { loadView } from './views/load.js'
import { reportView } from './views/report.js'

/**
 * The web console: one page, same origin as the API, views by hash route. With a report's data
 * embedded (GET /loads/:id/report, run --report) it draws that report instead and fetches nothing.
 */
const root = document.getElementById('app')!
let current: AbortController | undefined

async function route(): Promise<void> {
  current?.abort()
  const ac = (current = new AbortController())
  const [path = '', query = ''] = location.hash.replace(/^#/, '').split('?')
  const parts = path.split('/').filter((p) => p !== '')
  try {
    if (parts[0] === 'loads' && parts[1]) await loadView(root, parts[1], ac.signal)
    else if (parts[0] === 'new') formView(root)
    else if (parts[0] === 'compare' && parts[1]) await compareView(root, parts[1].split(','))
    else if (parts[0] === 'candles') await candlesView(root, new URLSearchParams(query))
    else if (parts[0] === 'capacity' && parts[1]) await capacityView(root, parts[1], ac.signal)
    else if (parts[0] === 'capacity') capacityForm(root)
    else await listView(root, ac.signal)
  } catch (e) {
    if (!ac.signal.aborted) root.replaceChildren(h('p', { class: 'error', id: 'page-error' }, (e as Error).message))
  }
}

const embedded = document.getElementById('report-data')
if (embedded?.textContent) {
  reportView(root, JSON.parse(embedded.textContent) as ReportData)
} else {
  window.addEventListener('hashchange', () => void route())
  void route()
}
