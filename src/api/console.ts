import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { LoadgenError } from '../errors.js'
import type { LoadManager } from '../load/manager.js'
import { consolePage, contentSecurityPolicy } from '../report/page.js'
import { environment, renderReport } from '../report/report.js'
import { loadView } from './loads.js'
import { LoadIdParams } from './schemas.js'

class ConsoleNotBuiltError extends LoadgenError {
  constructor() {
    super('OHLCV_INTERNAL', 'the web console is not built: run `npm run build`')
  }
}

const HTML = 'text/html; charset=utf-8'

/** GET / (the web console) and GET /loads/:id/report (one load as a self-contained HTML file). */
export const consoleRoutes: FastifyPluginAsyncTypebox<{ manager: LoadManager }> = async (app, { manager }) => {
  app.get('/', { schema: { description: 'the web console: one HTML page (docs/console.md)' } }, async (_req, reply) => {
    const page = consolePage()
    if (!page) throw new ConsoleNotBuiltError()
    return reply
      .type(HTML)
      .header('content-security-policy', contentSecurityPolicy(page))
      .header('x-content-type-options', 'nosniff')
      .header('referrer-policy', 'no-referrer')
      .header('cache-control', 'no-cache')
      .send(page.html)
  })

  app.get(
    '/loads/:id/report',
    { schema: { params: LoadIdParams, description: 'the load as one self-contained HTML file (charts, account, settings, sink, environment); opens offline' } },
    async (req, reply) => {
      const load = manager.get(req.params.id)
      const html = renderReport(loadView(load, manager.sinkOf(load)), load.timeline.view(), environment(manager.shardPool.size))
      if (html === undefined) throw new ConsoleNotBuiltError()
      const page = consolePage()!
      return reply
        .type(HTML)
        .header('content-disposition', `inline; filename="ohlcv-loadgen-${load.id}.html"`)
        .header('content-security-policy', contentSecurityPolicy(page))
        .header('x-content-type-options', 'nosniff')
        .send(html)
    },
  )
}
