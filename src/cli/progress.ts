import type { LoadRun } from '../load/run.js'
import { compact, num } from './format.js'

type ProgressMode = 'bar' | 'lines' | 'none'

/** How often the bar redraws, and how often a plain line is printed when stderr is not a terminal. */
const BAR_MS = 200
const LINE_MS = 5000

function eta(seconds: number | null): string {
  if (seconds === null) return '--'
  if (seconds < 60) return `${seconds}s`
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m${String(seconds % 60).padStart(2, '0')}s`
  return `${Math.floor(seconds / 3600)}h${String(Math.floor((seconds % 3600) / 60)).padStart(2, '0')}m`
}

/**
 * One status line: percent, points, rate, ETA, shards, retries and the circuit when not closed.
 * With a width (a terminal) numbers are compact and a bar fills what is left.
 */
function progressLine(load: LoadRun, width: number | undefined): string {
  const a = load.account()
  const { pointsPerSecond, etaSeconds } = load.rate()
  const share = a.pointsPlanned > 0 ? a.pointsWritten / a.pointsPlanned : 1
  const circuit = load.circuit().state
  const amount = width === undefined ? num : compact
  const [points, rate] = width === undefined ? [' points', ' points/s'] : ['', '/s']
  const text =
    `${(share * 100).toFixed(1).padStart(5)}%  ${amount(a.pointsWritten)}/${amount(a.pointsPlanned)}${points}  ${amount(pointsPerSecond)}${rate}  ` +
    `ETA ${eta(etaSeconds)}  shards ${a.shardsDone}/${a.shardsTotal}` +
    (a.retries > 0 ? `  retries ${amount(a.retries)}` : '') +
    (circuit !== 'closed' ? `  circuit ${circuit}` : '')
  if (width === undefined) return text
  const barWidth = Math.max(5, Math.min(40, width - text.length - 4))
  const filled = Math.round(share * barWidth)
  return `[${'#'.repeat(filled)}${'-'.repeat(barWidth - filled)}] ${text}`.slice(0, width - 1)
}

/**
 * Shows a running load on stderr: a bar redrawn in place on a terminal, a plain line every few
 * seconds otherwise (logs, CI), nothing with `--json` or PROGRESS=none.
 */
export function showProgress(load: LoadRun, out: NodeJS.WriteStream | NodeJS.WritableStream, mode: ProgressMode): () => void {
  if (mode === 'none') return () => {}
  const tty = mode === 'bar' && 'isTTY' in out && out.isTTY ? out : undefined
  // A pty may report 0 columns (e.g. under `script`): assume 100 then.
  const width = () => (tty ? tty.columns || 100 : undefined)
  let lastLine = performance.now()
  const timer = setInterval(() => {
    if (load.status !== 'running') return
    if (tty) {
      out.write(`\r\x1b[2K${progressLine(load, width())}`)
    } else if (performance.now() - lastLine >= LINE_MS) {
      lastLine = performance.now()
      out.write(`progress: ${progressLine(load, undefined)}\n`)
    }
  }, BAR_MS)
  timer.unref()
  return () => {
    clearInterval(timer)
    if (tty) out.write('\r\x1b[2K')
  }
}
