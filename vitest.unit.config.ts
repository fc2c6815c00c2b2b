import { defineConfig } from 'vitest/config'
import { UNIT } from './vitest.config.js'

/** `npm run test:unit`: pure code only, in seconds: no build, no servers. */
export default defineConfig({
  test: { include: UNIT },
})
