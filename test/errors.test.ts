import { describe, expect, it } from 'vitest'
import { ERRORS, LoadgenError, parseRetryAfter, WriteError, type ErrorCode } from '../src/errors.js'
import { retryDelay, withRetry } from '../src/sink/retry.js'

describe('error catalogue', () => {
  it.each(Object.entries(ERRORS))('%s has a stable status and exit code', (code, { status, exitCode }) => {
    const e = new LoadgenError(code as ErrorCode, 'x')
    expect(e.code).toBe(code)
    expect(e.statusCode).toBe(status)
    expect(e.exitCode).toBe(exitCode)
    expect(status).toBeGreaterThanOrEqual(400)
  })

  it.each([
    [undefined, true],
    [408, true],
    [429, true],
    [500, true],
    [503, true],
    [400, false],
    [401, false],
    [403, false],
    [404, false],
    [413, false],
  ])('status %s retryable: %s', (status, retry) => {
    const e = new WriteError('x', status === undefined ? {} : { status })
    expect(e.canRetry()).toBe(retry)
    expect(e.kind).toBe(retry ? 'retryable' : 'permanent')
  })

  it('reads Retry-After as seconds or as a date', () => {
    expect(parseRetryAfter('2', 0)).toBe(2000)
    expect(parseRetryAfter('Wed, 21 Oct 2015 07:28:05 GMT', Date.parse('Wed, 21 Oct 2015 07:28:00 GMT'))).toBe(5000)
    expect(parseRetryAfter('soon', 0)).toBeUndefined()
    expect(parseRetryAfter(undefined, 0)).toBeUndefined()
  })
})

describe('retry', () => {
  const policy = { maxAttempts: 4, baseDelayMs: 1, maxDelayMs: 50 }

  it('retries retryable errors until success', async () => {
    let calls = 0
    const retried: number[] = []
    await withRetry(
      async () => {
        if (++calls < 3) throw new WriteError('busy', { status: 503 })
      },
      policy,
      { stopped: () => false, onRetry: (e) => retried.push(e.status ?? 0) },
    )
    expect(calls).toBe(3)
    expect(retried).toEqual([503, 503])
  })

  it('gives up after maxAttempts and on permanent errors at once', async () => {
    let calls = 0
    await expect(withRetry(async () => { calls++; throw new WriteError('down') }, policy, { stopped: () => false, onRetry: () => {} })).rejects.toThrow('down')
    expect(calls).toBe(4)
    calls = 0
    await expect(withRetry(async () => { calls++; throw new WriteError('nope', { status: 404 }) }, policy, { stopped: () => false, onRetry: () => {} })).rejects.toThrow('nope')
    expect(calls).toBe(1)
  })

  it('stops retrying when the load stops', async () => {
    let calls = 0
    await expect(withRetry(async () => { calls++; throw new WriteError('down') }, policy, { stopped: () => calls >= 2, onRetry: () => {} })).rejects.toThrow()
    expect(calls).toBe(2)
  })

  it('backs off with full jitter, capped, and never below Retry-After', () => {
    const p = { maxAttempts: 10, baseDelayMs: 100, maxDelayMs: 1000 }
    const max = (_min: number, maxExcl: number) => maxExcl - 1
    expect(retryDelay(p, 1, new WriteError('x'), max)).toBe(100)
    expect(retryDelay(p, 3, new WriteError('x'), max)).toBe(400)
    expect(retryDelay(p, 9, new WriteError('x'), max)).toBe(1000)
    expect(retryDelay(p, 1, new WriteError('x', { retryAfterMs: 700 }), () => 0)).toBe(700)
  })
})
