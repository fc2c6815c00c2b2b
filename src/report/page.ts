import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

/** The web console as built by scripts/build-console.mjs: one HTML file, script and styles inlined. */
interface ConsolePage {
  html: string
  /** base64 sha256 of its one inline script, for the Content-Security-Policy */
  scriptSha256: string
}

// dist/src/report/page.js -> dist/console; src/report/page.ts (tests on the sources) -> dist/console
const CANDIDATES = ['../../console/', '../../dist/console/']

let cached: ConsolePage | undefined

/** The built page, read once; undefined when it has not been built (`npm run build` makes it). */
export function consolePage(): ConsolePage | undefined {
  if (cached) return cached
  for (const dir of CANDIDATES) {
    try {
      const html = readFileSync(fileURLToPath(new URL(`${dir}console.html`, import.meta.url)), 'utf8')
      const { scriptSha256 } = JSON.parse(readFileSync(fileURLToPath(new URL(`${dir}console.json`, import.meta.url)), 'utf8')) as { scriptSha256: string }
      return (cached = { html, scriptSha256 })
    } catch {
      // not there: the next place
    }
  }
  return undefined
}

/** Only this page's own script, styles inline, requests to its own origin; no framing, no plugins. */
export function contentSecurityPolicy(page: ConsolePage): string {
  return [
    "default-src 'none'",
    `script-src 'sha256-${page.scriptSha256}'`,
    "style-src 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "connect-src 'self'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ')
}
