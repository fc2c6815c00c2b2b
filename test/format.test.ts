import { describe, expect, it } from 'vitest'
import type { CapacityOptions, CapacityReport, CapacityStep } from '../src/capacity/run.js'
import type { CapacityVerifyReport } from '../src/capacity/verify.js'
import type { VerifyReport } from '../src/candles/verify.js'
import type { LoadResult } from '../src/model/account.js'
import {
  attemptLine,
  CAPACITY_HEADER,
  capacityRow,
  capacityVerdict,
  compact,
  degradedLine,
  num,
  paceLine,
  retriesLine,
  runSummary,
  seconds,
  verifyCapacityText,
  verifyHint,
  verifyText,
  whole,
  type RunFacts,
} from '../src/cli/format.js'

const attempt = { startedAt: '2024-01-01T00:00:00.000Z', durationMs: 2000, pointsWritten: 1_000_000, retries: 0, circuitOpens: 0, degradedMs: 0 }

function result(extra: Partial<LoadResult> = {}): LoadResult {
  return {
    status: 'succeeded',
    pointsPlanned: 1_000_000,
    pointsWritten: 1_000_000,
    pointsFailed: 0,
    pointsInDoubt: 0,
    pointsUnsent: 0,
    bytesWritten: 70_000_000,
    batchesWritten: 200,
    retries: 0,
    batchesSplit: 0,
    shardsDone: 4,
    shardsTotal: 4,
    durationMs: 2000,
    pointsPerSecond: 500_000,
    attempts: [attempt],
    writeLatencyMs: { count: 200, p50: 1, p90: 2, p99: 3, max: 4 },
    writeConcurrency: { max: 8, lowest: 8, degradedMs: 0 },
    ...extra,
  }
}

const facts: RunFacts = {
  seed: 'abc',
  from: '2024-01-01T00:00:00.000Z',
  to: '2024-01-02T00:00:00.000Z',
  batchSize: 5000,
  shardCount: 4,
  poolSize: 2,
  sink: { kind: 'influx-v1', url: 'http://127.0.0.1:8086', db: 'ohlcv' },
  accountNote: '',
  reportNote: '',
}

describe('numbers', () => {
  it('groups counts the same on every machine, rounds rates, shortens for the bar', () => {
    expect(num(1234567)).toBe('1,234,567')
    expect(num(0)).toBe('0')
    expect(num(1234.5678)).toBe('1,234.568')
    expect(whole(12345.678)).toBe('12,346')
    expect(compact(999)).toBe('999')
    expect(compact(5_370_000)).toBe('5.37M')
    expect(compact(1500)).toBe('1.50k')
    expect(compact(2e9)).toBe('2.00B')
    expect(seconds(1234)).toBe('1.23')
    expect(seconds(1250, 1)).toBe('1.3')
  })
})

describe('run summary', () => {
  it('a load that succeeded: two lines', () => {
    expect(runSummary(result(), facts)).toBe(
      'load succeeded: 1,000,000 points written of 1,000,000 planned (0 failed, 0 unsent) in 2.00 s, 500,000 points/s\n' +
        'seed "abc", 2024-01-01T00:00:00.000Z .. 2024-01-02T00:00:00.000Z, 4 shards, pool 2, batch 5000, sink influx-v1 http://127.0.0.1:8086 ohlcv\n',
    )
  })

  it('one shard, a partition, points in doubt, an error and the notes, each where it belongs', () => {
    const r = result({ status: 'failed', pointsWritten: 400, pointsFailed: 100, pointsInDoubt: 1500, pointsUnsent: 998_000, shardsTotal: 1, error: { code: 'OHLCV_WRITE_FAILED', message: 'down' } })
    const text = runSummary(r, { ...facts, seed: 42, shardCount: 1, partition: '1/3', accountNote: 'note A\n', reportNote: 'note R\n', resumeFrom: 'x.account.json' })
    expect(text).toBe(
      'load failed: 400 points written of 1,000,000 planned (100 failed, 1,500 in doubt, 998,000 unsent) in 2.00 s, 500,000 points/s\n' +
        'seed 42, 2024-01-01T00:00:00.000Z .. 2024-01-02T00:00:00.000Z, 1 shard (partition 1/3: 1 of them), pool 2, batch 5000, sink influx-v1 http://127.0.0.1:8086 ohlcv\n' +
        'error: down\n' +
        'note A\n' +
        'note R\n' +
        'account in x.account.json; resume with: ohlcv-loadgen run --resume-from x.account.json\n',
    )
  })

  it('a resumed load: its attempts, this attempt, and retries in all and in this attempt', () => {
    const r = result({ retries: 1234, batchesSplit: 2, attempts: [{ ...attempt, retries: 1000, circuitOpens: 1 }, { ...attempt, durationMs: 4000, pointsWritten: 10_000, retries: 234, circuitOpens: 2 }] })
    expect(attemptLine(r)).toBe('this attempt (2 of 2): 10,000 points written in 4.00 s, 2,500 points/s\n')
    expect(retriesLine(r)).toBe('in all 2 attempts: 1,234 retries, 2 batches split (413), circuit opened 3 time(s); this attempt: 234 retries, circuit opened 2 time(s)\n')
    expect(runSummary(r, facts).split('\n')[0]).toMatch(/ over 2 attempts$/)
    expect(runSummary(r, facts).split('\n')).toHaveLength(5)
    expect(retriesLine(result({ retries: 5 }))).toBe('5 retries, 0 batches split (413), circuit opened 0 time(s)\n')
    expect(attemptLine(result())).toBe('')
  })

  it('degraded and paced loads', () => {
    expect(degradedLine(result())).toBe('')
    expect(degradedLine(result({ writeConcurrency: { max: 8, lowest: 2, degradedMs: 1250 } }))).toBe('ran degraded for 1.3 s: the server signalled overload, writes in flight went down to 2 of 8\n')
    expect(paceLine(result())).toBe('')
    const paced = (achieved: number) => result({ attempts: [{ ...attempt, pace: { targetPointsPerSecond: 10_000, achievedPointsPerSecond: achieved, lagGrowthMs: 1500 } }] })
    expect(paceLine(paced(9950))).toBe('paced at 10,000 points/s: kept it, 9,950 points/s taken (99.5 %), writes 1.50 s later at the end than at the start\n')
    expect(paceLine(paced(5000))).toContain(': fell behind, 5,000 points/s taken (50.0 %)')
  })
})

describe('verify', () => {
  const report = (extra: Partial<VerifyReport> = {}): VerifyReport => ({
    ok: true,
    measurement: 'trades',
    from: facts.from,
    to: facts.to,
    interval: '1m',
    symbols: 2,
    pointsExpected: 1_000_000,
    pointsFound: 1_000_000,
    candlesCompared: 2880,
    differencesTotal: 0,
    differences: [],
    ...extra,
  })

  it('ok in one line, with the partition when there is one', () => {
    expect(verifyText(report(), '1m', 3)).toBe('verify ok: 1,000,000 points in 2 symbols, 2,880 candles (1m) identical to the regenerated dataset\n')
    expect(verifyText(report(), '5m', 3, '2/4')).toBe('verify ok (partition 2/4): 1,000,000 points in 2 symbols, 2,880 candles (5m) identical to the regenerated dataset\n')
  })

  it('differences: the counts, the likely cause, each difference, and a cut-short list says so', () => {
    const differences = [
      { symbol: 'AAPL', time: '2024-01-01T00:00:00Z', field: 'close', expected: '1.00', found: '2.00' },
      { symbol: 'MSFT', field: 'count', expected: '10', found: '9' },
    ] as VerifyReport['differences']
    expect(verifyText(report({ ok: false, pointsFound: 999_999, differencesTotal: 1500, differences }), '1m', 3)).toBe(
      'verify found 1,500 difference(s): 999,999 points found, 1,000,000 expected (1 fewer than the dataset has: the load did not finish (resume it), or part of it went to another database or measurement)\n' +
        '  AAPL 2024-01-01T00:00:00Z close: expected 1.00, found 2.00\n' +
        '  MSFT count: expected 10, found 9\n' +
        '  (the first 2 of 1,500 differences listed)\n',
    )
  })

  it('names the cause the counts point to and no other', () => {
    expect(verifyHint({ pointsFound: 12, pointsExpected: 10 }, 3)).toBe('2 more than the dataset has: another load or dataset probably wrote into this range and measurement')
    expect(verifyHint({ pointsFound: 10, pointsExpected: 10 }, 3)).toMatch(/another dataset format than 3$/)
  })

  it('a capacity search: ok in one line, else each slice that differs with its first five differences', () => {
    const ok = report()
    const bad = report({ ok: false, pointsFound: 10, differencesTotal: 7, differences: Array.from({ length: 7 }, (_, i) => ({ symbol: 'AAPL', time: `t${i}`, field: 'close' as const, expected: '1', found: '2' })) })
    const slice = (kind: 'warmup' | 'step', r: VerifyReport) => ({ kind, from: 'A', to: 'B', trades: 1000, report: r })
    const search = (slices: CapacityVerifyReport['slices']): CapacityVerifyReport => ({ ok: slices.every((s) => s.report.ok), seed: 's', pointsExpected: 2000, pointsFound: 1010, differencesTotal: 7, slices })
    expect(verifyCapacityText({ ...search([slice('warmup', ok), slice('step', ok)]), pointsFound: 2000 })).toBe(
      'verify ok: capacity search, 2 slices (1 steps, 1 warm-ups), 2,000 points identical to the regenerated dataset (seed "s")\n',
    )
    expect(verifyCapacityText(search([slice('warmup', ok), slice('step', ok), slice('warmup', bad)]))).toBe(
      'verify found 7 difference(s) in 1 of 3 slices (1 steps, 2 warm-ups): 1,010 points found, 2,000 expected\n' +
        '  warm-up before step 2 (A .. B, 1,000 trades): 10 points found\n' +
        [0, 1, 2, 3, 4].map((i) => `    AAPL t${i} close: expected 1, found 2\n`).join('') +
        '    ... and 2 more\n',
    )
  })
})

describe('capacity', () => {
  const step = (extra: Partial<CapacityStep> = {}): CapacityStep =>
    ({
      targetPointsPerSecond: 200_000,
      achievedPointsPerSecond: 199_876.4,
      p50Ms: 3,
      p90Ms: 12,
      p99Ms: 40,
      errors: 0,
      attempts: 100,
      clientCpu: 0.456,
      hostCpu: 0.9,
      passed: true,
      reasons: [],
      phase: 'exponential',
      errorRate: 0,
      request: { from: 'A', to: 'B', trades: 1000, ratePerSecond: 200_000 },
      ...extra,
    }) as CapacityStep

  it('one row a step, under the header, in its columns', () => {
    expect(CAPACITY_HEADER).toBe('step  phase        target/s   achieved/s   p50 ms   p90 ms   p99 ms  errors  client CPU  host CPU  verdict\n')
    expect(capacityRow(1, step())).toBe('   1  exponential    200,000      199,876        3       12       40       0        46 %      90 %  pass\n')
    expect(capacityRow(12, step({ phase: 'binary', passed: false, reasons: ['p99 900 ms > 200 ms', 'rate'] }))).toMatch(/^ {2}12 {2}binary {6}.* {2}FAIL: p99 900 ms > 200 ms; rate\n$/)
  })

  it('the verdict: the rate found, or why none, then the seed and the files', () => {
    const o = { startRate: 10_000, maxRate: 1_000_000, slo: { p99Ms: 200, maxErrorRate: 0.01 } } as CapacityOptions
    const report = (extra: Partial<CapacityReport>) => ({ sustainablePointsPerSecond: 123_456.7, confirmed: true, ended: 'converged', seed: 'x', ...extra }) as CapacityReport
    expect(capacityVerdict(report({}), o, 'data in d.json', 'chart in c.svg')).toBe('sustainable: 123,457 points/s within p99 200 ms and error rate 1.00 % (held twice)\nseed "x"\ndata in d.json\nchart in c.svg\n')
    expect(capacityVerdict(report({ confirmed: false, ended: 'max-rate' }), o, 'd', 'c').split('\n')[0]).toBe(
      'sustainable: 123,457 points/s within p99 200 ms and error rate 1.00 % (not confirmed: the search ended before it could hold it again); --max-rate 1,000,000 reached',
    )
    expect(capacityVerdict(report({ ended: 'deadline' }), o, 'd', 'c').split('\n')[0]).toMatch(/\(held twice\); the deadline ended the search$/)
    expect(capacityVerdict(report({ sustainablePointsPerSecond: undefined, seed: 7 }), o, 'd', 'c')).toBe('no sustainable rate: the start rate 10,000 points/s failed its objectives (lower --start-rate)\nseed 7\nd\nc\n')
  })
})
