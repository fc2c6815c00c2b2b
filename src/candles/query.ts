import { InfluxDB } from '@influxdata/influxdb-client'
import { InvalidRequestError, LoadgenError, ReadError, WriteError } from '../errors.js'
import { InfluxV1Client, quoteIdent, type InfluxQLResult } from '../influx/v1.js'
import { InfluxV3Client } from '../influx/v3.js'
import { v2SpeaksFlux } from '../influx/v2.js'
import type { SinkConfig } from '../sink/target.js'
import type { ExactCandle } from './candle.js'

interface CandleQuery {
  measurement: string
  symbol: string
  fromMs: number
  toMs: number
  intervalMs: number
}

/**
 * Candles one query asks for at most. influxd 1.x answers a series of more than 10,000 rows in
 * chunks marked `partial` (1.6 leaves the flag set even after merging them, so the answer cannot
 * be told from one cut at max-row-limit), and one answer of a year at 1 s would be gigabytes: a
 * range is read in windows of this many intervals, each answer small and never chunked.
 */
export const CANDLES_PER_QUERY = 5000

/**
 * [from, to) cut into windows of at most `per` intervals. Inner edges fall on interval edges, which
 * start at the epoch as InfluxQL's GROUP BY time() and the Flux query's window() do, so no candle
 * is split between two windows. Pure.
 */
export function* queryWindows(fromMs: number, toMs: number, intervalMs: number, per = CANDLES_PER_QUERY): Generator<[number, number]> {
  let a = fromMs
  while (a < toMs) {
    const b = Math.min(toMs, (Math.floor(a / intervalMs) + per) * intervalMs)
    yield [a, b]
    a = b
  }
}

/** Window queries one reading keeps in flight. */
const READ_AHEAD = 2

type InfluxSink = Extract<SinkConfig, { kind: 'influx-v1' | 'influx-v2' | 'influx-v3' }>

function requireInflux(sink: SinkConfig): InfluxSink {
  if (sink.kind !== 'influx-v1' && sink.kind !== 'influx-v2' && sink.kind !== 'influx-v3') {
    throw new InvalidRequestError('sink', `candles and verification read from InfluxDB; the configured sink is ${sink.kind}`)
  }
  return sink
}

const quoteString = (s: string) => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`
const fluxString = (s: string) => JSON.stringify(s) // Flux string literals escape like JSON: \" \\ \n

/** InfluxQL: first/last by time across the symbol's series (one per exchange), empty buckets left out. */
export function influxQL(q: CandleQuery): string {
  return (
    `SELECT first("price") AS "open", max("price") AS "high", min("price") AS "low", last("price") AS "close", ` +
    `sum("size") AS "volume", count("price") AS "trades" FROM ${quoteIdent(q.measurement)} ` +
    `WHERE "symbol" = ${quoteString(q.symbol)} AND time >= ${q.fromMs}ms AND time < ${q.toMs}ms ` +
    `GROUP BY time(${q.intervalMs}ms) fill(none)`
  )
}

/**
 * Flux for InfluxDB 2.x: the symbol's series merged, sorted, windowed, and folded with reduce()
 * in time order into open/high/low/close/volume/trades. Windows start at the epoch like InfluxQL's.
 */
export function flux(q: CandleQuery, bucket: string): string {
  return `from(bucket: ${fluxString(bucket)})
  |> range(start: time(v: ${fluxString(new Date(q.fromMs).toISOString())}), stop: time(v: ${fluxString(new Date(q.toMs).toISOString())}))
  |> filter(fn: (r) => r._measurement == ${fluxString(q.measurement)} and r.symbol == ${fluxString(q.symbol)} and (r._field == "price" or r._field == "size"))
  |> pivot(rowKey: ["_time"], columnKey: ["_field"], valueColumn: "_value")
  |> group()
  |> sort(columns: ["_time"])
  |> window(every: ${q.intervalMs}ms, createEmpty: false)
  |> reduce(
      identity: {open: 0.0, high: 0.0, low: 0.0, close: 0.0, volume: 0, trades: 0},
      fn: (r, accumulator) => ({
        open: if accumulator.trades == 0 then r.price else accumulator.open,
        high: if accumulator.trades == 0 or r.price > accumulator.high then r.price else accumulator.high,
        low: if accumulator.trades == 0 or r.price < accumulator.low then r.price else accumulator.low,
        close: r.price,
        volume: accumulator.volume + r.size,
        trades: accumulator.trades + 1,
      }),
    )
  |> map(fn: (r) => ({r with _time: r._start}))
  |> group()
  |> sort(columns: ["_time"])`
}

/** Prices from the database as exact units; a value off the tick grid is kept as-is so it shows. */
function units(price: number, decimals: number): number {
  const scaled = price * 10 ** decimals
  const r = Math.round(scaled)
  return Math.abs(scaled - r) < 1e-6 ? r : scaled
}

/**
 * A time from an InfluxQL answer in ms: a number (1.x with epoch=ms) or an RFC 3339 string (InfluxDB
 * 3's query_influxql, which may leave out the zone: it is UTC).
 */
function influxQLTimeMs(t: unknown): number {
  if (typeof t === 'number') return t
  const s = String(t)
  return Date.parse(/(Z|[+-]\d\d:?\d\d)$/.test(s) ? s : `${s}Z`)
}

/**
 * Reads candles and counts from the configured InfluxDB: InfluxQL on 1.x and 3.x (InfluxDB 3 has
 * no Flux: its /api/v3/query_influxql answers InfluxQL in 1.x's JSON shape), Flux on 2.x. Opened once
 * per request or verification, so a verification of many symbols reuses one client and its
 * keep-alive connection instead of opening one per symbol.
 */
export class CandleReader {
  private readonly v1: InfluxV1Client | undefined
  private readonly v3: InfluxV3Client | undefined
  private readonly v2: { query: ReturnType<InfluxDB['getQueryApi']>; bucket: string; checked: Promise<void> } | undefined

  constructor(sink: SinkConfig) {
    const s = requireInflux(sink)
    if (s.kind === 'influx-v1') this.v1 = new InfluxV1Client(s, 1)
    else if (s.kind === 'influx-v3') this.v3 = new InfluxV3Client(s, 1)
    else {
      // an InfluxDB 3 has no Flux: say so once, before the first query fails obscurely
      const checked = v2SpeaksFlux(s.url, s.timeoutMs)
      checked.catch(() => {})
      this.v2 = { query: new InfluxDB({ url: s.url, token: s.token, timeout: s.timeoutMs }).getQueryApi(s.org), bucket: s.bucket, checked }
    }
  }

  /** InfluxQL on 1.x (epoch ms) or 3.x. */
  private influxQL(q: string): Promise<InfluxQLResult> {
    return asRead(this.v1 ? this.v1.query(q, 'GET', 'ms') : this.v3!.query(q))
  }

  /** Flux on 2.x, once the server is known to speak it. */
  private async flux(query: string): Promise<Record<string, unknown>[]> {
    await this.v2!.checked
    return asRead(this.v2!.query.collectRows<Record<string, unknown>>(query))
  }

  /**
   * Candles computed by InfluxDB itself, window after window of at most CANDLES_PER_QUERY, in
   * time order: a caller that handles each window in turn holds one window, whatever the range.
   */
  async *candleWindows(q: CandleQuery, decimals: number): AsyncGenerator<ExactCandle[]> {
    // READ_AHEAD queries in flight: the server computes the next window while this one is used
    // (influxd 1.6 takes ~90 ms per 5,000 one-minute candles, whatever the caller does meanwhile).
    const windows = queryWindows(q.fromMs, q.toMs, q.intervalMs)
    const inFlight: Promise<ExactCandle[]>[] = []
    const ask = () => {
      const w = windows.next()
      if (w.done) return
      const p = this.candlesIn({ ...q, fromMs: w.value[0], toMs: w.value[1] }, decimals)
      p.catch(() => {}) // awaited in turn below; a caller that stops early leaves none unhandled
      inFlight.push(p)
    }
    for (let k = 0; k < READ_AHEAD; k++) ask()
    while (inFlight.length > 0) {
      const next = inFlight.shift()!
      ask()
      yield await next
    }
  }

  /** All candles of a range, in time order (read window by window; the caller holds them all). */
  async candles(q: CandleQuery, decimals: number): Promise<ExactCandle[]> {
    const out: ExactCandle[] = []
    for await (const w of this.candleWindows(q, decimals)) for (const c of w) out.push(c)
    return out
  }

  /** One query's candles: the range must span at most CANDLES_PER_QUERY intervals. */
  private async candlesIn(q: CandleQuery, decimals: number): Promise<ExactCandle[]> {
    const toExact = (startMs: number, o: number, h: number, l: number, c: number, v: number, n: number): ExactCandle => ({
      startMs,
      open: units(o, decimals),
      high: units(h, decimals),
      low: units(l, decimals),
      close: units(c, decimals),
      volume: v,
      trades: n,
    })
    if (this.v1 || this.v3) {
      const r = await this.influxQL(influxQL(q))
      const rows = r.results?.[0]?.series?.[0]?.values ?? []
      return rows.map((v) => {
        const [t, o, h, l, c, vol, n] = v as [unknown, number, number, number, number, number, number]
        return toExact(influxQLTimeMs(t), o, h, l, c, vol, n)
      })
    }
    const rows = await this.flux(flux(q, this.v2!.bucket))
    return rows.map((r) =>
      toExact(Date.parse(String(r._time)), Number(r.open), Number(r.high), Number(r.low), Number(r.close), Number(r.volume), Number(r.trades)),
    )
  }

  /** Points per symbol in [from, to): count of trade_id, which every trade has. */
  async counts(measurement: string, fromMs: number, toMs: number): Promise<Map<string, number>> {
    const out = new Map<string, number>()
    if (this.v1 || this.v3) {
      const r = await this.influxQL(`SELECT count("trade_id") FROM ${quoteIdent(measurement)} WHERE time >= ${fromMs}ms AND time < ${toMs}ms GROUP BY "symbol"`)
      for (const series of r.results?.[0]?.series ?? []) out.set(series.tags?.symbol ?? '', Number(series.values[0]?.[1] ?? 0))
      return out
    }
    const query = `from(bucket: ${fluxString(this.v2!.bucket)})
  |> range(start: time(v: ${fluxString(new Date(fromMs).toISOString())}), stop: time(v: ${fluxString(new Date(toMs).toISOString())}))
  |> filter(fn: (r) => r._measurement == ${fluxString(measurement)} and r._field == "trade_id")
  |> group(columns: ["symbol"])
  |> count()`
    const rows = await this.flux(query)
    for (const r of rows) out.set(String(r.symbol), Number(r._value))
    return out
  }

  close(): void {
    this.v1?.close()
    this.v3?.close()
  }
}

/**
 * A failed read under its own code: the clients report a failed query as they report a failed
 * write (WriteError, OHLCV_WRITE_FAILED), and the Flux client with errors of its own. Errors that
 * already say what is wrong in their own terms (a v2 server without Flux) pass unchanged.
 */
async function asRead<T>(p: Promise<T>): Promise<T> {
  try {
    return await p
  } catch (e) {
    if (e instanceof LoadgenError && !(e instanceof WriteError)) throw e
    const message = e instanceof Error ? e.message : String(e)
    throw new ReadError(/^InfluxDB/.test(message) ? message : `InfluxDB query failed: ${message}`, { cause: e })
  }
}
