import { setTimeout as sleep } from 'node:timers/promises'
import type { LoadView } from '../../src/api/schemas.js'

/** One JSON call to a coordinator (a `serve` process): the status and the parsed body. */
export async function call<T>(url: string, method: string, path: string, body?: unknown, token?: string): Promise<{ status: number; body: T }> {
  const headers: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {}
  if (body !== undefined) headers['content-type'] = 'application/json'
  const res = await fetch(url + path, { method, headers, ...(body === undefined ? {} : { body: JSON.stringify(body) }) })
  const text = await res.text()
  return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T }
}

/** Polls GET /loads/:id until the load has its result. */
export async function finished(url: string, id: string, everyMs = 50): Promise<LoadView & { result: NonNullable<LoadView['result']> }> {
  for (;;) {
    const { body } = await call<LoadView>(url, 'GET', `/loads/${id}`)
    if (body.result) return { ...body, result: body.result }
    await sleep(everyMs)
  }
}
