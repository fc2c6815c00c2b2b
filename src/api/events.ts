import type { ServerResponse } from 'node:http'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { FastifyReply } from 'fastify'
import { TooManyStreamsError } from '../errors.js'
import type { LoadManager } from '../load/manager.js'
import type { LoadRun } from '../load/run.js'
import { ErrorSchema } from '../model/errorSchemas.js'
import { TimelineSchema } from '../model/timeline.js'
import type { ProgressEvent } from '../model/view.js'
import { LoadIdParams } from './schemas.js'

/** How often a progress event goes out: a few times a second, cheap to compute (no I/O). */
const EVENT_INTERVAL_MS = 250

/** The progress event: what a dashboard or a terminal needs to draw a bar. */
function progressEvent(load: LoadRun): ProgressEvent {
  const a = load.account()
  const { pointsPerSecond, etaSeconds } = load.rate()
  return {
    id: load.id,
    status: load.status,
    pointsPlanned: a.pointsPlanned,
    pointsWritten: a.pointsWritten,
    pointsFailed: a.pointsFailed,
    pointsInFlight: load.pointsInFlight(),
    percent: a.pointsPlanned > 0 ? Math.floor((a.pointsWritten / a.pointsPlanned) * 1000) / 10 : 100,
    pointsPerSecond,
    etaSeconds,
    shardsDone: a.shardsDone,
    shardsTotal: a.shardsTotal,
    circuit: load.circuit().state,
  }
}

/**
 * Takes the reply over as a Server-Sent Events stream (clients reconnect after 1 s); `send`
 * writes one numbered event with JSON data. Shared by the loads' and the capacity searches' streams.
 */
export function openEventStream(reply: FastifyReply): { res: ServerResponse; send: (event: string, data: unknown) => void } {
  reply.hijack()
  const res = reply.raw
  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache, no-transform',
    connection: 'keep-alive',
    // proxies (nginx) must not buffer the stream
    'x-accel-buffering': 'no',
  })
  res.write('retry: 1000\n\n')
  let seq = 0
  return { res, send: (event, data) => void res.write(`id: ${++seq}\nevent: ${event}\ndata: ${JSON.stringify(data)}\n\n`) }
}

/**
 * GET /loads/:id/events: Server-Sent Events. `progress` every EVENT_INTERVAL_MS while the load
 * runs, the timeline (`timeline` whole, then each new `sample`), then the whole `timeline` and one
 * `done` event with the final account, and the stream ends. A finished load gets
 * its `done` event at once. Unknown ids are a plain 404 (checked before the stream starts).
 */
export const DEFAULT_MAX_STREAMS_PER_LOAD = 16

export const eventRoutes: FastifyPluginAsyncTypebox<{ manager: LoadManager; intervalMs?: number; maxStreamsPerLoad?: number }> = async (app, opts) => {
  /** open streams per load: one client must not hold every connection on one load's timer */
  const open = new Map<string, number>()
  const max = opts.maxStreamsPerLoad ?? DEFAULT_MAX_STREAMS_PER_LOAD
  app.get('/loads/:id/timeline', { schema: { params: LoadIdParams, response: { 200: TimelineSchema, 404: ErrorSchema } } }, async (req) => {
    const load = opts.manager.get(req.params.id)
    return { id: load.id, status: load.status, ...load.timeline.view() }
  })

  app.get('/loads/:id/events', { schema: { params: LoadIdParams } }, async (req, reply) => {
    const load = opts.manager.get(req.params.id)
    const n = open.get(load.id) ?? 0
    if (n >= max) throw new TooManyStreamsError(max)
    open.set(load.id, n + 1)
    // the response's close: the stream ended, or the client went away (the request's fires once it is read)
    reply.raw.once('close', () => {
      const left = (open.get(load.id) ?? 1) - 1
      if (left > 0) open.set(load.id, left)
      else open.delete(load.id)
    })
    const { res, send } = openEventStream(reply)
    let timer: NodeJS.Timeout | undefined
    const stop = () => {
      clearInterval(timer)
      res.end()
    }
    // The timeline: whole at first (a page opened late draws the load from its start) and when its
    // resolution changes, else each new sample as it comes.
    let sentResolution = 0
    let sentSamples = 0
    const timeline = () => {
      const c = load.timeline.committed()
      if (c.resolutionSeconds !== sentResolution) {
        send('timeline', { resolutionSeconds: c.resolutionSeconds, samples: c.samples })
        sentResolution = c.resolutionSeconds
        sentSamples = c.samples.length
        return
      }
      for (; sentSamples < c.samples.length; sentSamples++) send('sample', c.samples[sentSamples])
    }
    const tick = () => {
      const result = load.getResult()
      if (result) {
        send('timeline', load.timeline.view())
        send('done', { id: load.id, ...result })
        stop()
      } else {
        timeline()
        send('progress', progressEvent(load))
      }
    }
    tick()
    if (!res.writableEnded) timer = setInterval(tick, opts.intervalMs ?? EVENT_INTERVAL_MS)
    res.on('close', () => clearInterval(timer))
  })
}
