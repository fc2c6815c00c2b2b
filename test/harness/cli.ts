import { spawn } from 'node:child_process'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'

export const BIN = fileURLToPath(new URL('../../bin/ohlcv-loadgen.js', import.meta.url))

export interface CliResult {
  code: number | null
  stdout: string
  stderr: string
}

/**
 * Runs the real CLI as a separate process (built output), like a user would, in a scratch working
 * directory of its own (a failed load leaves its account file there).
 */
export function runCli(
  args: string[],
  env: Record<string, string> = {},
  timeoutMs = 120_000,
  opts: { cwd?: string; nodeArgs?: string[] } = {},
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...(opts.nodeArgs ?? []), BIN, ...args], {
      cwd: opts.cwd ?? mkdtempSync(join(tmpdir(), 'ohlcv-cli-')),
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()))
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()))
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`CLI timed out: ${args.join(' ')}\n${stderr}`))
    }, timeoutMs)
    child.on('error', reject)
    child.on('close', (code) => {
      clearTimeout(timer)
      resolve({ code, stdout, stderr })
    })
  })
}

/** Starts `serve` as a real process; resolves with its URL once it listens. */
export function startServe(env: Record<string, string>, args: string[] = [], opts: { ulimit?: number } = {}) {
  // with `ulimit`: under a shell that lowers the open-files limit first (what a small container has)
  const [cmd, argv] = opts.ulimit === undefined
    ? [process.execPath, [BIN, 'serve', ...args]]
    : ['/bin/sh', ['-c', `ulimit -n ${opts.ulimit} && exec "$0" "$@"`, process.execPath, BIN, 'serve', ...args]]
  const child = spawn(cmd, argv, {
    // a store in memory unless the test gives one: serves started side by side never share a STATE_DIR
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', PORT: '0', STATE_DIR: ':memory:', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  child.stdout.on('data', (c: Buffer) => (output += c.toString()))
  child.stderr.on('data', (c: Buffer) => (output += c.toString()))
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)))
  const listening = (async () => {
    for (let i = 0; i < 300; i++) {
      const m = /listening on (http:\/\/[\d.:]+)/.exec(output)
      if (m) return m[1]!
      await sleep(50)
    }
    throw new Error(`serve did not start: ${output}`)
  })()
  listening.catch(() => {}) // a test that expects a refusal awaits `exited` instead
  return { child, exited, listening, output: () => output }
}
