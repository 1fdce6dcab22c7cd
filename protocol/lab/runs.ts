// Runs of a task: a task can be started again, and each start is a new run with its own results.
//
// A task counts its runs (Task.run, one more at each STARTED) and every result carries the run that
// made it (Result.run), so that the results of a second run are told apart from the first's. A
// reconstruction notes which run of its input task it read (Task.inputRun); it is stale when its input
// has a newer result than that, i.e. the raw data was acquired again after it ran.
//
// Staleness is derived on every read, never stored: the acquisition's new run is written by the scanner
// peer and the reconstruction by whichever peer runs it, perhaps while they are apart; a stored "stale"
// flag would need one peer to write into the other's task and could be undone by a merge, whereas two
// run numbers compare the same way on every peer once both changes have arrived.
import type { Result, Task, TaskStatus } from './schema.ts'

/** Statuses a task only has once it was started. */
const RAN: ReadonlySet<TaskStatus> = new Set(['STARTED', 'INPROGRESS', 'FINISHED', 'ERROR', 'CANCELLED'])

/**
 * How many times the task was started. A task that ran before runs were counted (no `run`, but a
 * start, an end or a status only a started task has) counts as one run.
 */
export function runOf (task: Pick<Task, 'run' | 'status' | 'startedAt' | 'finishedAt'>): number {
  if (typeof task.run === 'number') return task.run
  return task.startedAt !== undefined || task.finishedAt !== undefined || RAN.has(task.status) ? 1 : 0
}

/** The run a result belongs to; results older than run counts belong to the first. */
export function resultRun (result: Pick<Result, 'run'>): number {
  return typeof result.run === 'number' && result.run >= 1 ? result.run : 1
}

/** The results of a task grouped by run, the newest run first; within a run, oldest first. */
export function resultsByRun<R extends Pick<Result, 'run' | 'createdAt'>> (results: readonly R[]): Array<{ run: number, results: R[] }> {
  const groups = new Map<number, R[]>()
  for (const result of results) {
    const run = resultRun(result)
    const group = groups.get(run) ?? []
    group.push(result)
    groups.set(run, group)
  }
  return [...groups.entries()]
    .sort(([a], [b]) => b - a)
    .map(([run, group]) => ({ run, results: group.sort((a, b) => a.createdAt < b.createdAt ? -1 : a.createdAt > b.createdAt ? 1 : 0) }))
}

/**
 * The name of a file of a run: the first run keeps the name, a later one gets `-run<N>` before the
 * extension (`FID.mrd`, `FID-run2.mrd`), so that the files of two runs never share a name when saved
 * side by side. A name that already carries its run is left as it is.
 */
export function runFileName (name: string, run: number): string {
  if (run <= 1) return name
  const dot = name.lastIndexOf('.')
  const stem = dot > 0 ? name.slice(0, dot) : name
  const extension = dot > 0 ? name.slice(dot) : ''
  if (stem.endsWith(`-run${run}`)) return name
  return `${stem}-run${run}${extension}`
}

/** The results of the input that a reconstruction or processing reads: an acquisition's raw data, any other task's output. */
function inputResults (input: Pick<Task, 'type'>, results: readonly Result[]): Result[] {
  return input.type === 'ACQUISITION' ? results.filter((r) => r.type === 'RAW') : [...results]
}

/** The newest run of the input task that left data to read, or 0 when none did. */
export function latestInputRun (input: Pick<Task, 'type'>, results: readonly Result[]): number {
  return Math.max(0, ...inputResults(input, results).map(resultRun))
}

/**
 * Whether a finished reconstruction (or processing) shows older data than its input now holds: its
 * input has a result of a run newer than the one it read. A run of the input that was stopped or
 * failed leaves no raw data, so it makes nothing stale. `inputResults` are the input task's results.
 */
export function isStale (task: Pick<Task, 'type' | 'status' | 'inputRun' | 'run' | 'startedAt' | 'finishedAt'>, input: Pick<Task, 'type'> | undefined, results: readonly Result[]): boolean {
  if (task.type === 'ACQUISITION' || task.status !== 'FINISHED' || input === undefined) return false
  // a task that finished before input runs were noted read the input's first run
  const read = typeof task.inputRun === 'number' ? task.inputRun : 1
  return latestInputRun(input, results) > read
}
