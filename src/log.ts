import { pino, type DestinationStream, type Logger } from 'pino'
import type { LogLevel } from './config.js'

/**
 * Paths pino censors wherever they appear: a safety net under the rule that secrets are never put
 * into log objects in the first place (sinks are logged through describeSink).
 */
export const REDACT_PATHS = [
  'password',
  'token',
  '*.password',
  '*.token',
  '*.*.password',
  '*.*.token',
  'req.headers.authorization',
  'headers.authorization',
]

export function createLogger(level: LogLevel, destination?: DestinationStream): Logger {
  return pino({ level, redact: { paths: REDACT_PATHS, censor: '[redacted]' }, base: { name: 'ohlcv-loadgen' } }, destination)
}
