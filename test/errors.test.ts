import { readdirSync, readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { LoadgenError, parseRetryAfter, WriteError } from '../src/errors.js'
import { ERRORS, type ErrorCode } from '../src/model/errors.js'
import { retryDelay, withRetry, WriteStoppedError, type RetryContext } from '../workers/retry.js'
import { CircuitBreaker } from '../shared/breaker.js'
import { addRange, covers, isRangeList, rangeTotal, type Range } from '../shared/ranges.js'
import { splitBody } from '../workers/executeShard.js'
import { Pacer } from '../shared/pacer.js'

describe('error catalogue', () => {
  it('every OHLCV_ code written anywhere in src/ is in the catalogue', () => {
    const files = readdirSync(new URL('../src/', import.meta.url), { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts'))
    const used = new Set<string>()
    for (const f of files) for (const m of readFileSync(new URL(`../src/${f}`, import.meta.url), 'utf8').matchAll(/['"`](OHLCV_[A-Z_]+)['"`]/g)) used.add(m[1]!)
    expect(used.size).toBeGreaterThan(15)
    for (const code of used) expect(Object.keys(ERRORS), `${code} is used in src/ but not in ERRORS`).toContain(code)
  })

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
  const policy = { maxAttempts: 4, baseDelayMs: 1, maxDelayMs: 50, maxElapsedMs: 60_000 }
  const sleep = (ms: number) => new Promise<boolean>((r) => setTimeout(() => r(false), ms))
  const ctx = (extra: Partial<RetryContext> = {}): RetryContext => ({ sleep, onRetry: () => {}, ...extra })

  it('retries retryable errors until success', async () => {
    let calls = 0
    const retried: number[] = []
    await withRetry(
      async () => {
        if (++calls < 3) throw new WriteError('busy', { status: 503 })
      },
      policy,
      ctx({ onRetry: (e) => retried.push(e.status ?? 0) }),
    )
    expect(calls).toBe(3)
    expect(retried).toEqual([503, 503])
  })

  it('gives up after maxAttempts and on permanent errors at once', async () => {
    let calls = 0
    await expect(withRetry(async () => { calls++; throw new WriteError('down') }, policy, ctx())).rejects.toThrow('gave up after 4 attempts: down')
    expect(calls).toBe(4)
    calls = 0
    await expect(withRetry(async () => { calls++; throw new WriteError('nope', { status: 404 }) }, policy, ctx())).rejects.toThrow('nope')
    expect(calls).toBe(1)
  })

  it('gives up when the time budget is spent, saying so', async () => {
    let calls = 0
    const p = { maxAttempts: 100, baseDelayMs: 40, maxDelayMs: 40, maxElapsedMs: 150 }
    const t0 = Date.now()
    await expect(withRetry(async () => { calls++; throw new WriteError('refused') }, p, ctx())).rejects.toThrow(/gave up: the database took no write for the whole retry budget \(150 ms, --retry-max-ms\), after \d+ s on this batch: refused/)
    expect(Date.now() - t0).toBeLessThan(1000)
    expect(calls).toBeGreaterThan(1)
  })

  it('stops retrying when the load stops, with a stopped error (not a failure of the load)', async () => {
    let calls = 0
    const err = await withRetry(async () => { calls++; throw new WriteError('down') }, policy, ctx({ sleep: async () => calls >= 2 })).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(WriteStoppedError)
    expect(calls).toBe(2)
  })

  it('backs off with full jitter, capped, and never below Retry-After (even beyond the cap)', () => {
    const p = { maxAttempts: 10, baseDelayMs: 100, maxDelayMs: 1000 }
    const max = (_min: number, maxExcl: number) => maxExcl - 1
    expect(retryDelay(p, 1, new WriteError('x'), max)).toBe(100)
    expect(retryDelay(p, 3, new WriteError('x'), max)).toBe(400)
    expect(retryDelay(p, 9, new WriteError('x'), max)).toBe(1000)
    expect(retryDelay(p, 1, new WriteError('x', { retryAfterMs: 700 }), () => 0)).toBe(700)
    expect(retryDelay(p, 1, new WriteError('x', { retryAfterMs: 2000 }), () => 0)).toBe(2000)
  })
})

describe('circuit breaker (shared memory)', () => {
  const settings = { threshold: 3, cooldownMs: 1000, probeTimeoutMs: 5000 }

  it('opens after `threshold` failures in a row, lets one probe through after the cooldown, closes on its success', () => {
    let t = 0
    const b = CircuitBreaker.create(settings, () => t)
    expect(b.gate()).toEqual({ pass: true, probe: false })
    b.failed(false)
    b.failed(false)
    b.succeeded() // a success in between resets the count
    b.failed(false)
    b.failed(false)
    expect(b.stats().state).toBe('closed')
    b.failed(false)
    expect(b.stats()).toEqual({ state: 'open', opens: 1, consecutiveFailures: 3 })
    expect(b.gate()).toEqual({ pass: false, waitMs: 1000 })
    t = 999
    expect(b.gate()).toEqual({ pass: false, waitMs: 1 })
    t = 1000
    expect(b.gate()).toEqual({ pass: true, probe: true })
    expect(b.stats().state).toBe('half-open')
    // a second writer waits while the probe is out
    expect(b.gate().pass).toBe(false)
    b.succeeded()
    expect(b.stats()).toEqual({ state: 'closed', opens: 1, consecutiveFailures: 0 })
  })

  it('a late failure during half-open leaves the probe its deadline: no second probe goes out', () => {
    let t = 0
    const b = CircuitBreaker.create(settings, () => t)
    for (let i = 0; i < 3; i++) b.failed(false)
    t = 1000
    expect(b.gate()).toEqual({ pass: true, probe: true })
    // writers whose requests left before the circuit opened fail now, enough of them for a threshold
    for (let i = 0; i < 3; i++) b.failed(false)
    expect(b.stats().state).toBe('half-open')
    t = 1000 + settings.cooldownMs + 1 // before the fix, the cooldown had replaced the probe's deadline
    expect(b.gate().pass).toBe(false)
    t = 1000 + settings.probeTimeoutMs // only a lost probe is handed over
    expect(b.gate()).toEqual({ pass: true, probe: true })
    expect(b.stats().opens).toBe(1)
  })

  it('reopens when the probe fails, and hands a lost probe over after probeTimeoutMs', () => {
    let t = 0
    const b = CircuitBreaker.create(settings, () => t)
    for (let i = 0; i < 3; i++) b.failed(false)
    t = 1000
    expect(b.gate()).toEqual({ pass: true, probe: true })
    b.failed(true)
    expect(b.stats().state).toBe('open')
    expect(b.gate()).toEqual({ pass: false, waitMs: 1000 })
    t = 2000
    expect(b.gate()).toEqual({ pass: true, probe: true }) // this probe is never answered
    t = 6999
    expect(b.gate().pass).toBe(false)
    t = 7000
    expect(b.gate()).toEqual({ pass: true, probe: true })
    expect(b.stats().opens).toBe(1)
  })

  it('is one state for every thread that maps the buffer', () => {
    const a = CircuitBreaker.create(settings)
    const b = new CircuitBreaker(a.buffer, settings)
    for (let i = 0; i < 3; i++) a.failed(false)
    expect(b.stats().state).toBe('open')
    expect(b.gate().pass).toBe(false)
  })

  it('makes waiting writers wait instead of sending, and does not spend their attempts', async () => {
    let t = 0
    const b = CircuitBreaker.create({ threshold: 1, cooldownMs: 100, probeTimeoutMs: 1000 }, () => t)
    b.failed(false)
    const waits: number[] = []
    let calls = 0
    await withRetry(
      async () => {
        calls++
      },
      { maxAttempts: 1, baseDelayMs: 1, maxDelayMs: 1, maxElapsedMs: 10_000 },
      { breaker: b, now: () => t, onRetry: () => {}, sleep: async (ms) => { waits.push(ms); t += ms; return false } },
    )
    expect(waits).toEqual([100])
    expect(calls).toBe(1)
    expect(b.stats().state).toBe('closed')
  })
})

describe('line ranges (per-shard acknowledgements)', () => {
  it('merges, totals and covers', () => {
    const r: Range[] = []
    addRange(r, 10, 20)
    addRange(r, 30, 40)
    addRange(r, 0, 5)
    expect(r).toEqual([[0, 5], [10, 20], [30, 40]])
    addRange(r, 20, 30)
    expect(r).toEqual([[0, 5], [10, 40]])
    addRange(r, 3, 12)
    expect(r).toEqual([[0, 40]])
    expect(rangeTotal([[0, 5], [10, 40]])).toBe(35)
    expect(covers([[0, 5], [10, 40]], 10, 40)).toBe(true)
    expect(covers([[0, 5], [10, 40]], 4, 11)).toBe(false)
    expect(isRangeList([[0, 5], [10, 40]])).toBe(true)
    expect(isRangeList([[0, 5], [5, 40]])).toBe(false)
    expect(isRangeList([[3, 1]])).toBe(false)
  })
})

describe('body splitting (413)', () => {
  it('splits at the line boundary nearest the middle', () => {
    const body = Buffer.from('a 1\nbb 2\nccc 3\nd 4\ne 5\n')
    const [a, la, b, lb] = splitBody(body, 5)
    expect([a.toString(), la, b.toString(), lb]).toEqual(['a 1\nbb 2\n', 2, 'ccc 3\nd 4\ne 5\n', 3])
  })
})

describe('pacer', () => {
  it('hands out back-to-back slots of lines/rate from one schedule', () => {
    const p = Pacer.create(1000, 5_000_000)
    expect(p.claim(100)).toBe(5_000_000)
    expect(p.claim(100)).toBe(5_100_000)
    const other = new Pacer(p.buffer, 1000)
    expect(other.claim(500)).toBe(5_200_000)
    expect(p.claim(1)).toBe(5_700_000)
  })
})
