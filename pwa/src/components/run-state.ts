// What the app says about runs beyond a task's own status: the note beside an exam's or workflow's
// derived status (its cancelled and failed tasks), and whether a reconstruction's images are older
// than its acquisition's raw data (protocol/lab/runs.ts).
import { isStale, statusNote } from '../../../protocol/lab/index.ts'
import type { Lab, Task } from '../../../protocol/lab/index.ts'

/** "1 cancelled", "2 failed, 1 cancelled" or '' for an exam's tasks. */
export function examNote (lab: Lab, examId: string): string {
  return statusNote(lab.tasks.list({ examId }).map((t) => t.status))
}

/** The same for a workflow's tasks. */
export function workflowNote (lab: Lab, workflowId: string): string {
  return statusNote(lab.tasks.list({ workflowId }).map((t) => t.status))
}

/** The input a finished reconstruction or processing read, when it has newer data since; else undefined. */
export function staleInput (lab: Lab, task: Task): Task | undefined {
  if (task.type === 'ACQUISITION') return undefined
  const inputTaskId = task.parameters.inputTaskId
  const input = inputTaskId === undefined ? undefined : lab.tasks.get(inputTaskId)
  if (input === undefined) return undefined
  return isStale(task, input, lab.results.list({ taskId: input.id })) ? input : undefined
}

/** The note of a task's badge: 'stale' for images older than their raw data, else ''. */
export function taskNote (lab: Lab, task: Task): string {
  return staleInput(lab, task) !== undefined ? 'stale' : ''
}

/** Why a stale task is stale, in words. */
export const STALE_TEXT = 'Stale: the raw data was acquired again'
