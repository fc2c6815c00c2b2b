import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import type { LoadView } from '../src/api/schemas.js'
import { launchChromium } from './harness/browser.js'
import { startServe } from './harness/cli.js'
import { call, finished } from './harness/http.js'
import { countInflux } from './harness/servers.js'
import { expectAccountBalances } from './harness/account.js'

/**
 * The web console at / in a real browser: Debian's Chromium driven by playwright-core, against
 * `serve` writing to the harness's real influxd. Screenshots go to a temporary directory, or with
 * UPDATE_SCREENSHOTS=1 to docs/images/ (the README's pictures).
 */
const SHOTS = process.env.UPDATE_SCREENSHOTS === '1' ? 'docs/images' : mkdtempSync(join(tmpdir(), 'ohlcv-shots-'))
/** The README's pictures show 4M-trade loads; the checks need no more than 1M (the suite's time budget). */
const BIG = process.env.UPDATE_SCREENSHOTS === '1' ? 4_000_000 : 1_000_000
const big = BIG.toLocaleString('en-US')
mkdirSync(SHOTS, { recursive: true })

const RANGE = { from: '2024-03-04T00:00:00Z', to: '2024-03-09T00:00:00Z' }

type Serve = ReturnType<typeof startServe>

// What the functions below touch in the page (they run there: playwright sends their source; a
// string would be eval'd, which the page's CSP forbids).
declare const document: { querySelector(s: string): { value?: number; getAttribute(name: string): string | null } | null }
declare const window: { ohlcvConsole: { candles: { data(): object[] } } }

/** `serve` with `env` and a Chromium for a block's tests: started before them, stopped after. */
function serveInChromium(env: Record<string, string>, ready: (url: string, browser: Browser) => void): void {
  let serve: Serve | undefined
  let browser: Browser | undefined
  beforeAll(async () => {
    serve = startServe(env)
    const url = await serve.listening
    browser = await launchChromium()
    ready(url, browser)
  }, 60_000)
  afterAll(async () => {
    await browser?.close()
    serve?.child.kill('SIGTERM')
    await serve?.exited
  })
}

describe('the web console, in Chromium', () => {
  const influx = inject('influxUrl')
  const db = 'console'
  let browser: Browser
  let url: string
  let page: Page
  let first: string | undefined

  serveInChromium({ INFLUX_URL: influx, INFLUX_DB: db, POOL_SIZE: '2', LOG_LEVEL: 'warn', SHUTDOWN_GRACE_MS: '0' }, (u, b) => {
    url = u
    browser = b
  })
  beforeAll(async () => {
    page = await browser.newPage({ viewport: { width: 1280, height: 1000 } })
  })

  it('serves the page with a strict Content-Security-Policy, and the page runs under it', async () => {
    const res = await fetch(`${url}/`)
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8')
    expect(res.headers.get('content-security-policy')).toMatch(/^default-src 'none'; script-src 'sha256-[A-Za-z0-9+/=]+'; /)
    const html = await res.text()
    // nothing outside the page: no script or stylesheet from elsewhere
    expect(html).not.toMatch(/<script[^>]+src=|<link[^>]+stylesheet/)
    const violations: string[] = []
    page.on('console', (m) => {
      if (m.type() === 'error') violations.push(m.text())
    })
    await page.goto(`${url}/#/`)
    await page.waitForSelector('#loads')
    expect(violations).toEqual([])
  }, 30_000)

  it('starts a load from the form; the live view reaches 100 % with the pointsWritten of GET /loads/:id and of the database', async () => {
    await page.goto(`${url}/#/new`)
    await page.fill('#f-symbols', 'AAPL, MSFT, NVDA')
    await page.fill('#f-from', RANGE.from)
    await page.fill('#f-to', RANGE.to)
    await page.fill('#f-trades', String(BIG))
    await page.fill('#f-seed', 'console-1')
    await page.click('#load-form button[type=submit]')
    await page.waitForURL(/#\/loads\/[0-9a-f-]{36}$/)
    const id = page.url().split('/').pop()!
    first = id
    await page.waitForSelector('#status [data-status=succeeded]', { timeout: 60_000 })
    await page.waitForFunction(() => document.querySelector('#progress')?.value === 1)
    const shown = Number(await page.getAttribute('#progress', 'data-written'))
    const view = (await call<LoadView>(url, 'GET', `/loads/${id}`)).body
    expect(view.request).toMatchObject({ symbols: ['AAPL', 'MSFT', 'NVDA'], trades: BIG, seed: 'console-1' })
    expect(shown).toBe(BIG)
    expect(view.result?.pointsWritten).toBe(shown)
    expect(await countInflux(influx, db)).toBe(shown)
    expect(await page.textContent('#progress-text')).toContain(`${big} / ${big} points · 100.0 %`)
    // the charts were drawn from the timeline (uPlot: one canvas each)
    expect(await page.locator('[data-chart="points/s"] canvas').count()).toBe(1)
    await page.screenshot({ path: join(SHOTS, 'console-live.png'), fullPage: true })
  }, 90_000)

  it("a bad field shows the API's message beside that field, and no load starts", async () => {
    const before = (await call<{ loads: unknown[] }>(url, 'GET', '/loads')).body.loads.length
    await page.goto(`${url}/#/new`)
    await page.fill('#f-trades', '0')
    await page.click('#load-form button[type=submit]')
    await page.waitForSelector('[data-field=trades]:not(:empty)')
    expect(await page.textContent('[data-field=trades]')).toBe('body.trades: must be >= 1')
    // a problem only the coordinator's own checks see: the range, beside `from`
    await page.fill('#f-trades', '1000')
    await page.fill('#f-from', '2024-02-01T00:00:00Z')
    await page.fill('#f-to', '2024-01-01T00:00:00Z')
    await page.click('#load-form button[type=submit]')
    await page.waitForSelector('[data-field=from]:not(:empty)')
    expect(await page.textContent('[data-field=from]')).toBe('from: must be before to')
    expect(await page.textContent('[data-field=trades]')).toBe('')
    expect(page.url()).toMatch(/#\/new$/)
    expect((await call<{ loads: unknown[] }>(url, 'GET', '/loads')).body.loads.length).toBe(before)
  }, 30_000)

  it('cancel from the page stops the load with an exact account', async () => {
    const { body } = await call<{ id: string }>(url, 'POST', '/loads', { trades: 200_000_000, seed: 'console-cancel', symbols: ['CXL'], ...RANGE, measurement: 'cancelled' })
    await page.goto(`${url}/#/loads/${body.id}`)
    await page.waitForFunction(() => Number(document.querySelector('#progress')?.getAttribute('data-written') ?? 0) > 0, undefined, { timeout: 30_000 })
    await page.click('#cancel')
    await page.waitForSelector('#status [data-status=cancelled]', { timeout: 30_000 })
    const r = (await finished(url, body.id)).result
    expectAccountBalances(r)
    expect(r.pointsWritten).toBeLessThan(r.pointsPlanned)
    const inDb = await countInflux(influx, db, 'cancelled')
    expect(inDb).toBeGreaterThanOrEqual(r.pointsWritten)
    expect(inDb).toBeLessThanOrEqual(r.pointsWritten + r.pointsFailed + r.pointsInDoubt)
    expect(await page.textContent('#account')).toContain(r.pointsWritten.toLocaleString('en-US'))
    expect(await page.isDisabled('#resume')).toBe(false)
  }, 60_000)

  it('a paced load says, in its view, the rate asked and the rate the database took', async () => {
    const { body } = await call<{ id: string }>(url, 'POST', '/loads', { trades: 300_000, ratePerSecond: 150_000, seed: 'console-paced', symbols: ['PCD'], ...RANGE, measurement: 'paced' })
    const r = (await finished(url, body.id)).result as { attempts: { pace: { targetPointsPerSecond: number; achievedPointsPerSecond: number } }[] }
    const pace = r.attempts[0]!.pace
    expect(pace.targetPointsPerSecond).toBe(150_000)
    await page.goto(`${url}/#/loads/${body.id}`)
    await page.waitForSelector('#account th:text-is("paced")')
    const shown = await page.textContent('#account tr:has(th:text-is("paced")) td')
    const share = pace.achievedPointsPerSecond / 150_000
    expect(shown).toBe(`150,000 points/s: ${share >= 0.99 ? 'kept it' : 'fell behind'}, ${pace.achievedPointsPerSecond.toLocaleString('en-US')} taken (${(share * 100).toFixed(1)} %)`)
  }, 60_000)

  it("the candles view draws the database's candles of a finished load", async () => {
    expect(first).toBeDefined()
    await page.goto(`${url}/#/candles?load=${first}`)
    await page.waitForSelector('#candles-note:has-text("candles of")', { timeout: 30_000 })
    // what the chart holds, as lightweight-charts has it
    const drawn = await page.evaluate(() => window.ohlcvConsole.candles.data().map((c) => ({ ...c })))
    const interval = await page.inputValue('#c-interval')
    const api = (await call<{ time: string; open: number; high: number; low: number; close: number }[]>(url, 'GET', `/candles?${new URLSearchParams({ symbol: "AAPL", interval, ...RANGE }).toString()}`)).body
    expect(drawn.length).toBeGreaterThan(10)
    expect(drawn).toEqual(api.map((c) => ({ time: Date.parse(c.time) / 1000, open: c.open, high: c.high, low: c.low, close: c.close })))
    expect(await page.locator('#candles-chart a[href*="tradingview.com"]').count()).toBeGreaterThan(0)
    await page.screenshot({ path: join(SHOTS, 'console-candles.png'), fullPage: true })
  }, 60_000)

  it('verify at the interval the user picks: an hour of candles is 60 minutes of them', async () => {
    await page.goto(`${url}/#/loads/${first}`)
    await page.waitForSelector('#verify:not([disabled])')
    const verifyAt = async (interval: string) => {
      await page.selectOption('#verify-interval', interval)
      await page.click('#verify')
      await page.waitForSelector('#verify-result p[data-ok]', { timeout: 60_000 })
      const text = (await page.textContent('#verify-result'))!
      await page.evaluate("document.querySelector('#verify-result').replaceChildren()")
      return { ok: text.startsWith('verify ok'), candles: Number(/([\d,]+) candles/.exec(text)![1]!.replace(/,/g, '')), text }
    }
    const hourly = await verifyAt('1h')
    const minutes = await verifyAt('1m')
    expect(hourly.ok, hourly.text).toBe(true)
    expect(hourly.text).toMatch(/candles \(1h\) identical/)
    expect(minutes.ok, minutes.text).toBe(true)
    // the same dataset compared at a 60 times finer interval: about 60 times the candles
    expect(minutes.candles / hourly.candles).toBeGreaterThan(50)
  }, 120_000)

  it('compare: two finished loads side by side, their points/s overlaid', async () => {
    expect(first).toBeDefined()
    const { body } = await call<{ id: string }>(url, 'POST', '/loads', { trades: BIG, seed: 'console-1', symbols: ['AAPL', 'MSFT', 'NVDA'], ...RANGE, batchSize: 20_000, measurement: 'compare' })
    await finished(url, body.id)
    await page.goto(`${url}/#/`)
    await page.check(`input[data-id="${first}"]`)
    await page.check(`input[data-id="${body.id}"]`)
    await page.click('#compare')
    await page.waitForSelector('#compare-table')
    const headers = await page.locator('#compare-table tr:first-child th a').allTextContents()
    expect(headers).toEqual([first!.slice(0, 8), body.id.slice(0, 8)])
    const batch = await page.locator('#compare-table tr:has(th:text-is("batch size")) td').allTextContents()
    expect(batch).toEqual(['5,000', '20,000'])
    await page.waitForSelector('[data-chart="points/s"] canvas')
    const legend = await page.locator('[data-chart="points/s"] .u-legend .u-series .u-label').allTextContents()
    expect(legend).toEqual(['s', `${first!.slice(0, 8)} (batch 5,000)`, `${body.id.slice(0, 8)} (batch 20,000)`])
    await page.screenshot({ path: join(SHOTS, 'console-compare.png'), fullPage: true })
  }, 90_000)

  it('capacity: the form starts a search, the steps come in as rows, the rate found and its chart show', async () => {
    await page.goto(`${url}/#/capacity`)
    for (const [name, value] of Object.entries({ sloP99: '1s', stepSeconds: '1', warmupSeconds: '0', startRate: '50000', maxRate: '200000', precision: '50%', symbols: 'CAP' })) await page.fill(`#cap-${name}`, value)
    await page.click('#capacity-form button[type=submit]')
    await page.waitForURL(/#\/capacity\/[0-9a-f-]{36}$/)
    await page.waitForSelector('#capacity-result[data-sustainable]', { timeout: 90_000 })
    const found = Number(await page.getAttribute('#capacity-result', 'data-sustainable'))
    const id = page.url().split('/').pop()!
    const api = (await call<{ sustainablePointsPerSecond: number; steps: unknown[] }>(url, 'GET', `/capacity/${id}`)).body
    expect(found).toBe(api.sustainablePointsPerSecond)
    expect(await page.locator('#capacity-steps tbody tr').count()).toBe(api.steps.length)
    expect(await page.textContent('#capacity-result')).toContain(`sustainable: ${found.toLocaleString('en-US')} points/s`)
    await page.waitForSelector('#capacity-chart img')
    // the search is one dataset: every slice it wrote checked against the regenerated one
    await page.click('#capacity-verify')
    await page.waitForSelector('#capacity-verify-result p[data-ok]', { timeout: 60_000 })
    expect(await page.getAttribute('#capacity-verify-result p', 'data-ok')).toBe('true')
    expect(await page.textContent('#capacity-verify-result')).toMatch(new RegExp(`^verify ok: ${api.steps.length} slices \\(${api.steps.length} steps, 0 warm-ups\\), [\\d,]+ points identical`))
    // a bad objective is shown beside its field
    await page.goto(`${url}/#/capacity`)
    await page.fill('#cap-sloP99', 'soon')
    await page.click('#capacity-form button[type=submit]')
    await page.waitForSelector('[data-field=sloP99]:not(:empty)')
    expect(await page.textContent('[data-field=sloP99]')).toContain('is not a duration')
  }, 120_000)

  it('the report is one HTML file that opens with no network and shows the account', async () => {
    expect(first).toBeDefined()
    const res = await fetch(`${url}/loads/${first}/report`)
    expect(res.status).toBe(200)
    const html = await res.text()
    const dir = mkdtempSync(join(tmpdir(), 'ohlcv-report-'))
    const file = join(dir, 'report.html')
    writeFileSync(file, html)
    const context = await browser.newContext({ offline: true })
    const asked: string[] = []
    await context.route('**/*', (route) => {
      const u = route.request().url()
      if (u.startsWith('file:')) return route.continue()
      asked.push(u)
      return route.abort()
    })
    const offline = await context.newPage()
    await offline.goto(pathToFileURL(file).href)
    await offline.waitForSelector('#account')
    expect(await offline.textContent('#account')).toContain(big)
    expect(await offline.textContent('h1')).toContain(first)
    expect(await offline.locator('[data-chart="points/s"] canvas').count()).toBe(1)
    expect(asked).toEqual([])
    await context.close()
    rmSync(dir, { recursive: true, force: true })
  }, 60_000)
})

describe('the web console behind API_TOKEN', () => {
  const TOKEN = 'console-test-token-0123456789'
  let browser: Browser
  let url: string

  serveInChromium({ SINK: 'null', POOL_SIZE: '1', API_TOKEN: TOKEN, LOG_LEVEL: 'warn' }, (u, b) => {
    url = u
    browser = b
  })

  it('asks for the token; a wrong one is refused, the right one works and stays in the tab only', async () => {
    const { body } = await call<{ id: string }>(url, 'POST', '/loads', { trades: 10_000, seed: 'token' }, TOKEN)
    const context = await browser.newContext()
    const page = await context.newPage()
    const sent: (string | undefined)[] = []
    page.on('request', (r) => sent.push(r.url()))
    await page.goto(`${url}/#/`)
    await page.waitForSelector('#token-dialog[open]')
    expect(await page.isHidden('#token-error')).toBe(true)
    await page.fill('#token-input', 'not-the-token-at-all')
    await page.click('#token-form button[type=submit]')
    await page.waitForSelector('#token-dialog[open] #token-error:not([hidden])')
    expect(await page.textContent('#token-error')).toContain('refused')
    await page.fill('#token-input', TOKEN)
    await page.click('#token-form button[type=submit]')
    await page.waitForSelector(`#loads tr[data-id="${body.id}"]`)
    expect(await page.isVisible('#token-dialog')).toBe(false)
    // never in a URL
    expect(sent.filter((u) => u?.includes(TOKEN))).toEqual([])
    // kept for this tab only: a new tab asks again
    const other = await context.newPage()
    await other.goto(`${url}/#/`)
    await other.waitForSelector('#token-dialog[open]')
    await context.close()
  }, 60_000)
})
