import { describe, expect, inject, it } from 'vitest'
import { gzipLevel } from '../src/config.js'
import { runCli } from './harness/cli.js'
import { startFakeInfluxdb3 } from './harness/influxdb3.js'
import { countInflux, countVictoria } from './harness/servers.js'
import type { RunReport } from '../src/app/runLoad.js'

// Compressed writes (--gzip / INFLUX_GZIP) into the real influxd 1.x and victoria-metrics (v2
// API), and into the fake InfluxDB 3 (test/harness/influxdb3.ts: a fake, see its header), which
// shows what went over the wire.

const LOAD = ['--symbols', 'AAPL,MSFT', '--trades', '200000', '--from', '2024-03-04T00:00:00Z', '--to', '2024-03-06T00:00:00Z']

describe('gzip', () => {
  it('auto is off on loopback and on elsewhere; levels and words are read, anything else is refused', () => {
    expect(gzipLevel({}, 'http://127.0.0.1:8086')).toBe(0)
    expect(gzipLevel({}, 'http://localhost:8086')).toBe(0)
    expect(gzipLevel({}, 'http://[::1]:8086')).toBe(0)
    expect(gzipLevel({}, 'http://influx.example.com:8086')).toBe(1)
    expect(gzipLevel({ gzip: 'on' }, 'http://127.0.0.1')).toBe(1)
    expect(gzipLevel({ gzip: '6' }, 'http://127.0.0.1')).toBe(6)
    expect(gzipLevel({ gzip: 'off' }, 'http://10.0.0.1')).toBe(0)
    expect(() => gzipLevel({ gzip: '11' }, 'http://127.0.0.1')).toThrow(/INFLUX_GZIP: must be auto, on, off or a level 1-9/)
  })

  it('into a real influxd 1.x: --gzip alone, the load exact and verify ok', async () => {
    const env = { INFLUX_URL: inject('influxUrl'), INFLUX_DB: 'gzip_v1', POOL_SIZE: '2' }
    const res = await runCli(['run', ...LOAD, '--seed', 'gz1', '--gzip', '--json'], env)
    expect(res.code, res.stderr).toBe(0)
    expect((JSON.parse(res.stdout) as RunReport).pointsWritten).toBe(200_000)
    expect(await countInflux(inject('influxUrl'), 'gzip_v1')).toBe(200_000)
    expect((await runCli(['verify', ...LOAD, '--seed', 'gz1'], env)).stdout).toMatch(/^verify ok: 200,000 points/)
  }, 60_000)

  it('into victoria-metrics through the v2 API: exact', async () => {
    const res = await runCli(['run', ...LOAD, '--seed', 'gz2', '--measurement', 'gzip_v2', '--gzip', '6', '--json'], {
      INFLUX_URL: inject('victoriaUrl'),
      INFLUX_API: 'v2',
      INFLUX_ORG: 'o',
      INFLUX_BUCKET: 'b',
      POOL_SIZE: '2',
    })
    expect(res.code, res.stderr).toBe(0)
    expect((JSON.parse(res.stdout) as RunReport).pointsWritten).toBe(200_000)
    expect(await countVictoria(inject('victoriaUrl'), 'gzip_v2')).toBe(200_000)
  }, 60_000)

  it('over the wire (InfluxDB 3 fake): gzip bodies several times smaller, the same lines; none on loopback by default; a 413 still splits exactly', async () => {
    const plain = await startFakeInfluxdb3()
    const packed = await startFakeInfluxdb3({ maxBodyBytes: 40_000 })
    try {
      const env = (url: string) => ({ INFLUX_URL: url, INFLUX_API: 'v3', INFLUX_DB: 'gz', POOL_SIZE: '2' })
      expect((await runCli(['run', ...LOAD, '--seed', 'gz3'], env(plain.url))).code).toBe(0)
      const res = await runCli(['run', ...LOAD, '--seed', 'gz3', '--gzip', '1', '--json'], env(packed.url))
      expect(res.code, res.stderr).toBe(0)
      const r = JSON.parse(res.stdout) as RunReport
      expect(r.pointsWritten).toBe(200_000)
      // the limit is on the compressed body: some batches still split, each half compressed on its own
      expect(r.batchesSplit).toBeGreaterThan(0)
      expect(packed.count('gz')).toBe(200_000)
      const writes = (f: typeof plain) => f.requests.filter((q) => q.path === '/api/v3/write_lp')
      expect(writes(plain).every((q) => q.headers['content-encoding'] === undefined)).toBe(true)
      expect(writes(packed).every((q) => q.headers['content-encoding'] === 'gzip')).toBe(true)
      const sorted = (f: typeof plain) => Buffer.concat(f.bodies).toString('latin1').split('\n').filter((l) => l !== '').sort()
      expect(sorted(packed)).toEqual(sorted(plain))
      const sum = (xs: number[]) => xs.reduce((t, x) => t + x, 0)
      const ratio = sum(plain.wireBytes) / sum(packed.wireBytes)
      console.log(`gzip level 1: ${sum(plain.wireBytes).toLocaleString('en-US')} bytes plain, ${sum(packed.wireBytes).toLocaleString('en-US')} on the wire (ratio ${ratio.toFixed(1)}, bodies the server took)`)
      expect(ratio).toBeGreaterThan(3)
    } finally {
      await plain.stop()
      await packed.stop()
    }
  }, 60_000)
})
