import { chromium, type Browser } from 'playwright-core'

/**
 * Debian's Chromium (installed by scripts/install-servers.sh; never a browser download), headless,
 * with the flags this machine needs: no sandbox as root, and no background networking, whose
 * connections the closed network refuses.
 */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    headless: true,
    // playwright gives each launch a new, empty profile directory of its own
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  })
}
