import { DATASET_FORMAT, sameDataset } from '../market/dataset.js'
import type { SinkConfig } from '../sink/target.js'
import type { LoadStatus } from '../model/status.js'

/** What is known of a load when asking whether it can be resumed; each part is optional. */
interface ResumeFacts {
  /** its status, when it is a load of this process (or read back from the store) */
  status?: LoadStatus
  /** whether it has its final account (no run in progress) */
  finished?: boolean
  /** where it writes */
  sinkKind?: SinkConfig['kind']
  /** the dataset format it was made with (store, account file), and its number of symbols */
  dataset?: { format: number; symbols: number }
}

/** Why a load cannot be resumed; undefined: it can. */
type ResumeBlocker =
  /** a run of it is queued or in progress */
  | { reason: 'running'; status: LoadStatus }
  /** nothing is left to write */
  | { reason: 'succeeded' }
  /** a file is rewritten whole: there is nothing to skip */
  | { reason: 'file-sink' }
  /** this version generates other bytes: a resume would mix two datasets */
  | { reason: 'other-dataset'; format: number }

/**
 * The one resumability rule: a load that has finished without succeeding, on a sink it can skip
 * into (not a file), made with the dataset this version generates. The first blocker found is
 * returned, in that order; callers word it for their audience (API, CLI, account file).
 */
export function resumeBlocker(f: ResumeFacts): ResumeBlocker | undefined {
  if (f.status !== undefined && f.finished === false) return { reason: 'running', status: f.status }
  if (f.status === 'succeeded') return { reason: 'succeeded' }
  if (f.sinkKind === 'file') return { reason: 'file-sink' }
  if (f.dataset && !sameDataset(f.dataset.format, f.dataset.symbols)) return { reason: 'other-dataset', format: f.dataset.format }
  return undefined
}

/** Whether a load that ended with `status` on a `sinkKind` sink can be resumed (its account file is worth keeping). */
export function canResume(status: LoadStatus, sinkKind: SinkConfig['kind']): boolean {
  return resumeBlocker({ status, finished: true, sinkKind }) === undefined
}

/** A blocker as the coordinator's API says it (LoadNotResumableError's message). */
export function describeBlocker(id: string, b: ResumeBlocker): string {
  switch (b.reason) {
    case 'running':
      return `load ${id} is ${b.status}`
    case 'succeeded':
      return `load ${id} has already succeeded`
    case 'file-sink':
      return 'a file sink cannot be resumed: run the load again'
    case 'other-dataset':
      return `load ${id} was made with dataset format ${b.format} and this version generates format ${DATASET_FORMAT}: resuming would mix two datasets; finish it with the version that started it, or start it again`
  }
}
