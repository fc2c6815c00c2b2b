import { execFileSync } from 'node:child_process'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'
import type { TestProject } from 'vitest/node'
import { startInfluxd, startVictoria } from './servers.js'

declare module 'vitest' {
  export interface ProvidedContext {
    influxUrl: string
    victoriaUrl: string
  }
}

/**
 * Worker threads (and the CLI the tests spawn) run the built code in dist/: build it first, every
 * run, so a test can never exercise older code than the sources it reads (~4 s).
 */
function build(): void {
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc')
  const cwd = fileURLToPath(new URL('../..', import.meta.url))
  execFileSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { cwd, stdio: 'inherit' })
  // the web console's page (dist/console/console.html): what GET / and the reports serve
  execFileSync(process.execPath, ['scripts/build-console.mjs'], { cwd, stdio: 'inherit' })
}

/** Starts the real servers once for the whole run; every test uses its own database or measurement. */
export default async function setup(project: TestProject) {
  build()
  const [influxd, vm] = await Promise.all([startInfluxd(), startVictoria()])
  project.provide('influxUrl', influxd.url)
  project.provide('victoriaUrl', vm.url)
  return async () => {
    await Promise.all([influxd.stop(), vm.stop()])
  }
}
