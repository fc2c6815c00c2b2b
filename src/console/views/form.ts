import { api, ApiError, formField } from '../api.js'
import { h } from '../dom.js'

/** A form field: its request field name, how it reads, and how its text becomes the request's value. */
interface Field {
  name: string
  label: string
  hint: string
  input: HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement
  read: (text: string) => unknown
}

class LocalError extends Error {}

const json = (text: string): unknown => {
  try {
    return JSON.parse(text)
  } catch {
    throw new LocalError('is not valid JSON')
  }
}
const number = (text: string): unknown => {
  const n = Number(text)
  if (!Number.isFinite(n)) throw new LocalError('must be a number')
  return n
}

/** Starts a load: each field's error, from the API's 400, beside the field it names. */
export function formView(root: HTMLElement): void {
  const input = (name: string, type = 'text', placeholder = '') => h('input', { name, type, placeholder, id: `f-${name}` })
  const textarea = (name: string, placeholder: string) => h('textarea', { name, placeholder, id: `f-${name}` })
  const distribution = h('select', { name: 'distribution', id: 'f-distribution' }, h('option', { value: '' }, '(default: uniform)'), ...['uniform', 'poisson', 'intraday', 'bursty'].map((d) => h('option', { value: d }, d)))
  const fields: Field[] = [
    { name: 'symbols', label: 'Symbols', hint: 'comma-separated, e.g. AAPL, MSFT', input: input('symbols', 'text', 'AAPL, MSFT, GOOG, AMZN, TSLA'), read: (t) => t.split(',').map((s) => s.trim()).filter((s) => s !== '') },
    { name: 'from', label: 'From', hint: 'ISO-8601, inclusive', input: input('from', 'text', 'default: 24 h before to'), read: (t) => t },
    { name: 'to', label: 'To', hint: 'ISO-8601, exclusive', input: input('to', 'text', 'default: now'), read: (t) => t },
    { name: 'trades', label: 'Trades', hint: 'in total', input: input('trades', 'text', '1000000'), read: number },
    { name: 'seed', label: 'Seed', hint: 'same seed, same data', input: input('seed', 'text', 'random'), read: (t) => (/^-?\d+$/.test(t) ? Number(t) : t) },
    { name: 'distribution', label: 'Distribution', hint: 'of trade times', input: distribution, read: (t) => t },
    { name: 'batchSize', label: 'Batch size', hint: 'points per write', input: input('batchSize', 'text', '5000'), read: number },
    { name: 'ratePerSecond', label: 'Rate', hint: 'points/s target; empty: as fast as the server takes them', input: input('ratePerSecond', 'text', ''), read: number },
    { name: 'measurement', label: 'Measurement', hint: '', input: input('measurement', 'text', 'trades'), read: (t) => t },
    { name: 'weights', label: 'Weights', hint: 'JSON, trade share per symbol: {"AAPL": 3, "MSFT": 1}', input: textarea('weights', '{}'), read: json },
    { name: 'market', label: 'Market', hint: 'JSON: {"tickSize": 0.01, "symbols": {"AAPL": {"price": 190, "volatility": 0.25}}}', input: textarea('market', '{}'), read: json },
    { name: 'session', label: 'Session', hint: 'JSON: {"open": "09:30", "close": "16:00", "timeZone": "America/New_York"}', input: textarea('session', '{}'), read: json },
  ]
  const errors = new Map<string, HTMLElement>()
  const labels = new Map<string, HTMLElement>()
  const general = h('p', { class: 'error', id: 'form-error' })
  const submit = h('button', { class: 'primary', type: 'submit' }, 'Start load')
  const form = h('form', { class: 'load', id: 'load-form', novalidate: true },
    ...fields.map((f) => {
      const err = h('span', { class: 'field-error', 'data-field': f.name })
      errors.set(f.name, err)
      const label = h('label', { for: f.input.id }, f.label, f.hint ? h('span', { class: 'hint' }, f.hint) : null, f.input, err)
      labels.set(f.name, label)
      return label
    }),
  )
  const clear = () => {
    general.textContent = ''
    for (const [name, e] of errors) {
      e.textContent = ''
      labels.get(name)!.classList.remove('invalid')
    }
  }
  const show = (field: string | undefined, message: string) => {
    const name = formField(field)
    const at = errors.get(name)
    if (at) {
      at.textContent = message
      labels.get(name)!.classList.add('invalid')
      fields.find((f) => f.name === name)?.input.focus()
    } else general.textContent = message
  }
  form.onsubmit = async (e) => {
    e.preventDefault()
    clear()
    const request: Record<string, unknown> = {}
    for (const f of fields) {
      const text = f.input.value.trim()
      if (text === '') continue
      try {
        request[f.name] = f.read(text)
      } catch (err) {
        return show(f.name, `${f.name}: ${(err as Error).message}`)
      }
    }
    submit.disabled = true
    try {
      const created = await api<{ id: string }>('POST', '/loads', request)
      location.hash = `#/loads/${created.id}`
    } catch (err) {
      if (err instanceof ApiError) show(err.field, err.message)
      else general.textContent = String(err)
    } finally {
      submit.disabled = false
    }
  }
  form.append(h('div', {}, submit))
  root.replaceChildren(h('h1', {}, 'New load'), h('p', { class: 'muted' }, 'Every field is optional: empty ones take the defaults.'), general, form)
}
