// The collections of a patient document: exams, workflows, tasks and results. Each lives in the
// document of its patient; a get by id finds that document through the core's index, so callers
// need not know the patient.
import type * as Y from 'yjs'
import { stampsOf } from './core.ts'
import type { LabCore, Writer } from './core.ts'
import { collectionOf, hasEntity, readAll, readEntity } from './entity-map.ts'
import { LabNotFoundError, LabValidationError } from './errors.ts'
import { byPosition, compareText, moveTo, nextPosition } from './positions.ts'
import { TASK_STATUSES, patientDocId } from './schema.ts'
import type {
  Actor, Exam, ExamInput, ExamPatch, PatientCollectionName, Result, ResultInput, Task, TaskInput, TaskKind,
  TaskPatch, TaskStatus, TaskStatusExtra, Workflow, WorkflowInput, WorkflowPatch
} from './schema.ts'
import { deriveStatus } from './status.ts'
import { runOf } from './runs.ts'
import {
  MAX_TEXT_LENGTH, validateExamInput, validateExamPatch, validateResultInput, validateTaskInput, validateTaskPatch,
  validateWorkflowInput, validateWorkflowPatch
} from './validate.ts'
import type { Validation } from './validate.ts'

type Row = Record<string, unknown>
type Stored<T> = Omit<T, 'status'>


function byCreated (a: { createdAt: string, id: string }, b: { createdAt: string, id: string }): number {
  return compareText(a.createdAt, b.createdAt) || compareText(a.id, b.id)
}

function rows<T> (doc: Y.Doc, collection: PatientCollectionName): T[] {
  return readAll(collectionOf(doc, collection)) as T[]
}

function check<T> (checked: Validation<T>): T {
  if (!checked.ok) throw new LabValidationError(checked.error)
  return checked.value
}

/** Task statuses grouped by the exam or workflow they belong to. */
function statusesBy (doc: Y.Doc, field: 'examId' | 'workflowId'): Map<string, TaskStatus[]> {
  const groups = new Map<string, TaskStatus[]>()
  for (const task of rows<Row>(doc, 'tasks')) {
    const key = task[field]
    if (typeof key !== 'string') continue
    const list = groups.get(key) ?? []
    list.push(task.status as TaskStatus)
    groups.set(key, list)
  }
  return groups
}

/** Ranks of workflows in display order: by exam (oldest first), then position. */
function workflowRanks (doc: Y.Doc): Map<string, number> {
  const examRank = new Map(rows<Stored<Exam>>(doc, 'exams').sort(byCreated).map((e, i) => [e.id, i]))
  const workflows = rows<Stored<Workflow>>(doc, 'workflows')
  workflows.sort((a, b) => (examRank.get(a.examId) ?? Infinity) - (examRank.get(b.examId) ?? Infinity) ||
    compareText(a.examId, b.examId) || byPosition(a, b))
  return new Map(workflows.map((w, i) => [w.id, i]))
}

// ---- cascades, inside a write to the patient document ----

function removeTaskTree (w: Writer, taskId: string): void {
  for (const result of rows<Result>(w.doc, 'results')) {
    if (result.taskId === taskId) w.remove('result', 'results', result.id)
  }
  w.remove('task', 'tasks', taskId)
}

function removeWorkflowTree (w: Writer, workflowId: string): void {
  for (const task of rows<Stored<Task>>(w.doc, 'tasks')) {
    if (task.workflowId === workflowId) removeTaskTree(w, task.id)
  }
  w.remove('workflow', 'workflows', workflowId)
}

/** Also removes tasks of the exam whose workflow is already gone (removed on another peer while they were added). */
function removeExamTree (w: Writer, examId: string): void {
  for (const workflow of rows<Stored<Workflow>>(w.doc, 'workflows')) {
    if (workflow.examId === examId) removeWorkflowTree(w, workflow.id)
  }
  for (const task of rows<Stored<Task>>(w.doc, 'tasks')) {
    if (task.examId === examId) removeTaskTree(w, task.id)
  }
  w.remove('exam', 'exams', examId)
}

/** Removes every exam, workflow, task and result of a patient document, each audited. */
export function clearPatientDoc (w: Writer): void {
  for (const id of collectionOf(w.doc, 'results').keys()) w.remove('result', 'results', id)
  for (const id of collectionOf(w.doc, 'tasks').keys()) w.remove('task', 'tasks', id)
  for (const id of collectionOf(w.doc, 'workflows').keys()) w.remove('workflow', 'workflows', id)
  for (const id of collectionOf(w.doc, 'exams').keys()) w.remove('exam', 'exams', id)
}

/** Shared by the four collections: which patient document holds an entity. */
abstract class PatientScoped {
  protected readonly core: LabCore

  constructor (core: LabCore) {
    this.core = core
  }

  /** The patient holding `id` in `collection`, or LabNotFoundError naming `entity`. */
  protected patientOf (collection: PatientCollectionName, entity: string, id: string): string {
    const patientId = this.core.locate(collection, id)
    if (patientId === undefined) throw new LabNotFoundError(entity, id)
    return patientId
  }

  /** The documents a list looks at: the patient's, or every held patient document. */
  protected docs (patientId?: string): Array<Y.Doc> {
    if (patientId === undefined) return this.core.heldPatientDocs().map((p) => p.doc)
    const doc = this.core.patientDoc(patientId)
    return doc === undefined ? [] : [doc]
  }

  /** An explicitly given id must not be in use yet; random ones are not checked. */
  protected newId (collection: PatientCollectionName, entity: string, given: string | undefined): string {
    if (given !== undefined && this.core.locate(collection, given) !== undefined) {
      throw new LabValidationError(`${entity} ${given} already exists`)
    }
    return this.core.newId(given)
  }
}

export class Exams extends PatientScoped {
  /** Exams, oldest first; of one patient if asked. */
  list (filter: { patientId?: string } = {}): Exam[] {
    const exams: Exam[] = []
    for (const doc of this.docs(filter.patientId)) exams.push(...this.read(doc))
    return exams.sort(byCreated)
  }

  get (id: string): Exam | undefined {
    const patientId = this.core.locate('exams', id)
    const doc = patientId === undefined ? undefined : this.core.patientDoc(patientId)
    return doc === undefined ? undefined : this.read(doc, id)[0]
  }

  private read (doc: Y.Doc, id?: string): Exam[] {
    const statuses = statusesBy(doc, 'examId')
    return rows<Stored<Exam>>(doc, 'exams')
      .filter((e) => id === undefined || e.id === id)
      .map((e) => ({ ...e, status: deriveStatus(statuses.get(e.id) ?? []) }))
  }

  private require (id: string): Exam {
    const exam = this.get(id)
    if (exam === undefined) throw new LabNotFoundError('exam', id)
    return exam
  }

  create (input: ExamInput, actor: Actor): Exam {
    const { id: given, patientId, ...fields } = check(validateExamInput(input))
    if (!patientExists(this.core, patientId)) throw new LabNotFoundError('patient', patientId)
    const id = this.newId('exams', 'exam', given)
    this.core.write(patientDocId(patientId), actor, (w) => { this.insert(w, patientId, id, { description: '', ...fields }) })
    return this.require(id)
  }

  /** Adds an exam inside a write to the patient's document (also used to instantiate templates). */
  insert (w: Writer, patientId: string, id: string, fields: { name: string, description: string, indication?: string, autoExportDestinationIds?: string[] }): void {
    w.create('exam', 'exams', id, { id, patientId, ...fields, ...stampsOf(w) })
    this.core.remember('exams', id, patientId)
  }

  update (id: string, patch: ExamPatch, actor: Actor): Exam {
    const patientId = this.patientOf('exams', 'exam', id)
    const changes = check(validateExamPatch(patch))
    this.core.write(patientDocId(patientId), actor, (w) => { w.update('exam', 'exams', id, changes as Row, true) })
    return this.require(id)
  }

  /** Removes the exam with its workflows, tasks and results. */
  remove (id: string, actor: Actor): void {
    const patientId = this.patientOf('exams', 'exam', id)
    this.core.write(patientDocId(patientId), actor, (w) => { removeExamTree(w, id) })
  }
}

export class Workflows extends PatientScoped {
  /** Workflows of an exam in order; of a patient or of all, by exam then order. */
  list (filter: { examId?: string, patientId?: string } = {}): Workflow[] {
    let patientId = filter.patientId
    if (filter.examId !== undefined) {
      patientId = this.core.locate('exams', filter.examId)
      if (patientId === undefined) return []
    }
    const workflows: Workflow[] = []
    for (const doc of this.docs(patientId)) {
      const ranks = workflowRanks(doc)
      workflows.push(...this.read(doc)
        .filter((w) => filter.examId === undefined || w.examId === filter.examId)
        .filter((w) => filter.patientId === undefined || w.patientId === filter.patientId)
        .sort((a, b) => (ranks.get(a.id) ?? 0) - (ranks.get(b.id) ?? 0)))
    }
    return workflows
  }

  get (id: string): Workflow | undefined {
    const patientId = this.core.locate('workflows', id)
    const doc = patientId === undefined ? undefined : this.core.patientDoc(patientId)
    return doc === undefined ? undefined : this.read(doc, id)[0]
  }

  private read (doc: Y.Doc, id?: string): Workflow[] {
    const statuses = statusesBy(doc, 'workflowId')
    return rows<Stored<Workflow>>(doc, 'workflows')
      .filter((w) => id === undefined || w.id === id)
      .map((w) => ({ ...w, status: deriveStatus(statuses.get(w.id) ?? []) }))
  }

  private require (id: string): Workflow {
    const workflow = this.get(id)
    if (workflow === undefined) throw new LabNotFoundError('workflow', id)
    return workflow
  }

  /** Adds a workflow at the end of its exam. */
  create (input: WorkflowInput, actor: Actor): Workflow {
    const { id: given, examId, ...fields } = check(validateWorkflowInput(input))
    const patientId = this.patientOf('exams', 'exam', examId)
    const id = this.newId('workflows', 'workflow', given)
    this.core.write(patientDocId(patientId), actor, (w) => {
      this.insert(w, { id: examId, patientId }, id, { description: '', ...fields })
    })
    return this.require(id)
  }

  /** Adds a workflow at the end of its exam, inside a write to the patient's document. */
  insert (w: Writer, exam: { id: string, patientId: string }, id: string, fields: { name: string, description: string }): void {
    const siblings = rows<Stored<Workflow>>(w.doc, 'workflows').filter((s) => s.examId === exam.id)
    w.create('workflow', 'workflows', id, {
      id, examId: exam.id, patientId: exam.patientId, ...fields, position: nextPosition(siblings), ...stampsOf(w)
    })
    this.core.remember('workflows', id, exam.patientId)
  }

  update (id: string, patch: WorkflowPatch, actor: Actor): Workflow {
    const patientId = this.patientOf('workflows', 'workflow', id)
    const changes = check(validateWorkflowPatch(patch))
    this.core.write(patientDocId(patientId), actor, (w) => { w.update('workflow', 'workflows', id, changes as Row, true) })
    return this.require(id)
  }

  /** Puts the workflow at `index` (0-based) among its exam's workflows. */
  move (id: string, index: number, actor: Actor): Workflow {
    const current = this.require(id)
    this.core.write(patientDocId(current.patientId), actor, (w) => {
      const siblings = rows<Stored<Workflow>>(w.doc, 'workflows').filter((s) => s.examId === current.examId).sort(byPosition)
      moveTo(w, 'workflow', 'workflows', siblings, id, index)
    })
    return this.require(id)
  }

  /** Removes the workflow with its tasks and their results. */
  remove (id: string, actor: Actor): void {
    const patientId = this.patientOf('workflows', 'workflow', id)
    this.core.write(patientDocId(patientId), actor, (w) => { removeWorkflowTree(w, id) })
  }
}

/**
 * What setStatus writes besides the status: the milestones of a run. `input` is the task a
 * reconstruction or processing reads, if it has one.
 */
function milestones (current: Task, status: TaskStatus, at: string, by: string, extra: TaskStatusExtra, input: Task | undefined): Row {
  // The input's run this task reads, noted when it starts and again when it takes its input (a task
  // started before its input ran reads the run that comes): a newer input makes it stale (runs.ts).
  const inputRun = input === undefined ? {} : { inputRun: runOf(input) }
  switch (status) {
    case 'NEW':
    case 'UPDATED':
      return { startedAt: null, startedBy: null, finishedAt: null, error: null }
    case 'STARTED':
      // who started the run: the operator the images name. Two peers starting the same task while
      // apart both count the same next run, and the merge keeps one: it is one run on the scanner.
      return { startedAt: at, startedBy: by, finishedAt: null, error: null, run: runOf(current) + 1, ...inputRun }
    case 'INPROGRESS':
      return { startedAt: current.startedAt ?? at, finishedAt: null, error: null, ...inputRun }
    case 'FINISHED':
    case 'CANCELLED':
      return { finishedAt: at, error: null }
    case 'ERROR':
      return { finishedAt: at, error: extra.error ?? null }
  }
}

export class Tasks extends PatientScoped {
  /** Tasks of a workflow in order; of an exam, a patient or all, by workflow then order. */
  list (filter: { workflowId?: string, examId?: string, patientId?: string } = {}): Task[] {
    let patientId = filter.patientId
    if (filter.workflowId !== undefined) {
      patientId = this.core.locate('workflows', filter.workflowId)
      if (patientId === undefined) return []
    } else if (filter.examId !== undefined) {
      patientId = this.core.locate('exams', filter.examId)
      if (patientId === undefined) return []
    }
    const tasks: Task[] = []
    for (const doc of this.docs(patientId)) {
      const ranks = workflowRanks(doc)
      tasks.push(...rows<Task>(doc, 'tasks')
        .filter((t) => filter.workflowId === undefined || t.workflowId === filter.workflowId)
        .filter((t) => filter.examId === undefined || t.examId === filter.examId)
        .filter((t) => filter.patientId === undefined || t.patientId === filter.patientId)
        .sort((a, b) => (ranks.get(a.workflowId) ?? Infinity) - (ranks.get(b.workflowId) ?? Infinity) ||
          compareText(a.workflowId, b.workflowId) || byPosition(a, b)))
    }
    return tasks
  }

  get (id: string): Task | undefined {
    const patientId = this.core.locate('tasks', id)
    const doc = patientId === undefined ? undefined : this.core.patientDoc(patientId)
    return doc === undefined ? undefined : readEntity(collectionOf(doc, 'tasks'), id) as Task | undefined
  }

  private require (id: string): Task {
    const task = this.get(id)
    if (task === undefined) throw new LabNotFoundError('task', id)
    return task
  }

  /** Adds a task at the end of its workflow, with status NEW. */
  create (input: TaskInput, actor: Actor): Task {
    const value = check(validateTaskInput(input))
    const patientId = this.patientOf('workflows', 'workflow', value.workflowId)
    const workflow = readEntity(collectionOf(this.core.patientDoc(patientId) as Y.Doc, 'workflows'), value.workflowId) as Stored<Workflow>
    const id = this.newId('tasks', 'task', value.id)
    this.core.write(patientDocId(patientId), actor, (w) => {
      this.insert(w, workflow, id, { name: value.name, description: value.description ?? '', ...kindOf(value) })
    })
    return this.require(id)
  }

  /** Adds a task at the end of its workflow, inside a write to the patient's document. */
  insert (w: Writer, workflow: { id: string, examId: string, patientId: string }, id: string, fields: { name: string, description: string } & TaskKind): void {
    const siblings = rows<Stored<Task>>(w.doc, 'tasks').filter((s) => s.workflowId === workflow.id)
    w.create('task', 'tasks', id, {
      id,
      workflowId: workflow.id,
      examId: workflow.examId,
      patientId: workflow.patientId,
      type: fields.type,
      name: fields.name,
      description: fields.description,
      parameters: fields.parameters,
      position: nextPosition(siblings),
      status: 'NEW',
      ...stampsOf(w)
    })
    this.core.remember('tasks', id, workflow.patientId)
  }

  /** Changes name, description or parameters (merged key by key; null clears one). */
  update (id: string, patch: TaskPatch, actor: Actor): Task {
    const current = this.require(id)
    const changes = check(validateTaskPatch(patch, current))
    this.core.write(patientDocId(current.patientId), actor, (w) => { w.update('task', 'tasks', id, changes as Row, true) })
    return this.require(id)
  }

  /** Puts the task at `index` (0-based) among its workflow's tasks. */
  move (id: string, index: number, actor: Actor): Task {
    const current = this.require(id)
    this.core.write(patientDocId(current.patientId), actor, (w) => {
      const siblings = rows<Stored<Task>>(w.doc, 'tasks').filter((s) => s.workflowId === current.workflowId).sort(byPosition)
      moveTo(w, 'task', 'tasks', siblings, id, index)
    })
    return this.require(id)
  }

  /**
   * Records a milestone: STARTED sets startedAt and startedBy; FINISHED, CANCELLED and ERROR set finishedAt (ERROR
   * with its message); NEW and UPDATED clear them for another run. Setting the current status again
   * writes nothing: progress in between travels as presence, not in the document.
   */
  setStatus (id: string, status: TaskStatus, actor: Actor, extra: TaskStatusExtra = {}): Task {
    if (!(TASK_STATUSES as readonly string[]).includes(status)) {
      throw new LabValidationError(`status must be one of ${TASK_STATUSES.join(', ')}`)
    }
    if (extra.error !== undefined) {
      if (status !== 'ERROR') throw new LabValidationError('error can only be given with status ERROR')
      if (typeof extra.error !== 'string' || extra.error.length > MAX_TEXT_LENGTH) {
        throw new LabValidationError(`error must be a string of at most ${MAX_TEXT_LENGTH} characters`)
      }
    }
    const current = this.require(id)
    if (current.status === status && (extra.error === undefined || extra.error === current.error)) return current
    const inputTaskId = current.type === 'ACQUISITION' ? undefined : current.parameters.inputTaskId
    const input = inputTaskId === undefined ? undefined : this.get(inputTaskId)
    this.core.write(patientDocId(current.patientId), actor, (w) => {
      w.update('task', 'tasks', id, { status, ...milestones(current, status, w.at, w.actor.name, extra, input) }, true)
    })
    return this.require(id)
  }

  /** Removes the task with its results. */
  remove (id: string, actor: Actor): void {
    const patientId = this.patientOf('tasks', 'task', id)
    this.core.write(patientDocId(patientId), actor, (w) => { removeTaskTree(w, id) })
  }
}

function kindOf (value: TaskKind): TaskKind {
  return { type: value.type, parameters: value.parameters } as TaskKind
}

export class Results extends PatientScoped {
  /** Results, oldest first; of a task or a patient if asked. */
  list (filter: { taskId?: string, patientId?: string } = {}): Result[] {
    let patientId = filter.patientId
    if (filter.taskId !== undefined) {
      patientId = this.core.locate('tasks', filter.taskId)
      if (patientId === undefined) return []
    }
    const results: Result[] = []
    for (const doc of this.docs(patientId)) {
      results.push(...rows<Result>(doc, 'results')
        .filter((r) => filter.taskId === undefined || r.taskId === filter.taskId)
        .filter((r) => filter.patientId === undefined || r.patientId === filter.patientId))
    }
    return results.sort(byCreated)
  }

  get (id: string): Result | undefined {
    const patientId = this.core.locate('results', id)
    const doc = patientId === undefined ? undefined : this.core.patientDoc(patientId)
    return doc === undefined ? undefined : readEntity(collectionOf(doc, 'results'), id) as Result | undefined
  }

  /** Records a result of a task. Results are not updated: a new run gives a new result. */
  create (input: ResultInput, actor: Actor): Result {
    const { id: given, taskId, run: givenRun, ...fields } = check(validateResultInput(input))
    const patientId = this.patientOf('tasks', 'task', taskId)
    const id = this.newId('results', 'result', given)
    // a result belongs to the run of its task that is current when it is recorded, unless told otherwise
    const doc = this.core.patientDoc(patientId)
    const task = doc === undefined ? undefined : readEntity(collectionOf(doc, 'tasks'), taskId) as Task | undefined
    const run = givenRun ?? Math.max(1, task === undefined ? 1 : runOf(task))
    this.core.write(patientDocId(patientId), actor, (w) => {
      w.create('result', 'results', id, { id, taskId, patientId, ...fields, run, createdAt: w.at, createdBy: w.actor.name })
      this.core.remember('results', id, patientId)
    })
    const result = this.get(id)
    if (result === undefined) throw new LabNotFoundError('result', id)
    return result
  }

  remove (id: string, actor: Actor): void {
    const patientId = this.patientOf('results', 'result', id)
    this.core.write(patientDocId(patientId), actor, (w) => { w.remove('result', 'results', id) })
  }
}

/** Whether the lab document holds a patient record (exams need one). */
export function patientExists (core: LabCore, patientId: string): boolean {
  return hasEntity(collectionOf(core.labDoc(), 'patients'), patientId)
}
