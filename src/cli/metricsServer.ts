import { createServer } from 'node:http'
import type { Registry } from 'prom-client'
import type { LoadRun } from '../load/run.js'

/**
 * `run --metrics-port`: /metrics for Prometheus while the load runs (a Kubernetes Job's pods are
 * scraped through annotations). Plain node:http: one route, no framework needed.
 */
export async function serveMetrics(registry: Registry, host: string, port: number, load: LoadRun): Promise<{ close(): Promise<void> }> {
  const server = createServer((req, res) => {
    if (req.url?.split('?')[0] !== '/metrics') {
      res.writeHead(404).end()
      return
    }
    registry.metrics().then(
      (text) => res.writeHead(200, { 'content-type': registry.contentType }).end(text),
      () => res.writeHead(500).end(),
    )
  })
  const { Gauge } = await import('prom-client')
  new Gauge({ name: 'ohlcv_run_points_planned', help: 'Points this run (partition) plans to write.', registers: [registry], collect() { this.set(load.account().pointsPlanned) } })
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(port, host, resolve))
  return { close: () => new Promise<void>((r) => server.close(() => r())) }
}
