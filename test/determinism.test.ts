import { createHash } from 'node:crypto'
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { encodeLoad } from '../workers/encodeLoad.js'
import { DATASET_FORMAT } from '../src/market/dataset.js'
import { planLoad } from '../src/plan/plan.js'
import type { LoadSpec } from '../src/model/request.js'
import { toShardSpec } from '../shared/messages.js'
import { runCli } from './harness/cli.js'
import { runLoad, spec } from './harness/load.js'

const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex')

const REQUEST: { symbols: string[]; from: string; to: string; trades: number; seed: string; distribution: 'poisson' } = {
  symbols: ['AAPL', 'MSFT', 'BRK.B'],
  from: '2024-03-04T00:00:00Z',
  to: '2024-03-05T00:00:00Z',
  trades: 350_000,
  seed: 'determinism',
  distribution: 'poisson',
}

describe('same request + seed = byte-identical line protocol', () => {
  let dir: string
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ohlcv-det-'))
  })
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true })
  })

  it('whatever the pool size and batch size', async () => {
    const runs = [
      { pool: 1, batchSize: 5000 },
      { pool: 2, batchSize: 7 },
      { pool: 8, batchSize: 100_000 },
    ]
    const hashes: string[] = []
    for (const r of runs) {
      const out = join(dir, `p${r.pool}-b${r.batchSize}.lp`)
      const result = await runLoad(spec({ ...REQUEST, batchSize: r.batchSize }), { kind: 'file', out }, r.pool)
      expect(result).toMatchObject({ status: 'succeeded', pointsPlanned: 350_000, pointsWritten: 350_000, pointsFailed: 0, pointsUnsent: 0 })
      hashes.push(sha(await readFile(out)))
    }
    expect(new Set(hashes).size).toBe(1)
    // part files are cleaned up
    expect((await readdir(dir)).filter((f) => f.startsWith('.ohlcv-parts-'))).toEqual([])

    // The CLI streaming to stdout produces the same bytes.
    const cli = await runCli([
      'run', '--sink', 'file', '--out', '-', '--pool-size', '2', '--batch-size', '333',
      '--symbols', REQUEST.symbols.join(','), '--from', REQUEST.from, '--to', REQUEST.to,
      '--trades', String(REQUEST.trades), '--seed', REQUEST.seed, '--distribution', REQUEST.distribution,
    ])
    expect(cli.code).toBe(0)
    expect(sha(cli.stdout)).toBe(hashes[0])
    expect(cli.stderr).toMatch(/load succeeded: 350,000 points written/)
  })

  it('the dataset is well-formed: unique timestamps per symbol, ids 1..N, all inside [from, to)', async () => {
    const text = await readFile(join(dir, 'p1-b5000.lp'), 'utf8')
    const lines = text.split('\n')
    expect(lines.pop()).toBe('')
    expect(lines).toHaveLength(REQUEST.trades)
    const re = /^trades,symbol=([A-Z.]+),exchange=(XNAS|XNYS|ARCX|BATS|IEXG) price=(\d+\.\d\d),size=(\d+)i,side="(buy|sell)",trade_id=(\d+)i (\d{19})$/
    const seen = new Map<string, { ids: number; last: bigint; times: Set<string> }>()
    const from = BigInt(Date.parse(REQUEST.from)) * 1_000_000n
    const to = BigInt(Date.parse(REQUEST.to)) * 1_000_000n
    const bad: string[] = []
    for (const line of lines) {
      const m = re.exec(line)
      if (!m) {
        bad.push(`malformed: ${line}`)
        continue
      }
      const [, symbol = '', , price, size, , id, ts = ''] = m
      const s = seen.get(symbol) ?? { ids: 0, last: -1n, times: new Set<string>() }
      s.ids++
      const t = BigInt(ts)
      if (!(Number(price) > 0) || Number(size) < 1) bad.push(`bad price/size: ${line}`)
      if (Number(id) !== s.ids) bad.push(`trade_id out of sequence: ${line}`)
      if (t < from || t >= to) bad.push(`outside the range: ${line}`)
      if (t <= s.last) bad.push(`time not increasing: ${line}`)
      s.last = t
      s.times.add(ts)
      seen.set(symbol, s)
    }
    expect(bad.slice(0, 5)).toEqual([])
    const plan = planLoad(spec(REQUEST))
    REQUEST.symbols.forEach((sym, j) => {
      expect(seen.get(sym)?.ids).toBe(plan.symbolTotal(j))
      expect(seen.get(sym)?.times.size).toBe(plan.symbolTotal(j))
    })
  })

  it.each([
    { distribution: 'intraday' as const, weights: { AAPL: 5 }, from: '2024-03-01T00:00:00Z', to: '2024-03-12T00:00:00Z' },
    { distribution: 'bursty' as const, market: { tickSize: 0.05, symbols: { MSFT: { price: 420, volatility: 0.2 } } } },
  ])('$distribution: identical for pool sizes 1 and 3', async (extra) => {
    const hashes: string[] = []
    for (const pool of [1, 3]) {
      const out = join(dir, `${extra.distribution}-${pool}.lp`)
      const r = await runLoad(spec({ ...REQUEST, ...extra, trades: 250_000, batchSize: 999 + pool }), { kind: 'file', out }, pool)
      expect(r.pointsWritten).toBe(250_000)
      hashes.push(sha(await readFile(out)))
    }
    expect(hashes[0]).toBe(hashes[1])
  })

  it('another seed gives another dataset', async () => {
    const out = join(dir, 'other.lp')
    await runLoad(spec({ ...REQUEST, seed: 'other' }), { kind: 'file', out }, 2)
    expect(sha(await readFile(out))).not.toBe(sha(await readFile(join(dir, 'p1-b5000.lp'))))
  })
})

describe('the same seed gives the same dataset from one version to the next', () => {
  /** Every line of a load, shard by shard, as the file sink writes it (pool size does not matter: see above). */
  function digest(s: LoadSpec): string {
    const hash = createHash('sha256')
    encodeLoad(toShardSpec(s), (body) => hash.update(body.view()))
    return hash.digest('hex').slice(0, 16)
  }

  // Pinned for dataset format 2 (src/market/dataset.ts; format 1's were 9c3b3d13…, 3b5e0e81…,
  // eefb6480…, 42b35c69…): a dataset loaded by one version verifies against any later one of the
  // same format. A change here is a new dataset format: bump DATASET_FORMAT, say so in docs/design.md,
  // then pin the new digests.
  // Format 3 changed only the shard layout of loads of more than 1,000 symbols: these are format 2's
  // digests, unchanged.
  it('the digests below are dataset format 3 (and 2: at most 1,000 symbols)', () => expect(DATASET_FORMAT).toBe(3))
  it.each([
    ['poisson, tick 0.01', { trades: 500_000 }, 'a199565d6e341f5b'],
    ['intraday, tick 0.0001', { trades: 300_000, market: { tickSize: 0.0001 }, distribution: 'intraday' as const, from: '2024-03-04T00:00:00Z', to: '2024-03-09T00:00:00Z' }, '5a321603ce1ff064'],
    ['bursty, tick 1', { trades: 300_000, market: { tickSize: 1 }, distribution: 'bursty' as const }, '8b78a10da41b9c27'],
    ['weights, tick 0.05', { trades: 200_000, market: { tickSize: 0.05 }, symbols: ['A', 'BRK.B'], weights: { A: 3 } }, '11147487c8159546'],
  ])('%s', (_name, request, expected) => {
    expect(digest(spec({ seed: 'gold', to: '2024-06-01T00:00:00Z', ...request }))).toBe(expected)
  })
})
