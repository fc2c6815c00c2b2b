/**
 * Trading sessions in an exchange's time zone, and the intraday intensity: arrivals only on
 * weekdays between open and close (local wall-clock, so DST is handled), U-shaped within the
 * session: λ(τ) = 0.5 + 2.5·(2τ − 1)², τ ∈ [0, 1] the fraction of the session, i.e. six times
 * busier at the open and close than at midday. Holidays are not modelled.
 *
 * The cumulative intensity Λ(t) counts sessions: each session holds mass 1, so Λ is the number of
 * sessions elapsed since 1970-01-01 (local) plus the U-curve CDF of the current one. Counts per
 * shard come from Λ at shard edges (plan/plan.ts), times inside a shard from `profile`.
 */
import type { SessionSpec } from '../model/request.js'

export const DEFAULT_SESSION: SessionSpec = { open: '09:30', close: '16:00', timeZone: 'America/New_York' }

const DAY_MS = 86_400_000
/** 5-minute buckets: the U-curve is drawn piecewise-linearly at this resolution. */
const BUCKETS_PER_SESSION = 78

/** CDF of the U-shaped intensity over one session, τ ∈ [0, 1] → [0, 1]. */
function sessionCdf(tau: number): number {
  const x = Math.min(1, Math.max(0, tau))
  return 0.75 * (0.5 * x + (5 / 12) * ((2 * x - 1) ** 3 + 1))
}

function minutes(hhmm: string): number {
  const [h = 0, m = 0] = hhmm.split(':').map(Number)
  return h * 60 + m
}

/** Local weekday of a day number (days since 1970-01-01, a Thursday): 0 = Sunday. */
function weekday(day: number): number {
  return (((day + 4) % 7) + 7) % 7
}

function isWeekday(day: number): boolean {
  const w = weekday(day)
  return w >= 1 && w <= 5
}

/** Weekdays in [0, day). */
function weekdaysBefore(day: number): number {
  const weeks = Math.floor(day / 7)
  let n = weeks * 5
  for (let d = weeks * 7; d < day; d++) if (isWeekday(d)) n++
  return n
}

export class SessionCalendar {
  private readonly fmt: Intl.DateTimeFormat
  private readonly openMs: number
  private readonly closeMs: number

  constructor(readonly session: SessionSpec) {
    this.fmt = new Intl.DateTimeFormat('en-US', {
      timeZone: session.timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    })
    this.openMs = minutes(session.open) * 60_000
    this.closeMs = minutes(session.close) * 60_000
  }

  /** Local wall-clock time of an instant, as if it were UTC milliseconds. */
  private wall(ms: number): number {
    const p: Record<string, number> = {}
    for (const part of this.fmt.formatToParts(new Date(ms))) if (part.type !== 'literal') p[part.type] = Number(part.value)
    const sec = Math.floor(ms / 1000) * 1000
    return Date.UTC(p.year!, p.month! - 1, p.day, p.hour, p.minute, p.second) + (ms - sec)
  }

  /** The instant at which the local wall clock shows `wall` (two passes settle DST offsets). */
  private instant(wall: number): number {
    const t1 = wall - (this.wall(wall) - wall)
    return wall - (this.wall(t1) - t1)
  }

  /** [open, close) of the local day `day`, as instants. */
  bounds(day: number): [number, number] {
    return [this.instant(day * DAY_MS + this.openMs), this.instant(day * DAY_MS + this.closeMs)]
  }

  /** Λ(t): sessions elapsed since the local epoch, fractional inside a session. */
  cumulative(ms: number): number {
    const wall = this.wall(ms)
    const day = Math.floor(wall / DAY_MS)
    const base = weekdaysBefore(day)
    if (!isWeekday(day)) return base
    const [open, close] = this.bounds(day)
    return base + sessionCdf((ms - open) / (close - open))
  }

  /** True when `ms` falls inside a session. */
  inSession(ms: number): boolean {
    const day = Math.floor(this.wall(ms) / DAY_MS)
    if (!isWeekday(day)) return false
    const [open, close] = this.bounds(day)
    return ms >= open && ms < close
  }

  /**
   * The arrival CDF inside [startMs, endMs) as breakpoints (ns from startMs) and cumulative mass,
   * normalised to end at 1. Null when the range holds no session time.
   */
  profile(startMs: number, endMs: number): Profile | null {
    const t: number[] = [0]
    const c: number[] = [0]
    let mass = 0
    const first = Math.floor(this.wall(startMs) / DAY_MS)
    const last = Math.floor(this.wall(endMs - 1) / DAY_MS)
    for (let day = first; day <= last; day++) {
      if (!isWeekday(day)) continue
      const [open, close] = this.bounds(day)
      const a = Math.max(open, startMs)
      const b = Math.min(close, endMs)
      if (a >= b) continue
      const len = close - open
      const from = sessionCdf((a - open) / len)
      // breakpoints every bucket inside [a, b], plus a and b themselves
      t.push((a - startMs) * 1e6)
      c.push(mass)
      for (let k = 1; k < BUCKETS_PER_SESSION; k++) {
        const edge = open + (len * k) / BUCKETS_PER_SESSION
        if (edge <= a || edge >= b) continue
        t.push((edge - startMs) * 1e6)
        c.push(mass + sessionCdf(k / BUCKETS_PER_SESSION) - from)
      }
      mass += sessionCdf((b - open) / len) - from
      t.push((b - startMs) * 1e6)
      c.push(mass)
    }
    if (mass <= 0) return null
    t.push((endMs - startMs) * 1e6)
    c.push(mass)
    return normalise(t, c, mass)
  }
}

/** A piecewise-linear CDF: breakpoints `t` (ns offsets, non-decreasing) and mass `c` (0 → 1). */
export interface Profile {
  t: Float64Array
  c: Float64Array
}

export function normalise(t: number[], c: number[], mass: number): Profile {
  return { t: Float64Array.from(t), c: Float64Array.from(c, (x) => x / mass) }
}
