// The lab model: typed collections over the lab's Yjs documents, reached through a DocSource.
// Reads look at what this peer holds; every write is one transaction per document, with the actor
// as origin and its audit entries inside.
import { mergeAudit, readAudit } from './audit.ts'
import type { AuditQuery, AuditRecord } from './audit.ts'
import { Destinations, Devices, Patients, Sequences, Users } from './collections.ts'
import { LabCore } from './core.ts'
import type { DocSource } from './doc-source.ts'
import { LabValidationError } from './errors.ts'
import { ChangeFeed } from './events.ts'
import type { ChangeListener } from './events.ts'
import { Exams, Results, Tasks, Workflows } from './patient-collections.ts'
import { LAB_DOC_ID, META } from './schema.ts'
import type { Actor, Exam, ExamTemplate, LabInfo, Task, Workflow } from './schema.ts'
import { MIGRATIONS, checkSchema, schemaVersionOf } from './schema-version.ts'
import type { Migration, SchemaState } from './schema-version.ts'
import { ExamTemplates, TaskTemplates, TemplateInstantiator, TemplateTrees, WorkflowTemplates } from './templates.ts'
import type { ExamTemplateTree, StarterTemplate } from './templates.ts'
import { validateId, validateLabName } from './validate.ts'

export interface LabOptions {
  /** Clock for timestamps and for refusing future birth dates; the system clock by default. */
  now?: () => Date
  /** Upgrade path for older documents; MIGRATIONS by default. */
  migrations?: readonly Migration[]
}

export interface DocSchemaStatus {
  docId: string
  state: SchemaState
  version: unknown
}

export class Lab {
  readonly patients: Patients
  readonly exams: Exams
  readonly workflows: Workflows
  readonly tasks: Tasks
  readonly results: Results
  readonly sequences: Sequences
  readonly devices: Devices
  readonly destinations: Destinations
  readonly users: Users
  readonly examTemplates: ExamTemplates
  readonly workflowTemplates: WorkflowTemplates
  readonly taskTemplates: TaskTemplates
  private readonly core: LabCore
  private readonly feed: ChangeFeed
  private readonly instantiator: TemplateInstantiator
  private readonly templateTrees: TemplateTrees

  constructor (docs: DocSource, options: LabOptions = {}) {
    this.core = new LabCore(docs, options.now ?? (() => new Date()), options.migrations ?? MIGRATIONS)
    this.feed = new ChangeFeed(docs)
    this.core.onOpen = (docId, doc) => { this.feed.watch(docId, doc) }
    this.patients = new Patients(this.core)
    this.exams = new Exams(this.core)
    this.workflows = new Workflows(this.core)
    this.tasks = new Tasks(this.core)
    this.results = new Results(this.core)
    this.sequences = new Sequences(this.core)
    this.devices = new Devices(this.core)
    this.destinations = new Destinations(this.core)
    this.users = new Users(this.core)
    this.examTemplates = new ExamTemplates(this.core)
    this.workflowTemplates = new WorkflowTemplates(this.core)
    this.taskTemplates = new TaskTemplates(this.core)
    const templateParts = {
      core: this.core,
      exams: this.exams,
      workflows: this.workflows,
      tasks: this.tasks,
      examTemplates: this.examTemplates,
      workflowTemplates: this.workflowTemplates,
      taskTemplates: this.taskTemplates
    }
    this.instantiator = new TemplateInstantiator(templateParts)
    this.templateTrees = new TemplateTrees(templateParts)
  }

  /** The lab document's meta: schema version, lab id and name, creation time. */
  info (): LabInfo {
    const meta = this.core.labDoc().getMap(META)
    const info: LabInfo = {}
    const schemaVersion = meta.get('schemaVersion')
    const labId = meta.get('labId')
    const labName = meta.get('labName')
    const createdAt = meta.get('createdAt')
    if (typeof schemaVersion === 'number') info.schemaVersion = schemaVersion
    if (typeof labId === 'string') info.labId = labId
    if (typeof labName === 'string') info.labName = labName
    if (typeof createdAt === 'string') info.createdAt = createdAt
    return info
  }

  /**
   * Gives the lab document its id, name and creation time where it has none yet, so every peer
   * may call this at start. Refused if the document already belongs to another lab; an existing
   * name is kept (renameLab changes it).
   */
  initLab (input: { labId: string, labName: string }, actor: Actor): LabInfo {
    const id = validateId(input.labId, 'labId')
    if (!id.ok) throw new LabValidationError(id.error)
    const name = validateLabName(input.labName)
    if (!name.ok) throw new LabValidationError(name.error)
    this.core.write(LAB_DOC_ID, actor, (w) => {
      const meta = w.doc.getMap(META)
      const existing = meta.get('labId')
      if (existing !== undefined && existing !== id.value) {
        throw new LabValidationError(`this lab document belongs to lab ${String(existing)}, not ${id.value}`)
      }
      const fields: string[] = []
      for (const [key, value] of [['labId', id.value], ['labName', name.value], ['createdAt', w.at]] as const) {
        if (meta.get(key) !== undefined) continue
        meta.set(key, value)
        fields.push(key)
      }
      if (fields.length > 0) w.audit(existing === undefined ? 'create' : 'update', 'lab', id.value, fields)
    })
    return this.info()
  }

  renameLab (labName: string, actor: Actor): LabInfo {
    const name = validateLabName(labName)
    if (!name.ok) throw new LabValidationError(name.error)
    this.core.write(LAB_DOC_ID, actor, (w) => {
      const meta = w.doc.getMap(META)
      if (meta.get('labName') === name.value) return
      meta.set('labName', name.value)
      w.audit('update', 'lab', String(meta.get('labId') ?? LAB_DOC_ID), ['labName'])
    })
    return this.info()
  }

  /** A new exam for the patient, deep-copied from an exam template with its workflows and tasks. */
  instantiateExam (examTemplateId: string, patientId: string, actor: Actor): Exam {
    return this.instantiator.exam(examTemplateId, patientId, actor)
  }

  /** A new workflow at the end of the exam, deep-copied from a workflow template with its tasks. */
  instantiateWorkflow (workflowTemplateId: string, examId: string, actor: Actor): Workflow {
    return this.instantiator.workflow(workflowTemplateId, examId, actor)
  }

  /** A new task at the end of the workflow, deep-copied from a task template. */
  instantiateTask (taskTemplateId: string, workflowId: string, actor: Actor): Task {
    return this.instantiator.task(taskTemplateId, workflowId, actor)
  }

  /** A new exam template (with workflow and task templates) made of an exam: its tasks' parameters, without run state or results. */
  saveExamAsTemplate (examId: string, name: string | undefined, actor: Actor): ExamTemplate {
    return this.templateTrees.saveExam(examId, name, actor)
  }

  /** An exam template with its workflow and task templates, written in one transaction. */
  createTemplateTree (tree: ExamTemplateTree, actor: Actor): ExamTemplate {
    return this.templateTrees.create(tree, actor)
  }

  /** Adds the starter templates this lab was never given (recorded in the lab's meta); returns the keys added. */
  seedStarterTemplates (starters: readonly StarterTemplate[], actor: Actor): string[] {
    return this.templateTrees.seed(starters, actor)
  }

  /**
   * The audit entries of every document this peer holds, oldest first; `since` keeps those at or
   * after a time, `limit` the newest that many.
   */
  audit (query: AuditQuery = {}): AuditRecord[] {
    if (query.since !== undefined && Number.isNaN(new Date(query.since).getTime())) {
      throw new LabValidationError('since must be a time')
    }
    if (query.limit !== undefined && (!Number.isSafeInteger(query.limit) || query.limit < 0)) {
      throw new LabValidationError('limit must be a whole number, 0 or more')
    }
    const source = this.core.source
    return mergeAudit(source.ids().map((docId) => ({ docId, entries: readAudit(source.get(docId)) })), query)
  }

  /** The schema state of every held document; 'newer' ones are read-only for this peer. */
  schemaStatus (): DocSchemaStatus[] {
    const source = this.core.source
    return source.ids().map((docId) => {
      const doc = source.get(docId)
      return { docId, state: checkSchema(doc), version: schemaVersionOf(doc) }
    })
  }

  /**
   * Calls `listener` with the id of each held document that changed (locally or by sync), at most
   * once per document per microtask. Returns an unsubscribe.
   */
  onChange (listener: ChangeListener): () => void {
    return this.feed.subscribe(listener)
  }

  /** Stops listening to the documents. The documents themselves belong to the DocSource. */
  destroy (): void {
    this.feed.stop()
  }
}
