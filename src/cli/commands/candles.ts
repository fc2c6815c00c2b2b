import { poolSize, sinkConfig } from '../../config.js'
import { readSettings } from '../../settings.js'
import { withPool } from '../../app/pool.js'
import { normalizeContext } from '../../app/runLoad.js'
import { UsageError } from '../../errors.js'
import { DEFAULT_MEASUREMENT, normalizeRequest } from '../../request/normalize.js'
import { MAX_TICK_DECIMALS, SYMBOL_PATTERN, tickDecimals } from '../../model/request.js'
import { validateLoadRequest } from '../../request/validate.js'
import type { ParsedArgs } from '../args.js'
import { EXIT_LOAD_FAILED, EXIT_OK, type Io } from '../exit.js'

/** `ohlcv-loadgen candles`: a symbol's candles from the database, or regenerated from the load's seed. */
export async function candlesCommand(args: ParsedArgs, io: Io): Promise<number> {
  const { symbol, interval } = args.query
  if (!symbol) throw new UsageError('candles needs --symbol')
  if (!new RegExp(SYMBOL_PATTERN).test(symbol)) throw new UsageError(`invalid --symbol: must match ${SYMBOL_PATTERN}`)
  const from = args.request.from
  const to = args.request.to
  if (typeof from !== 'string' || typeof to !== 'string') throw new UsageError('candles needs --from and --to')
  const measurement = typeof args.request.measurement === 'string' ? args.request.measurement : DEFAULT_MEASUREMENT
  const [{ candleRange }, { writeCandlesJson, writeCandlesTable }] = await Promise.all([import('../../candles/candle.js'), import('../candleOutput.js')])
  // no cap on the count: the database is read window by window and each window written out in turn
  const range = candleRange({ from, to, ...(interval ? { interval } : {}) }, Infinity)
  const settings = readSettings(args.settings, io.env)
  const printer = args.json ? writeCandlesJson : writeCandlesTable
  let written: number
  if (args.query.regenerate) {
    // The load's own options and seed say what the database should hold; no database needed.
    if (args.request.seed === undefined) throw new UsageError('candles --regenerate needs the --seed of the load')
    const spec = normalizeRequest(validateLoadRequest(args.request), normalizeContext)
    const j = spec.symbols.indexOf(symbol)
    if (j < 0) throw new UsageError(`invalid --symbol: ${symbol} is not one of the load's --symbols`)
    const { expectedCandles } = await import('../../candles/verify.js')
    const regenerated = (await withPool(poolSize(settings), (pool) => expectedCandles(spec, pool, range.intervalMs, [j]))).get(j) ?? []
    written = await printer(async function* () { yield regenerated }, tickDecimals(spec.market.tickSize), io.stdout)
  } else {
    const { CandleReader } = await import('../../candles/query.js')
    const reader = new CandleReader(sinkConfig(settings))
    const q = { measurement, symbol, ...range }
    written = await printer(() => reader.candleWindows(q, MAX_TICK_DECIMALS), MAX_TICK_DECIMALS, io.stdout).finally(() => reader.close())
  }
  if (written === 0) {
    io.stderr.write(`ohlcv-loadgen: no trades of ${symbol} in ${measurement} between ${from} and ${to}\n`)
    return EXIT_LOAD_FAILED
  }
  return EXIT_OK
}
