import type { Logger } from 'pino'
import { capacityChart } from '../capacity/chart.js'
import { capacityOptions } from '../capacity/options.js'
import { runCapacity, type CapacityReport } from '../capacity/run.js'
import { loadOptions, poolSize, sinkConfig } from '../config.js'
import type { RawSettings } from '../settings.js'
import { UsageError } from '../errors.js'
import { normalizeContext } from '../load/runLoad.js'
import { describeSink } from '../sink/target.js'
import { ShardPool } from '../../workers/pool.js'
import type { ParsedArgs } from './args.js'
import { writeOutput } from './outputFile.js'

const n = (x: number) => Math.round(x).toLocaleString('en-US')

/**
 * `ohlcv-loadgen capacity`: the highest rate the database takes within the objectives. Prints a
 * table of steps and the sustainable rate (or `--json`), writes the SVG chart, exits 0 when a rate
 * was found, 1 when even the start rate failed (2 for bad options, before anything runs).
 */
export async function capacityCommand(args: ParsedArgs, request: Record<string, unknown>, settings: RawSettings, io: { stdout: NodeJS.WritableStream; stderr: NodeJS.WritableStream }, log: Logger): Promise<number> {
  const o = capacityOptions(args.capacity)
  if (request.ratePerSecond !== undefined) throw new UsageError('capacity sets the rate of each step itself: drop --rate-per-second')
  if (request.trades !== undefined) throw new UsageError('capacity sets the trades of each step (rate x --step-seconds): drop --trades')
  const sink = sinkConfig(settings)
  if (sink.kind === 'file') throw new UsageError('capacity measures a database: use an InfluxDB sink (or null for the generator alone)')
  const pool = new ShardPool(poolSize(settings))
  let report: CapacityReport
  let shown = 0
  let stop = false
  const onSignal = () => {
    stop = true
    io.stderr.write('ohlcv-loadgen: stopping after this step\n')
  }
  process.on('SIGINT', onSignal)
  try {
    await pool.warm()
    if (!args.json) io.stdout.write(`step  phase        target/s   achieved/s   p50 ms   p90 ms   p99 ms  errors  client CPU  host CPU  verdict\n`)
    report = await runCapacity(request, o, {
      sink,
      pool,
      log,
      options: loadOptions(settings, 'timeoutMs' in sink ? sink.timeoutMs : undefined),
      normalize: normalizeContext,
      stopped: () => stop,
      onStep: (s) => {
        if (args.json) return
        shown++
        io.stdout.write(
          `${String(shown).padStart(4)}  ${s.phase.padEnd(11)} ${n(s.targetPointsPerSecond).padStart(10)} ${n(s.achievedPointsPerSecond).padStart(12)} ${String(s.p50Ms).padStart(8)} ${String(s.p90Ms).padStart(8)} ${String(s.p99Ms).padStart(8)} ${String(s.errors).padStart(7)} ${`${Math.round(s.clientCpu * 100)} %`.padStart(11)} ${`${Math.round(s.hostCpu * 100)} %`.padStart(9)}  ${s.passed ? 'pass' : `FAIL: ${s.reasons.join('; ')}`}\n`,
        )
      },
    })
  } finally {
    process.off('SIGINT', onSignal)
    await pool.close()
  }
  const chart = args.capacity.chart ?? `ohlcv-loadgen-capacity-${String(report.seed).replace(/[^\w.-]/g, '_')}.svg`
  // the search as data beside its chart: what `verify --capacity` reads back
  const dataFile = `${chart.replace(/\.svg$/i, '')}.json`
  const output = { ...report, sink: describeSink(sink), chart, dataFile }
  const chartNote = await writeOutput(chart, capacityChart(report), 'chart')
  // the null sink keeps nothing to verify
  const hint = sink.kind === 'null' ? '' : `; check it all with: ohlcv-loadgen verify --capacity ${dataFile}`
  const dataNote = await writeOutput(dataFile, `${JSON.stringify(output, null, 2)}\n`, 'the search (every slice it wrote, with the seed)', hint)
  if (args.json) {
    io.stdout.write(`${JSON.stringify(output)}\n`)
  } else {
    const found = report.sustainablePointsPerSecond
    io.stdout.write(
      (found === undefined
        ? `no sustainable rate: the start rate ${n(o.startRate)} points/s failed its objectives (lower --start-rate)\n`
        : `sustainable: ${n(found)} points/s within p99 ${o.slo.p99Ms} ms and error rate ${(o.slo.maxErrorRate * 100).toFixed(2)} %` +
          `${report.confirmed ? ' (held twice)' : ' (not confirmed: the search ended before it could hold it again)'}${report.ended === 'max-rate' ? `; --max-rate ${n(o.maxRate)} reached` : ''}${report.ended === 'deadline' ? '; the deadline ended the search' : ''}\n`) +
        `seed ${JSON.stringify(report.seed)}\n${dataNote}\n${chartNote}\n`,
    )
  }
  return report.sustainablePointsPerSecond === undefined ? 1 : 0
}
