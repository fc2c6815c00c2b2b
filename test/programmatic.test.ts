import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, inject, it } from 'vitest'
// the package's own name: resolved through package.json "exports", as a program that installed it would
import { LoadgenError, runLoad } from 'ohlcv-loadgen'
import { runCli } from './harness/cli.js'
import { countInflux } from './harness/servers.js'
import { expectAccountBalances } from './harness/account.js'

describe('import { runLoad } from "ohlcv-loadgen"', () => {
  it('resolves to what run --json prints', async () => {
    const request = { trades: 100_000, seed: 'api', from: '2024-02-01T00:00:00Z', to: '2024-02-02T00:00:00Z' }
    const report = await runLoad(request, { sink: 'null', poolSize: 1 })
    expect(report).toMatchObject({ status: 'succeeded', pointsPlanned: 100_000, pointsWritten: 100_000, pointsUnsent: 0, datasetFormat: 3, seed: 'api', poolSize: 1, sink: { kind: 'null' } })
    const cli = await runCli(['run', '--json', '--sink', 'null', '--pool-size', '1', '--trades', '100000', '--seed', 'api', '--from', request.from, '--to', request.to])
    expect(Object.keys(report).sort()).toEqual(Object.keys(JSON.parse(cli.stdout) as object).sort())
  })

  it('writes into InfluxDB with the CLI\'s settings in camelCase', async () => {
    const url = inject('influxUrl')
    const report = await runLoad({ trades: 50_000, seed: 'api-influx', symbols: ['AAPL', 'MSFT'] }, { influxUrl: url, db: 'programmatic', poolSize: 2, maxInFlight: 2 })
    expect(report).toMatchObject({ status: 'succeeded', pointsWritten: 50_000 })
    expect(await countInflux(url, 'programmatic')).toBe(50_000)
  })

  it('an AbortSignal cancels the load, with an exact account', async () => {
    const controller = new AbortController()
    const accountFile = join(mkdtempSync(join(tmpdir(), 'ohlcv-api-')), 'abort.account.json')
    const running = runLoad({ trades: 2_000_000_000, seed: 'api-abort' }, { sink: 'null', poolSize: 1, signal: controller.signal, accountFile })
    setTimeout(() => controller.abort(), 1500)
    const report = await running
    expect(report.status).toBe('cancelled')
    expect(report.pointsWritten).toBeGreaterThan(0)
    expectAccountBalances(report)
    expect(report.accountFile).toBe(accountFile) // resumable from it
    const resumed = await runLoad({}, { sink: 'null', poolSize: 1, resumeFrom: accountFile, signal: AbortSignal.timeout(1000) })
    expect(resumed.attempts).toHaveLength(2)
  }, 30_000)

  it('bad input rejects with a typed error naming what is wrong, before anything starts', async () => {
    await expect(runLoad({ trades: 0 }, { sink: 'null' })).rejects.toMatchObject({ code: 'OHLCV_INVALID_REQUEST', message: 'trades: must be >= 1' })
    await expect(runLoad({}, { sink: 'null', poolSize: 0 })).rejects.toMatchObject({ code: 'OHLCV_INVALID_CONFIG', message: '--pool-size / POOL_SIZE: must be an integer from 1 to 256 (got "0")' })
    const err = await runLoad({}, { sinc: 'null' } as never).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(LoadgenError)
    expect((err as LoadgenError).message).toMatch(/^sinc: is not a setting/)
  })
})
