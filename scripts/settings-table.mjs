#!/usr/bin/env node
// Writes the settings table into docs/settings.md between its markers, from SETTINGS in
// src/settings.ts (built into dist/). test/docs.test.ts fails when the file is not current.
import { readFileSync, writeFileSync } from 'node:fs'
import { settingsTable } from '../dist/src/settings.js'

const path = new URL('../docs/settings.md', import.meta.url)
const text = readFileSync(path, 'utf8')
const next = text.replace(/(<!-- settings:begin[^\n]*-->\n)[\s\S]*?(<!-- settings:end -->)/, `$1${settingsTable()}\n$2`)
if (next === text) console.log('docs/settings.md is current')
else {
  writeFileSync(path, next)
  console.log('docs/settings.md updated')
}
