/**
 * The package's programmatic API, as `ohlcv-loadgen` exports it:
 *
 *   import { runLoad } from 'ohlcv-loadgen'
 *   const report = await runLoad({ symbols: ['AAPL'], trades: 1_000_000, seed: 42 }, { influxUrl: 'http://127.0.0.1:8086', db: 'ohlcv' })
 *
 * The CLI's `run` goes through the same code (src/app/runLoad.ts).
 */
export { runLoad, type RunReport, type RunSettings } from './app/runLoad.js'
export { LoadgenError } from './errors.js'
export type { ErrorCode } from './model/errors.js'
export type { LoadRequestInput } from './model/request.js'
