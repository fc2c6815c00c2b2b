import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { dirname, join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { settingsTable } from '../src/settings.js'

const root = fileURLToPath(new URL('..', import.meta.url))
const pages = ['README.md', ...readdirSync(join(root, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)]
const read = (page: string) => readFileSync(join(root, page), 'utf8')

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens. */
function slug(heading: string): string {
  return heading.trim().toLowerCase().replace(/[^\p{L}\p{N}\s_-]/gu, '').replace(/\s/g, '-')
}

function anchors(page: string): Set<string> {
  const text = read(page).replace(/```[\s\S]*?```/g, '')
  return new Set([...text.matchAll(/^#{1,6} (.+)$/gm)].map((m) => slug(m[1]!)))
}

describe('the docs a newcomer walks', () => {
  it('every relative link and anchor in README.md and docs/ resolves', () => {
    const broken: string[] = []
    let checked = 0
    for (const page of pages) {
      const text = read(page).replace(/```[\s\S]*?```/g, '')
      for (const m of text.matchAll(/\]\(([^)\s]+)\)/g)) {
        const target = m[1]!
        if (/^[a-z]+:/i.test(target)) continue // http(s): not fetched
        checked++
        const [file, anchor] = target.split('#') as [string, string | undefined]
        const path = file === '' ? page : relative(root, join(root, dirname(page), file))
        if (!existsSync(join(root, path))) broken.push(`${page}: ${target} (no file ${path})`)
        else if (anchor !== undefined && path.endsWith('.md') && !anchors(path).has(anchor)) broken.push(`${page}: ${target} (no heading #${anchor} in ${path})`)
      }
    }
    expect(broken).toEqual([])
    expect(checked).toBeGreaterThan(15)
  })

  it('README.md links every page of docs/', () => {
    const readme = read('README.md')
    for (const page of pages.filter((p) => p !== 'README.md')) expect(readme, page).toContain(`](${page})`)
  })

  it('docs/settings.md holds the settings table generated from SETTINGS (npm run docs:settings)', () => {
    expect(read('docs/settings.md')).toContain(`-->\n${settingsTable()}\n<!-- settings:end -->`)
  })
})
