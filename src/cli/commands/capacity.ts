import type { Logger } from 'pino'
import { capacityChart } from '../../capacity/chart.js'
import { capacityOptions } from '../../capacity/options.js'
import type { RawSettings } from '../../settings.js'
import { searchCapacity } from '../../app/capacity.js'
import { UsageError } from '../../errors.js'
import { describeSink } from '../../sink/target.js'
import type { ParsedArgs } from '../args.js'
import { EXIT_LOAD_FAILED, EXIT_OK, type Io } from '../exit.js'
import { CAPACITY_HEADER, capacityRow, capacityVerdict } from '../format.js'
import { writeOutput } from '../outputFile.js'
import { onSignals } from '../signals.js'

/**
 * `ohlcv-loadgen capacity`: the highest rate the database takes within the objectives. Prints a
 * table of steps and the sustainable rate (or `--json`), writes the SVG chart, exits 0 when a rate
 * was found, 1 when even the start rate failed (2 for bad options, before anything runs).
 */
export async function capacityCommand(args: ParsedArgs, request: Record<string, unknown>, settings: RawSettings, io: Pick<Io, 'stdout' | 'stderr'>, log: Logger): Promise<number> {
  const o = capacityOptions(args.capacity)
  if (request.ratePerSecond !== undefined) throw new UsageError('capacity sets the rate of each step itself: drop --rate-per-second')
  if (request.trades !== undefined) throw new UsageError('capacity sets the trades of each step (rate x --step-seconds): drop --trades')
  const stop = new AbortController()
  let shown = 0
  // every Ctrl-C says it again: the step running is never cut short, its measure would be wrong
  const offSignals = onSignals([
    () => {
      stop.abort()
      io.stderr.write('ohlcv-loadgen: stopping after this step\n')
    },
  ], ['SIGINT'])
  let found
  try {
    found = await searchCapacity(request, o, settings, {
      log,
      ready: () => {
        if (!args.json) io.stdout.write(CAPACITY_HEADER)
      },
      signal: stop.signal,
      onStep: (s) => {
        if (!args.json) io.stdout.write(capacityRow(++shown, s))
      },
    })
  } finally {
    offSignals()
  }
  const { report, sink } = found
  const chart = args.capacity.chart ?? `ohlcv-loadgen-capacity-${String(report.seed).replace(/[^\w.-]/g, '_')}.svg`
  // the search as data beside its chart: what `verify --capacity` reads back
  const dataFile = `${chart.replace(/\.svg$/i, '')}.json`
  const output = { ...report, sink: describeSink(sink), chart, dataFile }
  const chartNote = await writeOutput(chart, capacityChart(report), 'chart')
  // the null sink keeps nothing to verify
  const hint = sink.kind === 'null' ? '' : `; check it all with: ohlcv-loadgen verify --capacity ${dataFile}`
  const dataNote = await writeOutput(dataFile, `${JSON.stringify(output, null, 2)}\n`, 'the search (every slice it wrote, with the seed)', hint)
  io.stdout.write(args.json ? `${JSON.stringify(output)}\n` : capacityVerdict(report, o, dataNote, chartNote))
  return report.sustainablePointsPerSecond === undefined ? EXIT_LOAD_FAILED : EXIT_OK
}
