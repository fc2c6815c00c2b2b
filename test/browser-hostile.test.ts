import type { Browser } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { launchChromium } from './harness/browser.js'
import { startServe } from './harness/cli.js'
import { startFakeInflux, type FakeInflux } from './harness/fakeInflux.js'
import { until } from './harness/until.js'

/**
 * A hostile web page in a real browser (Debian's Chromium through playwright-core) against a
 * tokenless `serve` on loopback: the page, served from another origin, tries what any page can do
 * without a preflight. Not one load may start.
 */
describe('a web page of another origin, in Chromium, cannot start a load', () => {
  let browser: Browser
  let serve: ReturnType<typeof startServe>
  let coordinator: string
  let attacker: FakeInflux
  let attackerUrl: string

  beforeAll(async () => {
    serve = startServe({ SINK: 'null', POOL_SIZE: '1' })
    coordinator = await serve.listening
    const target = coordinator
    // The attacker's page: every simple cross-origin request a page can send without a preflight.
    const page = `<!doctype html><html><body>
<form id="f" method="POST" action="${target}/loads" enctype="text/plain" target="sink"><input name='{"trades":1000000,"x":"' value='"}'></form>
<iframe name="sink"></iframe>
<script>
  const results = []
  const go = async () => {
    for (const init of [
      { method: 'POST', mode: 'no-cors' },
      { method: 'POST', mode: 'no-cors', body: '{"trades":1000000}' },
      { method: 'POST', mode: 'no-cors', headers: { 'content-type': 'text/plain' }, body: '{"trades":1000000}' },
    ]) {
      try { await fetch('${target}/loads', init); results.push('sent') } catch (e) { results.push('error: ' + e.message) }
    }
    // a "non-simple" request: the browser asks first (preflight) and the coordinator does not allow it
    try { await fetch('${target}/loads', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' }); results.push('sent') } catch (e) { results.push('blocked') }
    document.getElementById('f').submit()
    window.done = results
  }
  go()
</script></body></html>`
    // not an InfluxDB: the scriptable server serves the attacker's page
    attacker = await startFakeInflux(() => ({ status: 200, headers: { 'content-type': 'text/html' }, body: page }))
    attackerUrl = `http://localhost:${attacker.port}/`
    browser = await launchChromium()
  }, 60_000)

  afterAll(async () => {
    await browser?.close()
    await attacker?.close()
    serve?.child.kill('SIGTERM')
    await serve?.exited
  })

  it('no-cors fetches, a text/plain form post and a preflighted fetch: all refused, no load started', async () => {
    const page = await browser.newPage()
    await page.goto(attackerUrl)
    // page functions run in the browser, where the page's script left its results on globalThis
    await page.waitForFunction(() => (globalThis as unknown as { done?: string[] }).done !== undefined, undefined, { timeout: 10_000 })
    const results = await page.evaluate(() => (globalThis as unknown as { done: string[] }).done)
    expect(results.slice(0, 3)).toEqual(['sent', 'sent', 'sent']) // the browser sends them: the server must refuse
    expect(results[3]).toBe('blocked')
    // the form post has landed once the iframe left about:blank (for the answer, or an error page)
    await until('the form post to land in the iframe', () => ![undefined, 'about:blank'].includes(page.frame({ name: 'sink' })?.url()), 10_000)
    const list = (await (await fetch(`${coordinator}/loads`)).json()) as { loads: unknown[] }
    expect(list.loads).toEqual([])
    // and the coordinator's own page (same origin) can: the console's case
    const own = await browser.newPage()
    await own.goto(`${coordinator}/healthz`)
    const status = await own.evaluate(async () => (await fetch('/loads', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"trades":1000,"seed":"own"}' })).status)
    expect(status).toBe(202)
  }, 60_000)
})
