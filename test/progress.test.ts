import { execFile } from 'node:child_process'
import { describe, expect, it } from 'vitest'
import { BIN, runCli } from './harness/cli.js'

// `run`'s progress on stderr, paced on the null sink: what it prints, not how fast it runs (a busy
// machine makes a paced load late, never early, so the 5.5 s floor holds).

describe('run shows progress', () => {
  const paced = ['run', '--sink', 'null', '--trades', '60000', '--batch-size', '1000', '--rate-per-second', '10000', '--seed', 'progress', '--pool-size', '2']

  it('not on a terminal: a plain line every 5 s on stderr; with --json nothing but the JSON', async () => {
    const [plain, json] = await Promise.all([runCli(paced), runCli([...paced, '--json'])])
    expect(plain.code, plain.stderr).toBe(0)
    expect(plain.stderr).toMatch(/^progress: +\d+\.\d% +[\d,]+\/60,000 points +[\d,]+ points\/s +ETA \d+s +shards \d+\/1\n/m)
    expect(plain.stdout).toMatch(/^load succeeded: 60,000 points written/)
    // paced to 10,000 points/s: about 6 s (the last slot starts at 5.9 s)
    const seconds = Number(/in ([\d.]+) s/.exec(plain.stdout)![1])
    expect(seconds).toBeGreaterThan(5.5)
    expect(json.code).toBe(0)
    expect(json.stderr).toBe('')
    expect(JSON.parse(json.stdout)).toMatchObject({ status: 'succeeded', pointsWritten: 60_000 })
  }, 30_000)

  it('on a terminal: a bar redrawn in place with rate and ETA', async () => {
    // util-linux `script` gives the CLI a pseudo-terminal, as a user's shell would
    const cmd = [process.execPath, BIN, ...paced.map((a) => (a === '60000' ? '30000' : a))].map((a) => `'${a}'`).join(' ')
    const res = await new Promise<string>((resolve, reject) => {
      execFile('script', ['-qfec', cmd, '/dev/null'], { env: { PATH: process.env.PATH ?? '', TERM: 'xterm' }, timeout: 30_000 }, (err, stdout) => (err ? reject(new Error(err.message)) : resolve(stdout)))
    })
    const CLEAR_LINE = '\x1b[2K'
    const frames = res.split('\r').filter((f) => f.startsWith(`${CLEAR_LINE}[`)).map((f) => f.slice(CLEAR_LINE.length))
    expect(frames.length).toBeGreaterThanOrEqual(5)
    expect(frames.at(-1)).toMatch(/^\[[#-]+\] +\d+\.\d% +[\d.]+k\/30\.0k +[\d.]+k?\/s +ETA \d+s +shards \d+\/1/)
    expect(res).toMatch(/load succeeded: 30,000 points written/)
  }, 30_000)
})
