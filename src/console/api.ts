import { createParser } from 'eventsource-parser'
import type { ErrorCode, FastifyCode } from '../model/errors.js'
import type { ErrorBody } from '../model/errorSchemas.js'

/**
 * The coordinator's API as the page uses it: same origin, JSON, and the API token (when the
 * coordinator has one) as a Bearer header, asked for once and kept in sessionStorage (this tab
 * only), never put in a URL. Event streams are read with fetch, not EventSource, which cannot
 * send a header.
 */

const TOKEN_KEY = 'ohlcv-loadgen.token'

/** An answer the API gave with an error status: its catalogue code, message and field (400s); `HTTP` when it had no body. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: ErrorCode | FastifyCode | 'HTTP',
    message: string,
    readonly field?: string,
  ) {
    super(message)
  }
}

/**
 * The form field an API 400 is about: `body.trades`, `market.symbols.AAPL.price`, `symbols[3]` and
 * a capacity search's `body.load.symbols` name their first part.
 */
export function formField(field: string | undefined): string {
  return (field ?? '').replace(/^body\.?(load\.)?/, '').split(/[.[]/)[0] ?? ''
}

let asking: Promise<void> | undefined

/** Shows the token dialog; resolves once a token is entered. `refused`: the last one was not valid. */
function askToken(refused: boolean): Promise<void> {
  asking ??= new Promise<void>((resolve) => {
    const dialog = document.getElementById('token-dialog') as HTMLDialogElement
    const form = document.getElementById('token-form') as HTMLFormElement
    const input = document.getElementById('token-input') as HTMLInputElement
    const error = document.getElementById('token-error')!
    error.hidden = !refused
    error.textContent = refused ? 'That token was refused. Enter the coordinator’s API_TOKEN.' : ''
    input.value = ''
    form.onsubmit = () => {
      sessionStorage.setItem(TOKEN_KEY, input.value.trim())
      asking = undefined
      resolve()
    }
    dialog.showModal()
  })
  return asking
}

function headers(json: boolean): Record<string, string> {
  const h: Record<string, string> = {}
  const token = sessionStorage.getItem(TOKEN_KEY)
  if (token) h.authorization = `Bearer ${token}`
  if (json) h['content-type'] = 'application/json'
  return h
}

/** A request answered 401: ask for the token (again) and say to retry. */
async function unauthorized(): Promise<void> {
  const hadToken = sessionStorage.getItem(TOKEN_KEY) !== null
  sessionStorage.removeItem(TOKEN_KEY)
  await askToken(hadToken)
}

async function send(method: string, path: string, body?: unknown): Promise<Response> {
  for (;;) {
    const res = await fetch(path, { method, headers: headers(body !== undefined), ...(body === undefined ? {} : { body: JSON.stringify(body) }) })
    if (res.status !== 401) return res
    await unauthorized()
  }
}

export async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  const res = await send(method, path, body)
  const text = await res.text()
  const data = (text ? JSON.parse(text) : undefined) as unknown
  if (!res.ok) {
    const e = (data ?? {}) as Partial<ErrorBody>
    throw new ApiError(res.status, e.code ?? 'HTTP', e.message ?? `HTTP ${res.status}`, e.field)
  }
  return data as T
}

/** The body of a GET as a Blob (a report to save). */
export async function download(path: string): Promise<Blob> {
  const res = await send('GET', path)
  if (!res.ok) throw new ApiError(res.status, 'HTTP', `HTTP ${res.status}`)
  return res.blob()
}

/** Follows a Server-Sent Events stream until it ends or `signal` aborts; each event parsed as JSON. */
export async function follow(path: string, onEvent: (event: string, data: unknown) => void, signal: AbortSignal): Promise<void> {
  let res: Response
  for (;;) {
    res = await fetch(path, { headers: headers(false), signal })
    if (res.status !== 401) break
    await unauthorized()
  }
  if (!res.ok || !res.body) throw new ApiError(res.status, 'HTTP', `event stream: HTTP ${res.status}`)
  const parser = createParser({ onEvent: (e) => onEvent(e.event ?? 'message', JSON.parse(e.data)) })
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader()
  for (;;) {
    const { done, value } = await reader.read()
    if (done) return
    parser.feed(value)
  }
}
