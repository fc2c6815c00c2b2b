import { readFileSync } from 'node:fs'
import { dirname, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

// What a worker thread loads at start-up, read from the built code (type-only imports are gone
// there): every load starts `POOL_SIZE` threads, and TypeBox alone cost each ~0.15 s of CPU when a
// refactor let it in through a helper that moved next to the request's schema.
const DIST = fileURLToPath(new URL('../dist/', import.meta.url))

function packagesReached(entry: string): Map<string, string> {
  const seen = new Set<string>()
  const packages = new Map<string, string>()
  const walk = (file: string) => {
    if (seen.has(file)) return
    seen.add(file)
    for (const m of readFileSync(file, 'utf8').matchAll(/(?:^|\n)\s*(?:import|export)\s[^;]*?from\s+'([^']+)'/g)) {
      const spec = m[1]!
      if (spec.startsWith('.')) walk(resolve(dirname(file), spec))
      else packages.set(spec, relative(DIST, file))
    }
  }
  walk(resolve(DIST, entry))
  return packages
}

describe('a worker thread starts light', () => {
  it('loads seedrandom and Node modules only: no TypeBox, no Fastify, no prom-client, no pino', () => {
    const reached = packagesReached('workers/shard.js')
    const npm = [...reached.keys()].filter((p) => !p.startsWith('node:'))
    expect(npm, JSON.stringify(Object.fromEntries(reached))).toEqual(['seedrandom'])
  })
})
