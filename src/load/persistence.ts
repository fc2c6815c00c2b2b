import type { Logger } from 'pino'
import { loadSummary, type LoadSummary } from '../model/summary.js'
import { InvalidRequestError, LoadDamagedError, LoadNotResumableError, OtherSinkError, StoreError } from '../errors.js'
import { DATASET_FORMAT } from '../market/dataset.js'
import { planLoad } from '../plan/plan.js'
import type { LoadSpec } from '../model/request.js'
import type { LoadRecord, LoadStore } from '../store/loadStore.js'
import { interruptedShards } from '../store/recover.js'
import { overlapWarnings, type EarlierLoad } from './overlap.js'
import { describeBlocker, resumeBlocker } from './resumable.js'
import type { LoadRun } from './run.js'
import type { TimelineView } from '../model/timeline.js'

/** A page of GET /loads. */
export interface HistoryQuery {
  limit: number
  before?: string | undefined
  status?: string | undefined
}

/** A running load's timeline is written this often (and when it ends): a few kB, not every checkpoint. */
const TIMELINE_EVERY_MS = 5000

/** Makes a LoadRun of the coordinator's (its sink, pool, breaker) for a stored load. */
type NewRun = (id: string, spec: LoadSpec, createdAt?: Date, timeline?: TimelineView) => LoadRun

/**
 * The coordinator's loads in the load store: each load written as it goes, read back as a LoadRun
 * (interrupted if a former process left it running), and the store's history asked about overlaps.
 * A store that cannot be written never stops a load (see save()).
 */
export class LoadPersistence {
  private lastStoreError = 0
  private checkpoints: NodeJS.Timeout | undefined
  private running: () => Iterable<LoadRun> = () => []
  private readonly timelineSaved = new WeakMap<LoadRun, number>()
  /** where stored loads wrote, when not to this coordinator's sink */
  private readonly sinkViews = new WeakMap<LoadRun, Record<string, string>>()

  constructor(
    readonly store: LoadStore,
    /** this coordinator's sink, secrets masked */
    private readonly sinkView: Record<string, string>,
    private readonly log: Logger,
    /** loads the store keeps at most */
    private readonly history: number,
  ) {}

  /** Writes the `running()` loads' progress every `ms` (what a crash may lose at most). */
  checkpointEvery(ms: number, running: () => Iterable<LoadRun>): void {
    this.running = running
    this.checkpoints = setInterval(() => this.checkpoint(), ms)
    this.checkpoints.unref()
  }

  /** Writes every running load's progress since the last time: one small transaction per load. */
  checkpoint(): void {
    for (const load of this.running()) this.save(load)
  }

  /** Stops writing to the store and closes it (after every account is final). */
  close(): void {
    clearInterval(this.checkpoints)
    this.checkpoint()
    this.store.close()
  }

  /** A new load, recorded before it starts: a store that cannot be written refuses the load, never half-starts it. */
  insert(load: LoadRun): void {
    try {
      this.store.insert(this.record(load))
    } catch (e) {
      throw new StoreError(this.store.path, `cannot be written (${(e as Error).message}): the load was not started`, false)
    }
  }

  /**
   * A page of the store's history, newest first, each load in brief (`live(id)`: as it is now).
   * `before` must name a stored load.
   */
  page(q: HistoryQuery, live: (id: string) => LoadRun | undefined): { loads: LoadSummary[]; more: boolean } {
    const rows = this.store.page({ ...q, limit: q.limit + 1 })
    if (!rows) throw new InvalidRequestError('querystring.before', `no load with id ${JSON.stringify(q.before)} (it may have been forgotten: start from the first page)`)
    const page = rows.slice(0, q.limit).map((r) => {
      const load = live(r.id)
      return load ? loadSummary(load) : r.summary
    })
    return { loads: page, more: rows.length > q.limit }
  }

  /** What the store says against resuming load `id`: another dataset format, another sink. */
  checkResumable(id: string): void {
    const stored = this.store.get(id)
    if (!stored) return
    const blocker = resumeBlocker({ dataset: { format: stored.dataset, symbols: stored.spec.symbols.length } })
    if (blocker) throw new LoadNotResumableError(describeBlocker(id, blocker))
    this.sameSink(stored, 'resume')
  }

  /** Refuses to `what` stored load `id` if it wrote to another sink than this coordinator's. */
  checkSameSink(id: string, what: string): void {
    const stored = this.store.get(id)
    if (stored) this.sameSink(stored, what)
  }

  /** Where a stored load wrote (secrets masked); this coordinator's sink for others. */
  sinkOf(load: LoadRun): Record<string, string> {
    return this.sinkViews.get(load) ?? this.sinkView
  }

  /**
   * Records the load and what changed of its shards. A store that cannot be written (a full disk)
   * does not stop the load: its account stays exact in memory and in the API; the log says, at
   * most every 10 s, that a crash now would lose more than a moment. What failed is written again
   * next time (the changed shards are taken only once written).
   */
  save(load: LoadRun, shardsOnly = false): void {
    const rows = load.feed.takeChangedShards()
    try {
      if (shardsOnly) this.store.saveShards(load.id, rows)
      else this.store.save(this.record(load), rows)
    } catch (err) {
      load.feed.keepChangedShards(rows)
      const now = Date.now()
      if (now - this.lastStoreError > 10_000) {
        this.lastStoreError = now
        this.log.error({ err, loadId: load.id, store: this.store.path }, 'cannot write the load store: loads go on, but a crash now would lose their progress since the last write')
      }
    }
  }

  /** The load as the store keeps it (its timeline at most every few seconds while it runs). */
  record(load: LoadRun): LoadRecord {
    const result = load.getResult()
    const now = Date.now()
    const withTimeline = result !== undefined || now - (this.timelineSaved.get(load) ?? 0) >= TIMELINE_EVERY_MS
    if (withTimeline) this.timelineSaved.set(load, now)
    return {
      id: load.id,
      status: load.status,
      spec: load.spec,
      dataset: DATASET_FORMAT,
      sink: this.sinkOf(load),
      account: load.account(),
      error: load.error,
      result,
      attempts: [...load.attempts],
      currentAttempt: result ? undefined : load.feed.attemptSoFar(),
      summary: loadSummary(load),
      timeline: withTimeline ? load.timeline.view() : undefined,
      resumes: load.resumes,
      createdAt: load.createdAt.toISOString(),
      startedAt: load.startedAt?.toISOString(),
      finishedAt: load.finishedAt?.toISOString(),
      updatedAt: new Date().toISOString(),
    }
  }

  /** A stored load as a LoadRun: its plan, shard results and outcome (interrupted if it was running). */
  restore(rec: LoadRecord, newRun: NewRun): LoadRun {
    const load = newRun(rec.id, rec.spec, new Date(rec.createdAt), rec.timeline)
    if (JSON.stringify(rec.sink) !== JSON.stringify(this.sinkView)) this.sinkViews.set(load, rec.sink)
    const rows = this.store.shards(rec.id)
    const plan = rows.some((r) => r.status === 'running') ? planLoad(rec.spec) : undefined
    const planned = (shard: number) => {
      let n = 0
      for (let j = 0; j < rec.spec.symbols.length; j++) n += plan!.seriesCount(j, shard).count
      return n
    }
    load.restore(interruptedShards(rows, planned))
    load.restoreAttempts(rec.attempts)
    load.restoreOutcome({
      status: rec.status,
      startedAt: rec.startedAt,
      finishedAt: rec.status === 'running' || rec.status === 'queued' ? rec.updatedAt : rec.finishedAt,
      resumes: rec.resumes,
      error: rec.error,
      result: rec.result,
      cutShort: rec.currentAttempt,
      interruption: {
        code: 'OHLCV_INTERRUPTED',
        message: `the coordinator stopped while this load ran (last recorded ${rec.updatedAt}): the account is as recorded then, and the database may hold more; POST /loads/${rec.id}/resume completes it`,
      },
    })
    return load
  }

  /**
   * Loads a former process left running or queued become `interrupted`, with the account as last
   * recorded, ready to resume.
   */
  recover(newRun: NewRun): void {
    for (const id of this.store.unfinished()) {
      let rec: LoadRecord | undefined
      let load: LoadRun
      try {
        rec = this.store.get(id)
        if (!rec) continue
        load = this.restore(rec, newRun)
      } catch (err) {
        // One damaged record must not keep the coordinator from starting: it stays as stored, listed as damaged.
        if (!(err instanceof LoadDamagedError)) throw err
        this.log.error({ loadId: id, err }, err.message)
        continue
      }
      this.store.save(this.record(load), load.feed.takeChangedShards())
      this.log.warn({ loadId: rec.id, account: load.account(), lastRecorded: rec.updatedAt }, 'load interrupted: the coordinator stopped while it ran; POST /loads/:id/resume completes it')
    }
  }

  private sameSink(rec: LoadRecord, what: string): void {
    if (JSON.stringify(rec.sink) !== JSON.stringify(this.sinkView)) throw new OtherSinkError(rec.id, what, rec.sink, this.sinkView)
  }

  /**
   * Earlier loads in the store whose measurement and range this one's overlap on this coordinator's
   * sink, each as one warning line (overlap.ts): verify of either would count both.
   */
  overlaps(spec: LoadSpec): string[] {
    let listed: ReturnType<LoadStore['page']>
    try {
      listed = this.store.page({ limit: this.history })
    } catch {
      return [] // a store that cannot be read: start() says so, with its own code
    }
    const candidates = (listed ?? []).filter(
      (l) => !l.summary.damaged && l.summary.request.measurement === spec.measurement && Date.parse(l.summary.request.from) < spec.toMs && spec.fromMs < Date.parse(l.summary.request.to),
    )
    const earlier: EarlierLoad[] = []
    for (const c of candidates.slice(0, 20)) {
      let sink: Record<string, string> | undefined
      try {
        sink = this.store.get(c.id)?.sink
      } catch {
        continue // a damaged row: listed as such elsewhere
      }
      if (sink) earlier.push({ id: c.id, status: c.summary.status, seed: c.summary.seed, from: c.summary.request.from, to: c.summary.request.to, measurement: c.summary.request.measurement, sink })
    }
    return overlapWarnings(spec, this.sinkView, earlier)
  }
}
