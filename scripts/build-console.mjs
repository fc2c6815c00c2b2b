// Builds the web console into one self-contained HTML file, dist/console/console.html: the page's
// TypeScript and the chart libraries (uPlot, TradingView Lightweight Charts) bundled by esbuild,
// script and styles inlined. No CDN, nothing fetched at run time; the same file is the report
// (GET /loads/:id/report, run --report) with the load's data embedded. Run by `npm run build`.
import { build } from 'esbuild'
import { createHash } from 'node:crypto'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { Buffer } from 'node:buffer'
import { gzipSync } from 'node:zlib'

const root = fileURLToPath(new URL('..', import.meta.url))
const out = await build({
  entryPoints: [`${root}src/console/main.ts`],
  bundle: true,
  minify: true,
  format: 'iife',
  target: 'es2020',
  platform: 'browser',
  write: false,
  outdir: `${root}dist/console`,
  // the libraries' licence headers stay in the page
  legalComments: 'inline',
  logLevel: 'warning',
})
const js = out.outputFiles.find((f) => f.path.endsWith('.js')).text.replaceAll('</script', '<\\/script')
const css = out.outputFiles.find((f) => f.path.endsWith('.css'))?.text ?? ''
const template = readFileSync(`${root}src/console/index.html`, 'utf8')
const html = template.replace('<!--STYLE-->', () => `<style>${css}</style>`).replace('<!--SCRIPT-->', () => `<script>${js}</script>`)
mkdirSync(`${root}dist/console`, { recursive: true })
writeFileSync(`${root}dist/console/console.html`, html)
// what serve puts in its Content-Security-Policy (the one inline script, by hash) and the README's size
const manifest = {
  scriptSha256: createHash('sha256').update(js).digest('base64'),
  bytes: Buffer.byteLength(html),
  gzipBytes: gzipSync(html, { level: 9 }).length,
}
writeFileSync(`${root}dist/console/console.json`, `${JSON.stringify(manifest)}\n`)
