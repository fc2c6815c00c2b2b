import { defineConfig } from 'vitest/config'

/**
 * Three tiers (`npm run test:unit` runs the first alone, with no servers: vitest.unit.config.ts).
 * One influxd and one victoria-metrics serve the whole run (test/harness/global.ts).
 *
 * - unit: pure code, no I/O;
 * - waiting: tests that spend their time waiting on small loads, fakes, timeouts and restarts,
 *   two files at a time (each bounds its times for a busy machine);
 * - full-speed: loads that use both cores, measure rates or latencies, or kill and pace, one file at
 *   a time after the others, so no test of a rate runs beside another.
 */
export const UNIT = [
  'test/arrivals.test.ts',
  'test/bounded.test.ts',
  'test/breakerRule.test.ts',
  'test/concurrency.test.ts',
  'test/deltas.test.ts',
  'test/docs.test.ts',
  'test/errors.test.ts',
  'test/lineprotocol.test.ts',
  'test/market.test.ts',
  'test/meter.test.ts',
  'test/pace.test.ts',
  'test/plan.test.ts',
  'test/request.test.ts',
  'test/resumable.test.ts',
  'test/stop.test.ts',
]

const WAITING = [
  'test/account-seal.test.ts',
  'test/api.test.ts',
  'test/browser-hostile.test.ts',
  'test/cli.test.ts',
  'test/cli-resilience.test.ts',
  'test/control.test.ts',
  'test/doubt.test.ts',
  'test/faults.test.ts',
  'test/gzip.test.ts',
  'test/hardening.test.ts',
  'test/hostile.test.ts',
  'test/influx-auth.test.ts',
  'test/influx-v1.test.ts',
  'test/influx-v2.test.ts',
  'test/influx3.test.ts',
  'test/misbehaving.test.ts',
  'test/overlap.test.ts',
  'test/prefix.test.ts',
  'test/programmatic.test.ts',
  'test/secrets.test.ts',
  'test/stopping.test.ts',
  'test/store.test.ts',
  'test/wire.test.ts',
]

const timeouts = { testTimeout: 120_000, hookTimeout: 60_000 }

export default defineConfig({
  test: {
    globalSetup: ['test/harness/global.ts'],
    projects: [
      { test: { ...timeouts, name: 'unit', include: UNIT, sequence: { groupOrder: 0 }, maxWorkers: 2 } },
      { test: { ...timeouts, name: 'waiting', include: WAITING, sequence: { groupOrder: 0 }, maxWorkers: 2 } },
      { test: { ...timeouts, name: 'full-speed', include: ['test/**/*.test.ts'], exclude: [...UNIT, ...WAITING], sequence: { groupOrder: 1 }, maxWorkers: 1 } },
    ],
  },
})
