// A TCP relay that holds every chunk `delayMs` before passing it on, in both directions, in
// order: a link with latency, for tests on a kernel without netem. Run inside a network namespace:
//   node delay-relay.mjs LISTEN_HOST LISTEN_PORT TARGET_HOST TARGET_PORT DELAY_MS
// Prints "listening" once it accepts connections.
import net from 'node:net'
import { setTimeout } from 'node:timers'

const [host, port, targetHost, targetPort, delay] = globalThis.process.argv.slice(2)
const delayMs = Number(delay)

/** Copies `from` to `to`, each chunk `delayMs` after it arrived; ends `to` after the last one. */
function delayed(from, to) {
  let last = Promise.resolve()
  from.on('data', (chunk) => {
    const due = Date.now() + delayMs
    last = last.then(() => new Promise((r) => setTimeout(r, Math.max(0, due - Date.now())))).then(() => {
      if (!to.destroyed) to.write(chunk)
    })
  })
  from.on('end', () => void last.then(() => to.end()))
  from.on('error', () => to.destroy())
}

net
  .createServer((client) => {
    const upstream = net.connect(Number(targetPort), targetHost)
    client.setNoDelay(true)
    upstream.setNoDelay(true)
    delayed(client, upstream)
    delayed(upstream, client)
    upstream.on('error', () => client.destroy())
    client.on('close', () => upstream.destroy())
    upstream.on('close', () => client.destroy())
  })
  .listen(Number(port), host, () => console.log('listening'))
