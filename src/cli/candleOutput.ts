import { once } from 'node:events'
import { toCandle, type ExactCandle } from '../candles/candle.js'
import type { Candle } from '../model/candle.js'

/** Candles window after window in time order, as many times as asked (the table reads them twice). */
type CandleSource = () => AsyncIterable<ExactCandle[]>

/** Writes text, waiting while the stream's buffer is full: a year of candles is never all in memory. */
async function write(out: NodeJS.WritableStream, text: string): Promise<void> {
  if (!out.write(text)) await once(out, 'drain')
}

/**
 * `candles --json`: the same bytes as JSON.stringify(all candles), written window by window.
 * Returns how many candles it wrote (0: nothing was written).
 */
export async function writeCandlesJson(source: CandleSource, decimals: number, out: NodeJS.WritableStream): Promise<number> {
  let count = 0
  for await (const w of source()) {
    if (w.length === 0) continue
    const items = w.map((c) => JSON.stringify(toCandle(c, decimals))).join(',')
    await write(out, `${count === 0 ? '[' : ','}${items}`)
    count += w.length
  }
  if (count > 0) await write(out, ']\n')
  return count
}

const COLUMNS = ['time', 'open', 'high', 'low', 'close', 'volume', 'trades']
const cells = (r: Candle) => [r.time, r.open.toFixed(2), r.high.toFixed(2), r.low.toFixed(2), r.close.toFixed(2), String(r.volume), String(r.trades)]

/**
 * `candles` as a table with a volume bar (the shape of the day at a glance). Column widths and the
 * bar's scale need every candle: a range of one window is read once and kept; a longer one is read
 * twice, first for the widths and the largest volume, then to print, so memory stays one window.
 */
export async function writeCandlesTable(source: CandleSource, decimals: number, out: NodeJS.WritableStream): Promise<number> {
  const widths = COLUMNS.map((c) => c.length)
  let maxVolume = 0
  let count = 0
  let windows = 0
  let only: Candle[] = []
  for await (const w of source()) {
    windows++
    const rows = w.map((c) => toCandle(c, decimals))
    for (const r of rows) {
      cells(r).forEach((cell, k) => (widths[k] = Math.max(widths[k]!, cell.length)))
      maxVolume = Math.max(maxVolume, r.volume)
    }
    count += rows.length
    only = windows === 1 ? rows : []
  }
  if (count === 0) return 0
  const line = (row: string[], bar: string) => `${row.map((cell, k) => (k === 0 ? cell.padEnd(widths[k]!) : cell.padStart(widths[k]!))).join('  ')}  ${bar}\n`
  const print = (rows: Candle[]) => rows.map((r) => line(cells(r), '#'.repeat(Math.round((r.volume / maxVolume) * 40)))).join('')
  await write(out, line(COLUMNS, 'volume profile'))
  if (windows === 1) await write(out, print(only))
  else for await (const w of source()) await write(out, print(w.map((c) => toCandle(c, decimals))))
  return count
}
