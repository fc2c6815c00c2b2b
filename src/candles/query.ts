import { InfluxDB } from '@influxdata/influxdb-client'
import { InvalidRequestError } from '../errors.js'
import { InfluxV1Client, quoteIdent } from '../influx/v1.js'
import type { SinkConfig } from '../sink/target.js'
import type { ExactCandle } from './candle.js'

export interface CandleQuery {
  measurement: string
  symbol: string
  fromMs: number
  toMs: number
  intervalMs: number
}

type InfluxSink = Extract<SinkConfig, { kind: 'influx-v1' | 'influx-v2' }>

export function requireInflux(sink: SinkConfig): InfluxSink {
  if (sink.kind !== 'influx-v1' && sink.kind !== 'influx-v2') {
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
 * Reads candles and counts from the configured InfluxDB: InfluxQL on 1.x, Flux on 2.x. Opened once
 * per request or verification, so a verification of many symbols reuses one client and its
 * keep-alive connection instead of opening one per symbol.
 */
export class CandleReader {
  private readonly v1: InfluxV1Client | undefined
  private readonly v2: { query: ReturnType<InfluxDB['getQueryApi']>; bucket: string } | undefined

  constructor(sink: SinkConfig) {
    const s = requireInflux(sink)
    if (s.kind === 'influx-v1') this.v1 = new InfluxV1Client(s, 1)
    else this.v2 = { query: new InfluxDB({ url: s.url, token: s.token, timeout: s.timeoutMs }).getQueryApi(s.org), bucket: s.bucket }
  }

  /** Candles computed by InfluxDB itself, prices in exact units of 10^-decimals. */
  async candles(q: CandleQuery, decimals: number): Promise<ExactCandle[]> {
    const toExact = (startMs: number, o: number, h: number, l: number, c: number, v: number, n: number): ExactCandle => ({
      startMs,
      open: units(o, decimals),
      high: units(h, decimals),
      low: units(l, decimals),
      close: units(c, decimals),
      volume: v,
      trades: n,
    })
    if (this.v1) {
      const r = await this.v1.query(influxQL(q), 'GET', 'ms')
      const rows = r.results?.[0]?.series?.[0]?.values ?? []
      return rows.map((v) => toExact(...(v as [number, number, number, number, number, number, number])))
    }
    const rows = await this.v2!.query.collectRows<Record<string, unknown>>(flux(q, this.v2!.bucket))
    return rows.map((r) =>
      toExact(Date.parse(String(r._time)), Number(r.open), Number(r.high), Number(r.low), Number(r.close), Number(r.volume), Number(r.trades)),
    )
  }

  /** Points per symbol in [from, to): count of trade_id, which every trade has. */
  async counts(measurement: string, fromMs: number, toMs: number): Promise<Map<string, number>> {
    const out = new Map<string, number>()
    if (this.v1) {
      const r = await this.v1.query(
        `SELECT count("trade_id") FROM ${quoteIdent(measurement)} WHERE time >= ${fromMs}ms AND time < ${toMs}ms GROUP BY "symbol"`,
        'GET',
        'ms',
      )
      for (const series of r.results?.[0]?.series ?? []) out.set(series.tags?.symbol ?? '', Number(series.values[0]?.[1] ?? 0))
      return out
    }
    const query = `from(bucket: ${fluxString(this.v2!.bucket)})
  |> range(start: time(v: ${fluxString(new Date(fromMs).toISOString())}), stop: time(v: ${fluxString(new Date(toMs).toISOString())}))
  |> filter(fn: (r) => r._measurement == ${fluxString(measurement)} and r._field == "trade_id")
  |> group(columns: ["symbol"])
  |> count()`
    const rows = await this.v2!.query.collectRows<Record<string, unknown>>(query)
    for (const r of rows) out.set(String(r.symbol), Number(r._value))
    return out
  }

  close(): void {
    this.v1?.close()
  }
}
