import { readFileSync } from 'node:fs'
import type { Server } from 'node:http'
import type { Socket } from 'node:net'

/**
 * A cap on open connections that keeps the coordinator answering when one client opens
 * thousands of idle sockets: at the cap, a new connection evicts the oldest idle one (no request
 * in progress: a slow client still sending headers counts as idle) instead of being refused, so a
 * health probe always gets through unless every connection is busy with a request. Node's own
 * `server.maxConnections` would refuse the probe instead.
 */
export function capConnections(server: Server, max: number): { open(): number } {
  const sockets = new Map<Socket, { busy: number }>() // in arrival order: the first idle one is the oldest
  server.on('connection', (socket: Socket) => {
    if (sockets.size >= max) {
      for (const [s, state] of sockets) {
        if (state.busy === 0) {
          sockets.delete(s)
          s.destroy()
          break
        }
      }
      if (sockets.size >= max) {
        socket.destroy()
        return
      }
    }
    sockets.set(socket, { busy: 0 })
    socket.once('close', () => sockets.delete(socket))
  })
  server.on('request', (req, res) => {
    const state = sockets.get(req.socket)
    if (!state) return
    state.busy++
    res.once('close', () => state.busy--)
  })
  return { open: () => sockets.size }
}

/**
 * Half the process's soft limit on open files (Linux: /proc/self/limits), at most 4096: the rest is
 * for the database connections, the state files and the workers. 1024 where the limit is unknown.
 */
export function defaultMaxConnections(): number {
  try {
    const line = /^Max open files\s+(\d+|unlimited)/m.exec(readFileSync('/proc/self/limits', 'utf8'))?.[1]
    if (line === undefined || line === 'unlimited') return 4096
    return Math.max(16, Math.min(4096, Math.floor(Number(line) / 2)))
  } catch {
    return 1024
  }
}
