#!/usr/bin/env node
import { main } from '../dist/src/cli/main.js'

const code = await main(process.argv.slice(2))
// Let stdout drain before leaving: a piped `--json` or `--out -` must not be cut short.
process.stdout.write('', () => process.exit(code))
