import type { TestProject } from 'vitest/node'
import { startInfluxd, startVictoria } from './servers.js'

declare module 'vitest' {
  export interface ProvidedContext {
    influxUrl: string
    victoriaUrl: string
  }
}

/** Starts the real servers once for the whole run; every test uses its own database or measurement. */
export default async function setup(project: TestProject) {
  const [influxd, vm] = await Promise.all([startInfluxd(), startVictoria()])
  project.provide('influxUrl', influxd.url)
  project.provide('victoriaUrl', vm.url)
  return async () => {
    await Promise.all([influxd.stop(), vm.stop()])
  }
}
