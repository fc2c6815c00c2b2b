import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // One influxd and one victoria-metrics for the whole run (test/harness/global.ts).
    globalSetup: ['test/harness/global.ts'],
    testTimeout: 120_000,
    hookTimeout: 60_000,
    // Two cores: test files that run worker pools should not fight each other for them.
    fileParallelism: false,
  },
})
