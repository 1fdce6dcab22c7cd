// Exam, workflow and task templates (in the lab document) and their instantiation into a
// patient's document. Templates are collections of their own rather than entities flagged
// `isTemplate` (as in ScanHub): they then stay out of patient documents, and a patient document
// holds only that patient's data.
import { RecordCollection, byName } from './collections.ts'
import { stampsOf } from './core.ts'
import type { LabCore, Writer } from './core.ts'
import { collectionOf, copyJson, hasEntity, readAll } from './entity-map.ts'
import { LabNotFoundError, LabValidationError } from './errors.ts'
import { patientExists } from './patient-collections.ts'
import type { Exams, Tasks, Workflows } from './patient-collections.ts'
import { byPosition, compareText, moveTo, nextPosition } from './positions.ts'
import { LAB_DOC_ID, META, patientDocId } from './schema.ts'
import type {
  Actor, Exam, ExamTemplate, ExamTemplateInput, ExamTemplatePatch, Task, TaskKind, TaskKindInput, TaskTemplate, TaskTemplateInput,
  TaskTemplatePatch, Workflow, WorkflowTemplate, WorkflowTemplateInput, WorkflowTemplatePatch
} from './schema.ts'
import {
  validateExamTemplateInput, validateExamTemplatePatch, validateTaskTemplateInput, validateTaskTemplatePatch,
  validateWorkflowTemplateInput, validateWorkflowTemplatePatch
} from './validate.ts'


function removeTaskTemplatesOf (w: Writer, workflowTemplateId: string): void {
  for (const t of readAll(collectionOf(w.doc, 'taskTemplates')) as unknown as TaskTemplate[]) {
    if (t.workflowTemplateId === workflowTemplateId) w.remove('taskTemplate', 'taskTemplates', t.id)
  }
}

export class ExamTemplates extends RecordCollection<ExamTemplate, ExamTemplateInput, ExamTemplatePatch> {
  constructor (core: LabCore) {
    super(core, {
      entity: 'examTemplate',
      collection: 'examTemplates',
      stamps: 'full',
      validateInput: validateExamTemplateInput,
      validatePatch: validateExamTemplatePatch,
      compare: byName
    })
  }

  /** Its workflow templates and their task templates go with it. */
  protected override removeChildren (w: Writer, id: string): void {
    for (const t of readAll(collectionOf(w.doc, 'workflowTemplates')) as unknown as WorkflowTemplate[]) {
      if (t.examTemplateId !== id) continue
      removeTaskTemplatesOf(w, t.id)
      w.remove('workflowTemplate', 'workflowTemplates', t.id)
    }
  }
}

export class WorkflowTemplates extends RecordCollection<WorkflowTemplate, WorkflowTemplateInput, WorkflowTemplatePatch> {
  constructor (core: LabCore) {
    super(core, {
      entity: 'workflowTemplate',
      collection: 'workflowTemplates',
      stamps: 'full',
      validateInput: validateWorkflowTemplateInput,
      validatePatch: validateWorkflowTemplatePatch,
      compare: (a, b) => compareText(a.examTemplateId ?? '', b.examTemplateId ?? '') || byPosition(a, b)
    })
  }

  /** Of one exam template in order if asked (standalone ones have no examTemplateId). */
  override list (filter: { examTemplateId?: string } = {}): WorkflowTemplate[] {
    const all = super.list()
    return filter.examTemplateId === undefined ? all : all.filter((t) => t.examTemplateId === filter.examTemplateId)
  }

  protected override prepareCreate (w: Writer, _id: string, value: Record<string, unknown>): Record<string, unknown> {
    const parent = value.examTemplateId as string | undefined
    if (parent !== undefined && !hasEntity(collectionOf(w.doc, 'examTemplates'), parent)) {
      throw new LabNotFoundError('examTemplate', parent)
    }
    const siblings = (readAll(collectionOf(w.doc, 'workflowTemplates')) as unknown as WorkflowTemplate[])
      .filter((t) => t.examTemplateId === parent)
    return { position: nextPosition(siblings) }
  }

  protected override removeChildren (w: Writer, id: string): void {
    removeTaskTemplatesOf(w, id)
  }

  /** Puts the template at `index` (0-based) among those of its exam template. */
  move (id: string, index: number, actor: Actor): WorkflowTemplate {
    const current = this.require(id)
    this.core.write(LAB_DOC_ID, actor, (w) => {
      moveTo(w, 'workflowTemplate', 'workflowTemplates', this.list().filter((t) => t.examTemplateId === current.examTemplateId), id, index)
    })
    return this.require(id)
  }
}

export class TaskTemplates extends RecordCollection<TaskTemplate, TaskTemplateInput, TaskTemplatePatch> {
  constructor (core: LabCore) {
    super(core, {
      entity: 'taskTemplate',
      collection: 'taskTemplates',
      stamps: 'full',
      validateInput: validateTaskTemplateInput,
      validatePatch: validateTaskTemplatePatch,
      compare: (a, b) => compareText(a.workflowTemplateId ?? '', b.workflowTemplateId ?? '') || byPosition(a, b)
    })
  }

  /** Of one workflow template in order if asked (standalone ones have no workflowTemplateId). */
  override list (filter: { workflowTemplateId?: string } = {}): TaskTemplate[] {
    const all = super.list()
    return filter.workflowTemplateId === undefined ? all : all.filter((t) => t.workflowTemplateId === filter.workflowTemplateId)
  }

  protected override prepareCreate (w: Writer, _id: string, value: Record<string, unknown>): Record<string, unknown> {
    const parent = value.workflowTemplateId as string | undefined
    if (parent !== undefined && !hasEntity(collectionOf(w.doc, 'workflowTemplates'), parent)) {
      throw new LabNotFoundError('workflowTemplate', parent)
    }
    const siblings = (readAll(collectionOf(w.doc, 'taskTemplates')) as unknown as TaskTemplate[])
      .filter((t) => t.workflowTemplateId === parent)
    return { position: nextPosition(siblings) }
  }

  /** Puts the template at `index` (0-based) among those of its workflow template. */
  move (id: string, index: number, actor: Actor): TaskTemplate {
    const current = this.require(id)
    this.core.write(LAB_DOC_ID, actor, (w) => {
      moveTo(w, 'taskTemplate', 'taskTemplates', this.list().filter((t) => t.workflowTemplateId === current.workflowTemplateId), id, index)
    })
    return this.require(id)
  }
}

export interface TemplateParts {
  core: LabCore
  exams: Exams
  workflows: Workflows
  tasks: Tasks
  examTemplates: ExamTemplates
  workflowTemplates: WorkflowTemplates
  taskTemplates: TaskTemplates
}

/**
 * Deep copies of templates into a patient's document, with new ids, in one transaction. A
 * parameter `inputTaskId` that names a task template copied in the same instantiation is pointed
 * at the copy; one naming a template that was not copied is dropped, as it would name no task.
 */
export class TemplateInstantiator {
  private readonly parts: TemplateParts

  constructor (parts: TemplateParts) {
    this.parts = parts
  }

  /** A new exam from an exam template, with its workflows and tasks. */
  exam (examTemplateId: string, patientId: string, actor: Actor): Exam {
    const { core, exams, examTemplates, workflowTemplates } = this.parts
    const template = examTemplates.get(examTemplateId)
    if (template === undefined) throw new LabNotFoundError('examTemplate', examTemplateId)
    if (!patientExists(core, patientId)) throw new LabNotFoundError('patient', patientId)
    const plan = workflowTemplates.list({ examTemplateId }).map((t) => this.planWorkflow(t))
    const examId = core.newId(undefined)
    const copies = new Map(plan.flatMap((p) => p.tasks.map((t) => [t.template.id, t.id] as const)))
    core.write(patientDocId(patientId), actor, (w) => {
      exams.insert(w, patientId, examId, {
        name: template.name,
        description: template.description,
        indication: template.indication,
        ...(template.autoExportDestinationIds !== undefined ? { autoExportDestinationIds: template.autoExportDestinationIds } : {})
      })
      for (const workflow of plan) this.insertWorkflow(w, { id: examId, patientId }, workflow, copies)
    })
    return this.found(exams.get(examId), 'exam', examId)
  }

  /** A new workflow at the end of an existing exam, with its tasks. */
  workflow (workflowTemplateId: string, examId: string, actor: Actor): Workflow {
    const { core, exams, workflows, workflowTemplates } = this.parts
    const template = workflowTemplates.get(workflowTemplateId)
    if (template === undefined) throw new LabNotFoundError('workflowTemplate', workflowTemplateId)
    const exam = exams.get(examId)
    if (exam === undefined) throw new LabNotFoundError('exam', examId)
    const plan = this.planWorkflow(template)
    const copies = new Map(plan.tasks.map((t) => [t.template.id, t.id] as const))
    core.write(patientDocId(exam.patientId), actor, (w) => { this.insertWorkflow(w, exam, plan, copies) })
    return this.found(workflows.get(plan.id), 'workflow', plan.id)
  }

  /** A new task at the end of an existing workflow. */
  task (taskTemplateId: string, workflowId: string, actor: Actor): Task {
    const { core, workflows, tasks, taskTemplates } = this.parts
    const template = taskTemplates.get(taskTemplateId)
    if (template === undefined) throw new LabNotFoundError('taskTemplate', taskTemplateId)
    const workflow = workflows.get(workflowId)
    if (workflow === undefined) throw new LabNotFoundError('workflow', workflowId)
    const id = core.newId(undefined)
    core.write(patientDocId(workflow.patientId), actor, (w) => {
      tasks.insert(w, workflow, id, this.copyTask(template, new Map()))
    })
    return this.found(tasks.get(id), 'task', id)
  }

  private planWorkflow (template: WorkflowTemplate): { id: string, template: WorkflowTemplate, tasks: Array<{ id: string, template: TaskTemplate }> } {
    const { core, taskTemplates } = this.parts
    return {
      id: core.newId(undefined),
      template,
      tasks: taskTemplates.list({ workflowTemplateId: template.id }).map((t) => ({ id: core.newId(undefined), template: t }))
    }
  }

  private insertWorkflow (
    w: Writer,
    exam: { id: string, patientId: string },
    plan: { id: string, template: WorkflowTemplate, tasks: Array<{ id: string, template: TaskTemplate }> },
    copies: ReadonlyMap<string, string>
  ): void {
    const { workflows, tasks } = this.parts
    workflows.insert(w, exam, plan.id, { name: plan.template.name, description: plan.template.description })
    const workflow = { id: plan.id, examId: exam.id, patientId: exam.patientId }
    for (const task of plan.tasks) tasks.insert(w, workflow, task.id, this.copyTask(task.template, copies))
  }

  private copyTask (template: TaskTemplate, copies: ReadonlyMap<string, string>): { name: string, description: string } & TaskKind {
    const parameters = copyJson(template.parameters) as unknown as Record<string, unknown>
    const input = parameters.inputTaskId
    if (typeof input === 'string') {
      const copy = copies.get(input)
      if (copy !== undefined) parameters.inputTaskId = copy
      else if (this.parts.taskTemplates.get(input) !== undefined) delete parameters.inputTaskId
    }
    const kind = { type: template.type, parameters } as unknown as TaskKind
    return { name: template.name, description: template.description, ...kind }
  }

  private found<T> (value: T | undefined, entity: string, id: string): T {
    if (value === undefined) throw new LabNotFoundError(entity, id)
    return value
  }
}

/**
 * A task template inside an ExamTemplateTree. A reconstruction's `parameters.inputTaskId` names the
 * `id` of an acquisition node of the same tree.
 */
export type TaskTemplateNode = { id: string, name: string, description?: string } & TaskKindInput

export interface WorkflowTemplateNode {
  id: string
  name: string
  description?: string
  tasks: TaskTemplateNode[]
}

/**
 * An exam template with its workflow and task templates as one value: what a lab's starter set holds
 * and what "save as template" makes of an exam. Every node has its id, so that the same tree written
 * by two peers at once converges to one template.
 */
export interface ExamTemplateTree {
  id: string
  name: string
  description?: string
  indication?: string
  autoExportDestinationIds?: string[]
  workflows: WorkflowTemplateNode[]
}

/** A tree the lab starts with, under a stable key recorded in the lab's meta once it was added. */
export interface StarterTemplate {
  key: string
  tree: ExamTemplateTree
}

/** Lab meta key: the keys of the starter templates this lab was given (deleted ones are not given again). */
export const STARTER_TEMPLATES_META = 'starterTemplates'

function valid<T> (checked: { ok: true, value: T } | { ok: false, error: string }, where: string): T {
  if (!checked.ok) throw new LabValidationError(`${where}: ${checked.error}`)
  return checked.value
}

/** The keys of the starter templates recorded in the lab document's meta. */
function seededKeys (w: Writer | LabCore): string[] {
  const doc = 'labDoc' in w ? w.labDoc() : w.doc
  const value = doc.getMap(META).get(STARTER_TEMPLATES_META)
  return Array.isArray(value) ? value.filter((k): k is string => typeof k === 'string') : []
}

/**
 * Whole exam template trees: written in one transaction of the lab document, read back from an
 * exam (Save as template), and the lab's starter set given once.
 */
export class TemplateTrees {
  private readonly parts: TemplateParts

  constructor (parts: TemplateParts) {
    this.parts = parts
  }

  /** Writes the tree as an exam template with its workflow and task templates; everything is checked before anything is written. */
  create (tree: ExamTemplateTree, actor: Actor): ExamTemplate {
    const { core, examTemplates } = this.parts
    core.write(LAB_DOC_ID, actor, (w) => { this.insert(w, tree) })
    const created = examTemplates.get(tree.id)
    if (created === undefined) throw new LabNotFoundError('examTemplate', tree.id)
    return created
  }

  /**
   * The tree of an exam as it stands, with new ids: names, descriptions and every task parameter
   * (sequence and its protocol, device, calibrations, pipeline and options), a reconstruction's
   * input pointed at the copy of its acquisition. Run state and results stay with the exam.
   */
  fromExam (examId: string, name?: string): ExamTemplateTree {
    const { core, exams, workflows, tasks } = this.parts
    const exam = exams.get(examId)
    if (exam === undefined) throw new LabNotFoundError('exam', examId)
    const examWorkflows = workflows.list({ examId })
    const examTasks = examWorkflows.map((w) => tasks.list({ workflowId: w.id }))
    const copies = new Map(examTasks.flat().map((t) => [t.id, core.newId(undefined)] as const))
    return {
      id: core.newId(undefined),
      name: name ?? exam.name,
      description: exam.description,
      ...(exam.indication !== undefined ? { indication: exam.indication } : {}),
      ...(exam.autoExportDestinationIds !== undefined ? { autoExportDestinationIds: [...exam.autoExportDestinationIds] } : {}),
      workflows: examWorkflows.map((workflow, i) => ({
        id: core.newId(undefined),
        name: workflow.name,
        description: workflow.description,
        tasks: examTasks[i].map((task) => {
          const parameters = copyJson(task.parameters) as unknown as Record<string, unknown>
          if (typeof parameters.inputTaskId === 'string') {
            const copy = copies.get(parameters.inputTaskId)
            if (copy !== undefined) parameters.inputTaskId = copy
            else delete parameters.inputTaskId
          }
          return { id: copies.get(task.id) ?? core.newId(undefined), name: task.name, description: task.description, type: task.type, parameters } as unknown as TaskTemplateNode
        })
      }))
    }
  }

  /** Saves an exam as a new exam template (see fromExam). */
  saveExam (examId: string, name: string | undefined, actor: Actor): ExamTemplate {
    return this.create(this.fromExam(examId, name), actor)
  }

  /**
   * Adds the starters this lab has not been given yet, and records their keys in the lab's meta in the
   * same transaction: one deleted by a user is never added again, and a peer that sees another's
   * record adds nothing. Returns the keys added.
   */
  seed (starters: readonly StarterTemplate[], actor: Actor): string[] {
    const { core } = this.parts
    const given = new Set(seededKeys(core))
    const wanted = starters.filter((s) => !given.has(s.key))
    if (wanted.length === 0) return []
    return core.write(LAB_DOC_ID, actor, (w) => {
      const added: string[] = []
      for (const starter of wanted) {
        // written by another peer before its record reached this one: recorded, not written twice
        if (!hasEntity(collectionOf(w.doc, 'examTemplates'), starter.tree.id)) {
          this.insert(w, starter.tree)
          added.push(starter.key)
        }
      }
      const keys = [...new Set([...seededKeys(w), ...wanted.map((s) => s.key)])]
      w.doc.getMap(META).set(STARTER_TEMPLATES_META, keys)
      w.audit('update', 'lab', String(w.doc.getMap(META).get('labId') ?? LAB_DOC_ID), [STARTER_TEMPLATES_META])
      return added
    })
  }

  /** Checks every node, then writes them: Yjs cannot undo half a tree. */
  private insert (w: Writer, tree: ExamTemplateTree): void {
    const ids = [tree.id, ...tree.workflows.flatMap((wf) => [wf.id, ...wf.tasks.map((t) => t.id)])]
    if (new Set(ids).size !== ids.length) throw new LabValidationError(`the template "${tree.name}" uses an id twice`)
    for (const [collection, id] of [['examTemplates', tree.id], ...tree.workflows.flatMap((wf) => [['workflowTemplates', wf.id], ...wf.tasks.map((t) => ['taskTemplates', t.id])])]) {
      if (hasEntity(collectionOf(w.doc, collection), id)) throw new LabValidationError(`a template with id ${id} already exists`)
    }
    const { workflows: nodes, ...examFields } = tree
    const exam = valid(validateExamTemplateInput(examFields), `exam template "${tree.name}"`)
    const acquisitions = new Set(nodes.flatMap((wf) => wf.tasks.filter((t) => t.type === 'ACQUISITION').map((t) => t.id)))
    const workflows = nodes.map((node, position) => {
      const { tasks: taskNodes, ...fields } = node
      const workflow = valid(validateWorkflowTemplateInput({ ...fields, examTemplateId: tree.id }), `workflow template "${node.name}"`)
      const tasks = taskNodes.map((taskNode, taskPosition) => {
        const task = valid(validateTaskTemplateInput({ ...taskNode, workflowTemplateId: node.id }), `task template "${taskNode.name}"`)
        const input = (task.parameters as { inputTaskId?: string }).inputTaskId
        if (task.type !== 'ACQUISITION' && input !== undefined && !acquisitions.has(input)) {
          throw new LabValidationError(`task template "${taskNode.name}": its input ${input} is no acquisition of the template "${tree.name}"`)
        }
        return { ...task, position: taskPosition }
      })
      return { workflow: { ...workflow, position }, tasks }
    })
    const stamps = stampsOf(w)
    w.create('examTemplate', 'examTemplates', tree.id, { ...exam, id: tree.id, ...stamps })
    for (const { workflow, tasks } of workflows) {
      w.create('workflowTemplate', 'workflowTemplates', workflow.id as string, { ...workflow, ...stamps })
      for (const task of tasks) w.create('taskTemplate', 'taskTemplates', task.id as string, { ...task, ...stamps })
    }
  }
}
