import { Type } from 'typebox'

/**
 * A load's statuses, listed once: the type, the API's enum and the store's SQL come from here.
 * `interrupted`: the coordinator stopped (crashed, was killed) while the load ran; it can be resumed.
 */
export const LOAD_STATUSES = ['queued', 'running', 'succeeded', 'failed', 'cancelled', 'interrupted'] as const
export type LoadStatus = (typeof LOAD_STATUSES)[number]

/** The statuses of a load not yet finished: on start, the ones a previous process left behind. */
export const UNFINISHED_STATUSES = ['queued', 'running'] as const satisfies readonly LoadStatus[]

/** A list of statuses as an SQL list: `('queued', 'running')` (they hold no quotes). */
export function sqlList(statuses: readonly LoadStatus[]): string {
  return `(${statuses.map((s) => `'${s}'`).join(', ')})`
}

export const LoadStatusSchema = Type.Unsafe<LoadStatus>({
  type: 'string',
  enum: [...LOAD_STATUSES],
  description: 'interrupted: the coordinator stopped (crashed, was killed) while the load ran; POST /loads/:id/resume completes it',
})
