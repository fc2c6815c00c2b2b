import { pino, type DestinationStream, type Logger } from 'pino'
import type { LogLevel } from './config.js'
import type { Redactor } from './secrets.js'

/**
 * Paths pino censors wherever they appear: a safety net under the rule that secrets are never put
 * into log objects in the first place (sinks are logged through describeSink).
 */
const REDACT_PATHS = [
  'password',
  'token',
  '*.password',
  '*.token',
  '*.*.password',
  '*.*.token',
  'req.headers.authorization',
  'headers.authorization',
]

/** `redactor`: masks the process's secrets in every line as it is written, wherever they are in it. */
export function createLogger(level: LogLevel, destination?: DestinationStream, redactor?: Redactor): Logger {
  return pino(
    {
      level,
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      base: { name: 'ohlcv-loadgen' },
      ...(redactor ? { hooks: { streamWrite: (line: string) => redactor.redact(line) } } : {}),
    },
    destination,
  )
}
