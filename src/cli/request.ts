import { LOG_LEVELS, type LogLevel } from '../config.js'
import { UsageError } from '../errors.js'
import { readJsonFile } from '../jsonFile.js'
import { createLogger } from '../log.js'
import type { Redactor } from '../secrets.js'
import type { ParsedArgs } from './args.js'
import type { Io } from './exit.js'

/** The request: from `--request FILE` (a POST /loads body) with load flags over it, or the flags alone. */
export async function requestOf(args: ParsedArgs): Promise<Record<string, unknown>> {
  const path = args.run.requestFile
  if (path === undefined) return args.request
  const body = await readJsonFile(path, (why) => {
    throw new UsageError(`invalid --request: ${why}`)
  })
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new UsageError(`invalid --request: ${path} must hold a JSON object (the POST /loads body)`)
  return { ...(body as Record<string, unknown>), ...args.request }
}

/** A command's logger on stderr: `--log-level`, else LOG_LEVEL, else warn (one checked line if unknown). */
export function commandLogger(args: ParsedArgs, io: Io, redactor: Redactor) {
  const level = args.settings.logLevel ?? io.env.LOG_LEVEL ?? 'warn'
  if (!(LOG_LEVELS as readonly string[]).includes(level)) throw new UsageError(`invalid --log-level: ${level}`)
  return createLogger(level as LogLevel, process.stderr, redactor)
}
