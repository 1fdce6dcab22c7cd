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
 */
export function deriveStatus (statuses: Iterable<TaskStatus>): DerivedStatus {
  let total = 0
  let error = 0
  let running = 0
  let finished = 0
  let cancelled = 0
  for (const status of statuses) {
    total++
    if (status === 'ERROR') error++
    else if (status === 'STARTED' || status === 'INPROGRESS') running++
    else if (status === 'FINISHED') finished++
    else if (status === 'CANCELLED') cancelled++
  }
  if (total === 0) return 'NEW'
  if (error > 0) return 'ERROR'
  if (running > 0) return 'INPROGRESS'
  if (cancelled === total) return 'CANCELLED'
  if (finished + cancelled === total) return 'FINISHED'
  if (finished > 0) return 'INPROGRESS'
  return 'NEW'
}
