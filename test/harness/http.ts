import type { LoadView } from '../../src/api/schemas.js'
import { until } from './until.js'

/** One JSON call to a coordinator (a `serve` process, or one in-process): status, parsed body and headers. */
export async function call<T>(url: string, method: string, path: string, body?: unknown, token?: string): Promise<{ status: number; body: T; headers: Headers }> {
  const headers: Record<string, string> = token !== undefined ? { authorization: `Bearer ${token}` } : {}
  if (body !== undefined) headers['content-type'] = 'application/json'
  const res = await fetch(url + path, { method, headers, ...(body === undefined ? {} : { body: JSON.stringify(body) }) })
  const text = await res.text()
  return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T, headers: res.headers }
}

/** Polls GET /loads/:id until the load has its result. */
export async function finished(url: string, id: string, timeoutMs = 90_000, token?: string): Promise<LoadView & { result: NonNullable<LoadView['result']> }> {
  let view: LoadView | undefined
  await until(`load ${id} to finish`, async () => (view = (await call<LoadView>(url, 'GET', `/loads/${id}`, undefined, token)).body).result !== undefined, timeoutMs, 50)
  return { ...view!, result: view!.result! }
}

/** Polls GET /loads/:id until the load has more than `moreThan` points written: it is under way. */
export async function writing(url: string, id: string, moreThan = 0, token?: string): Promise<void> {
  const written = async () => (await call<LoadView>(url, 'GET', `/loads/${id}`, undefined, token)).body.progress.pointsWritten
  await until(`load ${id} to write more than ${moreThan} points`, async () => (await written()) > moreThan, 30_000)
}
