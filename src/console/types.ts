/**
 * The page's own shapes. The API's answers are the model's types (src/model), imported as types
 * only: they reach no Node code, and nothing of them lands in the bundle.
 */
import type { TimelineView } from '../model/timeline.js'
import type { LoadView } from '../model/view.js'

/** What a report embeds (GET /loads/:id/report, run --report). */
export interface ReportData {
  generatedAt: string
  view: LoadView
  timeline: TimelineView
  environment: Record<string, string | number>
}
