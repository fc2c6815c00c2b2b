import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { runCli } from './harness/cli.js'
import { forward, startFakeInflux, type Script } from './harness/fakeInflux.js'
import { countInflux, countVictoria } from './harness/servers.js'

/**
 * A database behind a reverse proxy that serves it under a path (`https://gw/influx/...`, as an
 * ingress or an API gateway does): every request the tool makes must stay under that path. The
 * proxy is the tests' scriptable server passing requests on to the real influxd and
 * victoria-metrics; a request outside the prefix gets 404 and is remembered, so the test names it.
 */
async function prefixProxy(target: string, prefix: string) {
  const outside: string[] = []
  const pass: Script = (req) => {
    if (!req.url.startsWith(`${prefix}/`)) {
      outside.push(`${req.method} ${req.url}`)
      return { status: 404, body: 'not under the prefix' }
    }
    return forward(req, new URL(req.url.slice(prefix.length), target), { hostHeader: true })
  }
  const server = await startFakeInflux(pass, { record: false })
  return { url: `${server.url}${prefix}`, outside, close: () => server.close() }
}

describe('a database under a URL path (behind a reverse proxy)', () => {
  let v1: Awaited<ReturnType<typeof prefixProxy>>
  let v2: Awaited<ReturnType<typeof prefixProxy>>
  beforeAll(async () => {
    v1 = await prefixProxy(inject('influxUrl'), '/influx')
    v2 = await prefixProxy(inject('victoriaUrl'), '/gw/v2')
  })
  afterAll(async () => {
    await v1.close()
    await v2.close()
  })

  it('1.x: run, candles and verify go to /influx/write, /influx/query and /influx/ping, and the load is exact', async () => {
    const load = ['--symbols', 'AAPL,MSFT', '--trades', '60000', '--seed', 'prefix', '--from', '2024-04-01T00:00:00Z', '--to', '2024-04-02T00:00:00Z']
    const env = { INFLUX_URL: v1.url, INFLUX_DB: 'prefixed', POOL_SIZE: '2' }
    const run = await runCli(['run', ...load, '--json'], env)
    expect(run.code, run.stderr).toBe(0)
    expect(await countInflux(inject('influxUrl'), 'prefixed')).toBe(60_000)
    const verify = await runCli(['verify', ...load], env)
    expect(verify.code, verify.stderr).toBe(0)
    const candles = await runCli(['candles', '--symbol', 'AAPL', '--interval', '1h', '--from', '2024-04-01T00:00:00Z', '--to', '2024-04-02T00:00:00Z', '--json'], env)
    expect(candles.code, candles.stderr).toBe(0)
    expect(v1.outside).toEqual([])
  })

  it('2.x API: the health check, the version check and the writes go under /gw/v2, and the load is exact', async () => {
    const res = await runCli(
      ['run', '--json', '--influx-api', 'v2', '--org', 'acme', '--bucket', 'b', '--measurement', 'vprefix', '--trades', '50000', '--seed', 'v2prefix', '--symbols', 'AAPL'],
      { INFLUX_URL: v2.url, INFLUX_TOKEN: 't', POOL_SIZE: '2' },
    )
    expect(res.code, res.stderr).toBe(0)
    expect(await countVictoria(inject('victoriaUrl'), 'vprefix')).toBe(50_000)
    expect(v2.outside).toEqual([])
  })
})
