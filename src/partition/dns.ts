import { lookup } from 'node:dns/promises'
import { networkInterfaces } from 'node:os'
import { setTimeout as sleep } from 'node:timers/promises'
import { ConfigError } from '../errors.js'
import type { Partition } from './partition.js'

/** Sorts IPv4/IPv6 addresses numerically (as byte strings), so every replica sees the same order. */
export function sortAddresses(addresses: string[]): string[] {
  const key = (a: string) =>
    a.includes(':')
      ? `6:${a.split(':').map((g) => g.padStart(4, '0')).join(':')}`
      : `4:${a.split('.').map((o) => o.padStart(3, '0')).join('.')}`
  return [...new Set(addresses)].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0))
}

/** This replica's index: where one of its own addresses sits among the service's sorted addresses. */
export function indexAmong(serviceAddresses: string[], own: string[]): number {
  const sorted = sortAddresses(serviceAddresses)
  return sorted.findIndex((a) => own.includes(a))
}

interface DnsDeps {
  resolve: (name: string) => Promise<string[]>
  ownAddresses: () => string[]
  timeoutMs: number
}

const defaultDeps: DnsDeps = {
  resolve: async (name) => (await lookup(name, { all: true })).map((a) => a.address),
  ownAddresses: () => Object.values(networkInterfaces()).flatMap((ifs) => (ifs ?? []).map((i) => i.address)),
  timeoutMs: 60_000,
}

/**
 * `docker compose up --scale generator=N`: Docker's DNS answers the service name with every
 * replica's address. Each replica waits until it sees all `count` of them, sorts them, and takes
 * the position of its own address as its partition index. No replica talks to another; the same
 * set of addresses gives every replica a distinct index.
 */
export async function partitionFromDns(service: string, count: number, deps: Partial<DnsDeps> = {}): Promise<Partition> {
  const d = { ...defaultDeps, ...deps }
  const deadline = Date.now() + d.timeoutMs
  let seen: string[] = []
  for (;;) {
    seen = await d.resolve(service).catch(() => [])
    if (seen.length >= count) break
    if (Date.now() > deadline) {
      throw new ConfigError('PARTITION_DNS', `${service} resolved to ${seen.length} address(es) after ${d.timeoutMs} ms, PARTITION_COUNT is ${count}`)
    }
    await sleep(500)
  }
  if (seen.length > count) throw new ConfigError('PARTITION_DNS', `${service} resolves to ${seen.length} addresses but PARTITION_COUNT is ${count}: scale to ${count}`)
  const index = indexAmong(seen, d.ownAddresses())
  if (index < 0) throw new ConfigError('PARTITION_DNS', `none of this container's addresses is among ${service}'s (${sortAddresses(seen).join(', ')})`)
  return { index, count }
}
