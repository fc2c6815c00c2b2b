import { spawn } from 'node:child_process'
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { verifyHint } from '../src/cli/format.js'
import { BIN, runCli } from './harness/cli.js'
import { countInflux } from './harness/servers.js'
import { until } from './harness/until.js'

// Account files are sealed: `run --resume-from` trusts the sink, the shard results and the account
// in them, so an edited file is refused with one line (exit 2) before anything is written. The CLI
// runs as a separate process against the real influxd the harness starts.

const url = inject('influxUrl')
const env = { INFLUX_URL: url }
// paced, so that a SIGINT lands part-way through a small load
const LOAD = ['--trades', '200000', '--seed', 'seal', '--from', '2024-06-01T00:00:00Z', '--to', '2024-06-02T00:00:00Z', '--rate-per-second', '100000']
const count = (db: string) => countInflux(url, db).catch((e: unknown) => (/database not found/.test(String(e)) ? 0 : Promise.reject(e as Error)))

type Shard = { shard: number; status: string; planned: number; written: number; failed: number; acked: [number, number][]; doubt?: unknown; inDoubt?: number }
type File = { sink: { db: string }; shards: Shard[]; account: { pointsWritten: number }; seal?: string }

let cwd: string
/** points the stopped run got acknowledged (the account file says so) */
let written: number

beforeAll(async () => {
  cwd = mkdtempSync(join(tmpdir(), 'ohlcv-seal-'))
  // a real stopped load: interrupted part-way, its account file left behind
  const child = spawn(process.execPath, [BIN, 'run', ...LOAD, '--db', 'seal_src', '--pool-size', '1', '--account-file', 'base.json'], {
    cwd,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    stdio: 'ignore',
  })
  const exited = new Promise<number | null>((r) => child.on('close', r))
  await until('50,000 points in seal_src', async () => (await count('seal_src')) >= 50_000, 60_000)
  child.kill('SIGINT')
  expect(await exited).toBe(130)
  written = read('base.json').account.pointsWritten
  expect(written).toBeGreaterThan(0)
  expect(written).toBeLessThan(200_000)
}, 60_000)

afterAll(() => rmSync(cwd, { recursive: true, force: true }))

function read(name: string): File {
  return JSON.parse(readFileSync(join(cwd, name), 'utf8')) as File
}

/** A copy of the stopped load's account file, edited. */
function edited(name: string, edit: (f: File) => void): string {
  const f = read('base.json')
  edit(f)
  writeFileSync(join(cwd, name), JSON.stringify(f, null, 1))
  return name
}

const resume = (file: string, db: string) => runCli(['run', '--resume-from', file, '--db', db, '--pool-size', '1'], env, 60_000, { cwd })

describe('an account file edited after it was written is refused, with one line', () => {
  it('sink.db edited: before, "load succeeded: 200,000 points written" while that database held only the rest', async () => {
    const file = edited('sink.json', (f) => (f.sink.db = 'seal_other'))
    const r = await resume(file, 'seal_other')
    expect([r.code, r.stdout]).toEqual([2, ''])
    expect(r.stderr).toBe(
      `ohlcv-loadgen: invalid --resume-from: account file ${file} was edited after it was written (its seal does not match): resume trusts its sink, shard results and account, so it could report points as written that the database does not hold; resume from an unedited copy, or run the load again\n`,
    )
    expect(await count('seal_other')).toBe(0)
  }, 30_000)

  it('every shard marked completed: before, success with nothing written', async () => {
    const file = edited('completed.json', (f) => {
      for (const s of f.shards) Object.assign(s, { status: 'completed', written: s.planned, failed: 0, acked: [[0, s.planned]], doubt: undefined, inDoubt: 0 })
    })
    const r = await resume(file, 'seal_src')
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(/^ohlcv-loadgen: invalid --resume-from: account file completed\.json was edited after it was written \(its seal does not match\)/)
    expect(r.stderr.split('\n')).toHaveLength(2)
    expect(await count('seal_src')).toBe(written)
  }, 30_000)

  it('a file without a seal (an older version) is refused when it has shard results', async () => {
    const file = edited('unsealed.json', (f) => delete f.seal)
    const r = await resume(file, 'seal_src')
    expect(r.code).toBe(2)
    expect(r.stderr).toBe(
      `ohlcv-loadgen: invalid --resume-from: account file ${file} has no seal (written by an older ohlcv-loadgen): its shard results cannot be checked, and resume would trust them to skip lines; run the load again\n`,
    )
  }, 30_000)

  it('verify of the stopped load names the missing points, not another format; the unedited file resumes, and verify is then ok', async () => {
    const verify = () => runCli(['verify', ...LOAD, '--db', 'seal_src'], env, 60_000, { cwd })
    const partial = await verify()
    expect(partial.code).toBe(1)
    // before: "(regenerated as dataset format 3: a load written by a version with another format differs throughout)"
    expect(partial.stdout).toMatch(new RegExp(`^verify found [\\d,]+ difference\\(s\\): ${written.toLocaleString('en-US')} points found, 200,000 expected \\(${(200_000 - written).toLocaleString('en-US')} fewer than the dataset has: the load did not finish \\(resume it\\)`))
    expect(partial.stdout).not.toMatch(/format/)
    copyFileSync(join(cwd, 'base.json'), join(cwd, 'copy.json'))
    const r = await resume('copy.json', 'seal_src')
    expect(r.code, r.stderr).toBe(0)
    expect(r.stdout).toMatch(/^load succeeded: 200,000 points written of 200,000 planned/)
    expect(await count('seal_src')).toBe(200_000)
    // the file it rewrote is sealed again: an edit to it is refused as well
    expect(read('copy.json').seal).toMatch(/^sha256:[0-9a-f]{64}$/)
    expect((await verify()).stdout).toMatch(/^verify ok: 200,000 points/)
  }, 60_000)
})

describe('the hint of a verify that found differences follows the counts', () => {
  it.each([
    [{ pointsFound: 1_435_000, pointsExpected: 2_000_000 }, /^565,000 fewer than the dataset has/],
    [{ pointsFound: 4_000_362, pointsExpected: 3_000_000 }, /^1,000,362 more than the dataset has: another load/],
    [{ pointsFound: 10, pointsExpected: 10 }, /another dataset format than 3$/],
  ])('%j', (report, hint) => {
    expect(verifyHint(report, 3)).toMatch(hint)
  })
})
