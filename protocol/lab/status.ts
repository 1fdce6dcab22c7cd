// Exam and workflow status, derived from their tasks on every read and never stored: a stored
// roll-up would go stale whenever two peers change different tasks of one exam at the same time.
import type { DerivedStatus, TaskStatus } from './schema.ts'

/**
 * The status of an exam or workflow from the statuses of the tasks below it. First rule that
 * matches wins:
 *
 * 1. no tasks                                        → NEW
 * 2. any ERROR                                       → ERROR
 * 3. any STARTED or INPROGRESS                       → INPROGRESS
 * 4. all CANCELLED                                   → CANCELLED
 * 5. all FINISHED or CANCELLED (so one is FINISHED)  → FINISHED
 * 6. some FINISHED, others still NEW or UPDATED      → INPROGRESS (part of the plan has run)
 * 7. otherwise: NEW or UPDATED, perhaps some CANCELLED → NEW (nothing has run yet)
 *
 * A status this peer does not know (written by a newer peer) counts as NEW.
 *
 * The status alone hides tasks that did not run to their end under FINISHED or INPROGRESS (rules 5
 * and 6): statusNote says how many were cancelled or failed, and is shown beside it.
 */
export function deriveStatus (statuses: Iterable<TaskStatus>): DerivedStatus {
  const { total, error, running, finished, cancelled } = countStatuses(statuses)
  if (total === 0) return 'NEW'
  if (error > 0) return 'ERROR'
  if (running > 0) return 'INPROGRESS'
  if (cancelled === total) return 'CANCELLED'
  if (finished + cancelled === total) return 'FINISHED'
  if (finished > 0) return 'INPROGRESS'
  return 'NEW'
}

/** How many tasks have each kind of status. */
export interface StatusCounts {
  total: number
  /** ERROR */
  error: number
  /** STARTED or INPROGRESS */
  running: number
  finished: number
  cancelled: number
}

export function countStatuses (statuses: Iterable<TaskStatus>): StatusCounts {
  const counts: StatusCounts = { total: 0, error: 0, running: 0, finished: 0, cancelled: 0 }
  for (const status of statuses) {
    counts.total++
    if (status === 'ERROR') counts.error++
    else if (status === 'STARTED' || status === 'INPROGRESS') counts.running++
    else if (status === 'FINISHED') counts.finished++
    else if (status === 'CANCELLED') counts.cancelled++
  }
  return counts
}

/**
 * What the derived status leaves unsaid about an exam's or workflow's tasks, for a note beside it:
 * "1 cancelled", "2 failed, 1 cancelled"; empty when the status says it all (every task cancelled,
 * or the only task failed). A workflow whose scan was stopped reads "Finished · 1 cancelled", never
 * a plain "Finished".
 */
export function statusNote (statuses: Iterable<TaskStatus>): string {
  const { total, error, cancelled } = countStatuses(statuses)
  const notes: string[] = []
  if (error > 0 && total > 1) notes.push(`${error} failed`)
  if (cancelled > 0 && cancelled < total) notes.push(`${cancelled} cancelled`)
  return notes.join(', ')
}
