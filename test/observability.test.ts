import { execFileSync } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { Writable } from 'node:stream'
import { setTimeout as sleep } from 'node:timers/promises'
import { pino } from 'pino'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { parse as parseYaml } from 'yaml'
import type { LoadView } from '../src/api/schemas.js'
import { serveConfig } from '../src/config.js'
import { readSettings } from '../src/settings.js'
import { sample, startCoordinator, type Coordinator } from './harness/coordinator.js'
import { startPrometheus, type RunningServer } from './harness/servers.js'

const url = inject('influxUrl')

/** Every `name{labels} value` sample of a metric family. */
function samples(text: string, name: string): { labels: string; value: number }[] {
  const out: { labels: string; value: number }[] = []
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][\w:]*)(\{[^}]*\})? (\S+)$/.exec(line)
    if (m && m[1] === name) out.push({ labels: m[2] ?? '', value: Number(m[3]) })
  }
  return out
}

/** Reads a Server-Sent Events stream to its end. */
async function readEvents(res: Response): Promise<{ event: string; data: Record<string, unknown> }[]> {
  const text = await res.text()
  const events: { event: string; data: Record<string, unknown> }[] = []
  for (const block of text.split('\n\n')) {
    const event = /^event: (.+)$/m.exec(block)?.[1]
    const data = /^data: (.+)$/m.exec(block)?.[1]
    if (event && data) events.push({ event, data: JSON.parse(data) as Record<string, unknown> })
  }
  return events
}

describe('metrics, SSE and logs of a real load', () => {
  let co: Coordinator
  const lines: Record<string, unknown>[] = []
  beforeAll(async () => {
    const sink = new Writable({
      write(chunk: Buffer, _enc, cb) {
        for (const l of chunk.toString().split('\n')) if (l) lines.push(JSON.parse(l) as Record<string, unknown>)
        cb()
      },
    })
    co = await startCoordinator({ kind: 'influx-v1', url, db: 'observe', timeoutMs: 10_000 }, 2, undefined, { logger: pino({ level: 'info' }, sink) })
  })
  afterAll(async () => {
    await co.close()
  })

  it('SSE streams progress a few times a second, then the final account; /metrics equals the account', async () => {
    const created = await co.json<{ id: string }>('POST', '/loads', { trades: 1_000_000, seed: 'sse' })
    const t0 = Date.now()
    const events = await readEvents(await fetch(`${co.url}/loads/${created.body.id}/events`))
    const seconds = (Date.now() - t0) / 1000
    const progress = events.filter((e) => e.event === 'progress')
    const done = events.at(-1)!
    expect(done.event).toBe('done')
    expect(events.filter((e) => e.event === 'done')).toHaveLength(1)
    // the timeline: whole first, then each sample as it comes, then whole again before `done`
    expect(events[0]!.event).toBe('timeline')
    expect(events.at(-2)!.event).toBe('timeline')
    const final = events.at(-2)!.data as { samples: { written: number }[] }
    const streamed = events.filter((e) => e.event === 'sample').length
    expect(final.samples.length).toBeGreaterThanOrEqual(streamed)
    expect(final.samples.at(-1)!.written).toBe(1_000_000)
    // a few per second, every field there, monotonic
    expect(progress.length).toBeGreaterThanOrEqual(Math.floor(seconds * 2))
    const written = progress.map((e) => e.data.pointsWritten as number)
    expect([...written].sort((a, b) => a - b)).toEqual(written)
    expect(progress.at(-1)!.data).toMatchObject({ id: created.body.id, status: 'running', pointsPlanned: 1_000_000, shardsTotal: 10, circuit: 'closed' })
    for (const key of ['pointsPerSecond', 'etaSeconds', 'percent', 'pointsInFlight', 'shardsDone']) expect(progress.at(-1)!.data).toHaveProperty(key)

    const view = (await co.json<LoadView>('GET', `/loads/${created.body.id}`)).body
    const result = view.result!
    expect(done.data).toEqual({ id: created.body.id, ...result })
    expect(result).toMatchObject({ status: 'succeeded', pointsWritten: 1_000_000 })
    expect(result.writeLatencyMs.count).toBe(result.batchesWritten)
    expect(result.writeLatencyMs.p50).toBeGreaterThan(0)
    expect(result.writeLatencyMs.p50).toBeLessThanOrEqual(result.writeLatencyMs.p90)
    expect(result.writeLatencyMs.p90).toBeLessThanOrEqual(result.writeLatencyMs.p99)
    expect(result.writeLatencyMs.p99).toBeLessThanOrEqual(result.writeLatencyMs.max)

    const text = await (await fetch(`${co.url}/metrics`)).text()
    expect(sample(text, 'ohlcv_points_written_total')).toBe(result.pointsWritten)
    expect(sample(text, 'ohlcv_points_failed_total')).toBe(0)
    expect(sample(text, 'ohlcv_bytes_written_total')).toBe(result.bytesWritten)
    expect(sample(text, 'ohlcv_batches_written_total')).toBe(result.batchesWritten)
    expect(sample(text, 'ohlcv_write_duration_seconds_count')).toBe(result.batchesWritten)
    expect(sample(text, 'ohlcv_batch_encode_seconds_count')).toBe(result.batchesWritten)
    expect(sample(text, 'ohlcv_points_in_flight')).toBe(0)
    expect(sample(text, 'ohlcv_loads_running')).toBe(0)
    // The two aggregations of the same observations agree: Prometheus buckets and the HDR histogram.
    const le = (labels: string) => /le="([^"]+)"/.exec(labels)![1]!
    const buckets = samples(text, 'ohlcv_write_duration_seconds_bucket').map((b) => ({ le: le(b.labels) === '+Inf' ? Infinity : Number(le(b.labels)), count: b.value }))
    expect(buckets.at(-1)).toEqual({ le: Infinity, count: result.batchesWritten })
    const firstFull = buckets.find((b) => b.count === result.batchesWritten)!
    const lastBelow = [...buckets].reverse().find((b) => b.count < result.batchesWritten)
    expect(result.writeLatencyMs.max / 1000).toBeLessThanOrEqual(firstFull.le * 1.001)
    if (lastBelow) expect(result.writeLatencyMs.max / 1000).toBeGreaterThan(lastBelow.le * 0.999)
    const sum = sample(text, 'ohlcv_write_duration_seconds_sum')
    expect(sum / result.batchesWritten).toBeLessThanOrEqual(result.writeLatencyMs.max / 1000)

    // one log line per load start and finish at info, the account in the finish line; no per-batch lines
    const mine = lines.filter((l) => l.loadId === created.body.id)
    expect(mine.map((l) => l.msg)).toEqual(['load started', 'load succeeded'])
    expect(mine[1]!.result).toMatchObject({ pointsWritten: 1_000_000, pointsPlanned: 1_000_000 })

    // SSE of a finished load: the final event at once; unknown id: 404
    const again = await readEvents(await fetch(`${co.url}/loads/${created.body.id}/events`))
    expect(again.map((e) => e.event)).toEqual(['timeline', 'done'])
    expect(again[1]).toEqual({ event: 'done', data: done.data })
    expect((await fetch(`${co.url}/loads/nope/events`)).status).toBe(404)
  }, 60_000)

  it('metric names follow Prometheus conventions, with HELP and TYPE, and bounded labels', async () => {
    const text = await (await fetch(`${co.url}/metrics`)).text()
    const types = new Map<string, string>()
    for (const m of text.matchAll(/^# TYPE (ohlcv_\w+) (\w+)$/gm)) types.set(m[1]!, m[2]!)
    expect(types.size).toBeGreaterThanOrEqual(18)
    for (const [name, type] of types) {
      expect(text, name).toMatch(new RegExp(`^# HELP ${name} \\S`, 'm'))
      if (type === 'counter') expect(name).toMatch(/_total$/)
      if (type === 'histogram') expect(name).toMatch(/_seconds$/)
      expect(name).not.toMatch(/_ms$|_milliseconds|_kb$|_mb$/)
    }
    const labelNames = new Set([...text.matchAll(/^ohlcv_\w+\{([^}]*)\}/gm)].flatMap((m) => [...m[1]!.matchAll(/(\w+)="/g)].map((l) => l[1]!)))
    expect([...labelNames].sort()).toEqual(['kind', 'le', 'status'].filter((l) => labelNames.has(l)))
  })

  it('a scrape takes milliseconds during a full-speed load; points in flight show up while it runs', async () => {
    const created = await co.json<{ id: string }>('POST', '/loads', { trades: 1_500_000, seed: 'scrape' })
    const times: number[] = []
    let inFlightSeen = 0
    for (let i = 0; i < 20; i++) {
      const t = performance.now()
      const text = await (await fetch(`${co.url}/metrics`)).text()
      times.push(performance.now() - t)
      inFlightSeen = Math.max(inFlightSeen, sample(text, 'ohlcv_points_in_flight'))
      await sleep(100)
    }
    await co.waitDone(created.body.id)
    times.sort((a, b) => a - b)
    console.info(`/metrics during a load: median ${times[10]!.toFixed(1)} ms, max ${times[19]!.toFixed(1)} ms; points in flight seen: ${inFlightSeen}`)
    expect(inFlightSeen).toBeGreaterThan(0)
    // generous bound against a pathological regression (a scrape that waits on the workers), not a benchmark
    expect(times[10]!).toBeLessThan(100)
  }, 60_000)

  it('at debug, one line per batch', async () => {
    const debugLines: Record<string, unknown>[] = []
    const sink = new Writable({
      write(chunk: Buffer, _enc, cb) {
        for (const l of chunk.toString().split('\n')) if (l) debugLines.push(JSON.parse(l) as Record<string, unknown>)
        cb()
      },
    })
    const dbg = await startCoordinator({ kind: 'null' }, 1, undefined, { logger: pino({ level: 'debug' }, sink) })
    try {
      const created = await dbg.json<{ id: string }>('POST', '/loads', { trades: 50_000, batchSize: 1000 })
      await dbg.waitDone(created.body.id)
      expect(debugLines.filter((l) => l.msg === 'batch written')).toHaveLength(50)
    } finally {
      await dbg.close()
    }
  })
})

describe('a real Prometheus scrapes the coordinator', () => {
  let co: Coordinator
  let prom: RunningServer
  beforeAll(async () => {
    co = await startCoordinator({ kind: 'influx-v1', url, db: 'prom', timeoutMs: 10_000 }, 2)
    prom = await startPrometheus(new URL(co.url).host)
  })
  afterAll(async () => {
    await prom.stop()
    await co.close()
  })

  it('the counters Prometheus scraped equal the load account', async () => {
    const created = await co.json<{ id: string }>('POST', '/loads', { trades: 500_000, seed: 'prom' })
    const done = await co.waitDone(created.body.id)
    const query = async (q: string) => {
      const res = (await (await fetch(`${prom.url}/api/v1/query?${new URLSearchParams({ query: q }).toString()}`)).json()) as {
        data: { result: { value: [number, string] }[] }
      }
      return res.data.result[0] ? Number(res.data.result[0].value[1]) : undefined
    }
    let scraped: number | undefined
    for (let i = 0; i < 100 && scraped !== done.result.pointsWritten; i++) {
      await sleep(200)
      scraped = await query('ohlcv_points_written_total{job="ohlcv-loadgen"}')
    }
    expect(scraped).toBe(500_000)
    expect(await query('ohlcv_batches_written_total')).toBe(done.result.batchesWritten)
    expect(await query('ohlcv_bytes_written_total')).toBe(done.result.bytesWritten)
    expect(await query('ohlcv_loads_finished_total{status="succeeded"}')).toBe(1)
    expect(await query('up{job="ohlcv-loadgen"}')).toBe(1)
  }, 60_000)
})

describe('the Docker stack files', () => {
  const compose = parseYaml(readFileSync('docker-compose.yml', 'utf8')) as {
    services: Record<string, { image?: string; build?: string; ports?: string[]; environment?: Record<string, string>; volumes?: string[]; profiles?: string[] }>
  }
  /** ${VAR:-default} as compose would fill it with nothing set. */
  const withDefaults = (env: Record<string, string>) =>
    Object.fromEntries(Object.entries(env).map(([k, v]) => [k, String(v).replace(/\$\{\w+:-([^}]*)\}/g, '$1')]))

  it('compose: InfluxDB, the coordinator, Prometheus and Grafana, published on loopback only', () => {
    expect(Object.keys(compose.services).sort()).toEqual(['coordinator', 'coordinator-v3', 'generator', 'grafana', 'influxdb', 'influxdb3', 'influxdb3-token', 'prometheus'])
    // InfluxDB 3 Core is a profile beside 2.7, with a coordinator of its own that is a valid v3 configuration
    for (const name of ['influxdb3', 'influxdb3-token', 'coordinator-v3']) expect(compose.services[name]!.profiles, name).toEqual(['influxdb3'])
    expect(compose.services.influxdb3!.image).toMatch(/^influxdb:3-core/)
    expect(serveConfig(readSettings({}, { ...withDefaults(compose.services['coordinator-v3']!.environment!), INFLUX_TOKEN: 'from-the-file' })).sink).toMatchObject({ kind: 'influx-v3', url: 'http://influxdb3:8181', db: 'trades' })
    for (const [name, s] of Object.entries(compose.services)) for (const p of s.ports ?? []) expect(p, name).toMatch(/^127\.0\.0\.1:/)
    expect(compose.services.influxdb!.image).toMatch(/^influxdb:2\.7/)
    // the coordinator's environment is a valid configuration for `serve` (0.0.0.0 needs API_TOKEN)
    expect(() => serveConfig(readSettings({}, withDefaults(compose.services.coordinator!.environment!)))).not.toThrow()
    // every file or folder the stack mounts from the repository is there
    for (const v of [...compose.services.prometheus!.volumes!, ...compose.services.grafana!.volumes!]) {
      const src = v.split(':')[0]!
      if (src.startsWith('./')) expect(existsSync(src), v).toBe(true)
    }
  })

  it('the Prometheus config passes promtool and scrapes the coordinator service', () => {
    const out = execFileSync('promtool', ['check', 'config', 'deploy/prometheus/prometheus.yml'], { encoding: 'utf8' })
    expect(out).toMatch(/SUCCESS/)
    const cfg = parseYaml(readFileSync('deploy/prometheus/prometheus.yml', 'utf8')) as { scrape_configs: { static_configs: { targets: string[] }[] }[] }
    expect(cfg.scrape_configs[0]!.static_configs[0]!.targets).toEqual(['coordinator:3000'])
  })

  it('Grafana: both data sources, and every metric the dashboard uses exists in /metrics', async () => {
    const ds = parseYaml(readFileSync('deploy/grafana/provisioning/datasources/datasources.yml', 'utf8')) as { datasources: { uid: string; type: string; url: string }[] }
    expect(ds.datasources.map((d) => [d.uid, d.type, d.url])).toEqual([
      ['prometheus', 'prometheus', 'http://prometheus:9090'],
      ['influxdb', 'influxdb', 'http://influxdb:8086'],
    ])
    const dash = JSON.parse(readFileSync('deploy/grafana/dashboards/ohlcv-loadgen.json', 'utf8')) as {
      panels: { type: string; title: string; datasource: { uid: string }; targets: { expr?: string; query?: string }[] }[]
    }
    expect(dash.panels.map((p) => p.type)).toContain('candlestick')
    const candles = dash.panels.find((p) => p.type === 'candlestick')!
    expect(candles.datasource.uid).toBe('influxdb')
    expect(candles.targets[0]!.query).toMatch(/from\(bucket: "trades"\)[\s\S]*pivot/)
    for (const p of dash.panels) expect(ds.datasources.map((d) => d.uid)).toContain(p.datasource.uid)

    // a coordinator that has run a load exposes every family the dashboard queries
    const co = await startCoordinator({ kind: 'null' }, 1)
    try {
      const created = await co.json<{ id: string }>('POST', '/loads', { trades: 10_000 })
      await co.waitDone(created.body.id)
      const text = await (await fetch(`${co.url}/metrics`)).text()
      const exposed = new Set([...text.matchAll(/^# TYPE (\w+) /gm)].map((m) => m[1]!))
      const used = new Set(dash.panels.flatMap((p) => p.targets.flatMap((t) => [...(t.expr ?? '').matchAll(/\b((?:ohlcv|process|nodejs)_\w+)/g)].map((m) => m[1]!))))
      expect(used.size).toBeGreaterThanOrEqual(12)
      for (const name of used) expect(exposed.has(name.replace(/_(bucket|sum|count)$/, '')) || exposed.has(name), name).toBe(true)
    } finally {
      await co.close()
    }
  })
})
