// Starts a local influxd for the demo, detached, and writes its pid: node scripts/local-influxd.mjs DIR PORT
import { writeFileSync } from 'node:fs'
import { startLocalInfluxd } from '../dist/tools/localInfluxd.js'

const [dir, port] = process.argv.slice(2)
try {
  const s = await startLocalInfluxd({ dir, httpPort: Number(port), rpcPort: Number(port) + 2, detached: true })
  writeFileSync(`${dir}/influxd.pid`, String(s.process.pid))
  console.log(`started influxd on ${s.url} (data and log in ${dir})`)
} catch (e) {
  console.error(`could not start influxd: ${e.message}`)
  process.exit(1)
}
