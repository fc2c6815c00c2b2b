import { readSettings } from '../settings.js'
import { LoadgenError, UsageError } from '../errors.js'
import { Redactor } from '../secrets.js'
import { helpText, parseCommandLine, usageLine } from './args.js'
import { EXIT_LOAD_FAILED, EXIT_OK, EXIT_USAGE, type Io } from './exit.js'
import { commandLogger, requestOf } from './request.js'

// What only some commands need (the HTTP app, prom-client, the candle code, DNS discovery) is
// imported where it is used: every command starts ~0.1 s of CPU sooner.

/** Runs one command; resolves with the process exit code. Bad input never throws past here. */
export async function main(argv: string[], io: Io = { stdout: process.stdout, stderr: process.stderr, env: process.env }): Promise<number> {
  const redactor = Redactor.fromArgv(argv, io.env)
  try {
    const args = parseCommandLine(argv)
    if (args.help || args.command === 'help' || args.command === undefined) {
      io.stdout.write(`${helpText()}\n`)
      return args.command === undefined && !args.help ? EXIT_USAGE : EXIT_OK
    }
    if (args.command === 'run') return await (await import('./commands/run.js')).runCommand(args, io, redactor)
    if (args.command === 'serve') return await (await import('./commands/serve.js')).serveCommand(args, io, redactor)
    if (args.command === 'candles') return await (await import('./commands/candles.js')).candlesCommand(args, io)
    if (args.command === 'verify') return await (await import('./commands/verify.js')).verifyCommand(args, io)
    if (args.command === 'capacity') {
      const { capacityCommand } = await import('./commands/capacity.js')
      return await capacityCommand(args, await requestOf(args), readSettings(args.settings, io.env), io, commandLogger(args, io, redactor))
    }
    throw new UsageError(`unknown command ${JSON.stringify(args.command)} (commands: run, serve, candles, verify, capacity, help)`)
  } catch (e) {
    if (e instanceof UsageError || (e instanceof LoadgenError && e.exitCode === EXIT_USAGE)) {
      io.stderr.write(redactor.redact(`ohlcv-loadgen: ${usageLine(e)}\n`))
      return EXIT_USAGE
    }
    io.stderr.write(redactor.redact(`ohlcv-loadgen: ${(e as Error).message}\n`))
    return EXIT_LOAD_FAILED
  }
}
