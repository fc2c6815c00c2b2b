import { defineConfig } from 'vitest/config'

/**
 * Three tiers. `npm test` runs all three; `npm run test:unit` runs the first alone, with no build and
 * no servers (vitest.unit.config.ts). One influxd and one victoria-metrics serve the other two
 * (test/harness/global.ts, which also builds dist/ for the workers and the CLI).
 *
 * - unit: pure code, no I/O, files in parallel;
 * - integration: the shared servers, fakes and small loads; correctness, not speed: files run three
 *   at a time (most of their time is spent waiting on timeouts, outages and restarts), and every
 *   time bound in them holds on a busy machine;
 * - system: what a rate or a latency is measured on (the shaped link, capacity searches judged on
 *   rates, a scrape's latency), Chromium, Prometheus and a year of candles. One file at a time,
 *   after the others, so no measured rate shares the machine with another test. (Tests that only
 *   check accounts, even across SIGKILL, cut links or an overloaded server, are integration.)
 */
export const UNIT = [
  'test/arrivals.test.ts',
  'test/bounded.test.ts',
  'test/breakerRule.test.ts',
  'test/concurrency.test.ts',
  'test/deltas.test.ts',
  'test/docs.test.ts',
  'test/errors.test.ts',
  'test/format.test.ts',
  'test/lineprotocol.test.ts',
  'test/market.test.ts',
  'test/meter.test.ts',
  'test/pace.test.ts',
  'test/plan.test.ts',
  'test/request.test.ts',
  'test/resumable.test.ts',
  'test/stop.test.ts',
]

const INTEGRATION = [
  'test/account-seal.test.ts',
  'test/api.test.ts',
  'test/capacity-dataset.test.ts',
  'test/cli.test.ts',
  'test/cli-resilience.test.ts',
  'test/control.test.ts',
  'test/crash.test.ts',
  'test/determinism.test.ts',
  'test/doubt.test.ts',
  'test/faults.test.ts',
  'test/faults-fake.test.ts',
  'test/gzip.test.ts',
  'test/hardening.test.ts',
  'test/hostile.test.ts',
  'test/influx-auth.test.ts',
  'test/influx-v1.test.ts',
  'test/influx-v2.test.ts',
  'test/influx3.test.ts',
  'test/misbehaving.test.ts',
  'test/net-faults.test.ts',
  'test/overlap.test.ts',
  'test/overload.test.ts',
  'test/partition.test.ts',
  'test/pipeline.test.ts',
  'test/prefix.test.ts',
  'test/progress.test.ts',
  'test/programmatic.test.ts',
  'test/secrets.test.ts',
  'test/startup.test.ts',
  'test/stopping.test.ts',
  'test/store.test.ts',
  'test/timeline.test.ts',
  'test/wire.test.ts',
]

const timeouts = { testTimeout: 120_000, hookTimeout: 60_000 }

export default defineConfig({
  test: {
    globalSetup: ['test/harness/global.ts'],
    projects: [
      { test: { ...timeouts, name: 'unit', include: UNIT, sequence: { groupOrder: 0 }, maxWorkers: 3 } },
      { test: { ...timeouts, name: 'integration', include: INTEGRATION, sequence: { groupOrder: 0 }, maxWorkers: 3 } },
      { test: { ...timeouts, name: 'system', include: ['test/**/*.test.ts'], exclude: [...UNIT, ...INTEGRATION], sequence: { groupOrder: 1 }, maxWorkers: 1 } },
    ],
  },
})
