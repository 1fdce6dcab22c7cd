// The acquisition view (/patients/:id), the main screen: a sidebar with the patient, the exams as a
// tree exam → workflow → task (type, name, creation date, status with colour, icon and text, a "…"
// menu), what runs now; the right side edits the selected item or shows its results.
import { css, html, nothing } from 'lit'
import { customElement, property, query, state } from 'lit/decorators.js'
import type { Exam, Patient, Result, Task, Workflow } from '../../../protocol/lab/index.ts'
import { SessionElement } from '../app/session-element.ts'
import { sharedStyles } from '../styles/shared.ts'
import { icon } from '../styles/icons.ts'
import { DocumentClickController } from '../components/popover.ts'
import '../components/sh-confirm-dialog.ts'
import { statusBadgeText } from '../components/sh-status-badge.ts'
import '../components/sh-task-form.ts'
import '../components/sh-protocol-editor.ts'
import '../components/sh-run-control.ts'
import '../components/sh-exam-download.ts'
import '../components/sh-send-to-pacs.ts'
import '../components/sh-save-template.ts'
import '../components/sh-history.ts'
import type { ShConfirmDialog } from '../components/sh-confirm-dialog.ts'
import { TASK_FORM_FIELDS } from '../components/sh-task-form.ts'
import type { TaskFormValue } from '../components/sh-task-form.ts'
import { validateExamPatch, validateWorkflowPatch } from '../../../protocol/lab/index.ts'
import { errorsFromMessage, fieldError, fieldErrors, focusFirstField, focusFirstInvalid, formError, invalid } from '../components/form-errors.ts'
import type { FieldErrors, FormField } from '../components/form-errors.ts'
import { loadImageViewer, loadRawViewer } from './load-viewer.ts'
import { examNote, taskNote, workflowNote } from '../components/run-state.ts'
import { resultsByRun, runFileName } from '../../../protocol/lab/index.ts'
import { SEX_LABELS, ageOf, formatDate, formatDateTime, patientName } from './format.ts'

type Selection =
  | { kind: 'none' }
  | { kind: 'exam' | 'workflow' | 'task', id: string, editing: boolean }
  | { kind: 'new-exam' }
  | { kind: 'new-workflow', examId: string }
  | { kind: 'new-task', workflowId: string }

const CALIBRATION_LABELS: Record<string, string> = { FREQUENCY: 'Frequency', FLIP_ANGLE: 'Flip angle', SHIM: 'Shims' }
const TYPE_LABEL: Record<string, string> = { ACQUISITION: 'Acquisition', RECONSTRUCTION: 'Reconstruction', PROCESSING: 'Processing' }

/**
 * A tree row's accessible name: what it is ("Task T1 GRE"), then the words the row shows, in their order,
 * so that a user of speech input can say what they see (WCAG 2.5.3, label in name).
 */
function treeItemLabel (kind: 'Exam' | 'Workflow' | 'Task', name: string, typeLabel: string, createdAt: string, status: string): string {
  return `${kind} ${name}: ${typeLabel} ${name} Created: ${formatDateTime(createdAt)} ${status}`
}

/**
 * The lines of a run's results list: the images of a reconstruction are stored one result per image as
 * they arrive, and are listed as one line (one series, opened in the viewer as a stack); others one each.
 */
function resultLines (results: readonly Result[]): Array<Pick<Result, 'id' | 'type' | 'files' | 'createdAt'>> {
  const dicom = results.filter((r) => r.type === 'DICOM')
  const others = results.filter((r) => r.type !== 'DICOM')
  if (dicom.length === 0) return [...others]
  const newest = dicom.reduce((a, b) => (b.createdAt > a.createdAt ? b : a))
  return [{ id: dicom[0].id, type: 'DICOM', files: dicom.flatMap((r) => r.files), createdAt: newest.createdAt }, ...others]
}

/** The fields of the task form: Name and Description spoken of by their labels; the parameters' messages name their own setting. */
const TASK_FIELDS: ReadonlyArray<string | FormField> = TASK_FORM_FIELDS.map((name) => name === 'name' ? { name, label: 'Name' } : name === 'description' ? { name, label: 'Description' } : name)

/** The fields of the exam and workflow forms, as their labels name them. */
const ENTITY_FIELDS: readonly FormField[] = [
  { name: 'name', label: 'Name', required: true },
  { name: 'description', label: 'Description' },
  { name: 'indication', label: 'Indication' },
  { name: 'accessionNumber', label: 'Accession number' }
]

@customElement('sh-acquisition-view')
export class ShAcquisitionView extends SessionElement {
  static override styles = [sharedStyles, css`
    :host { display: grid; grid-template-columns: 360px 1fr; grid-template-rows: minmax(0, 1fr); height: 100%; min-height: 0; }
    aside { border-right: 1px solid var(--sh-border); background: var(--sh-surface); display: flex; flex-direction: column; min-height: 0; }
    .patient { padding: 16px; border-bottom: 1px solid var(--sh-border); display: flex; flex-direction: column; gap: 6px; }
    .patient h1 { font-size: 18px; }
    .facts { display: grid; grid-template-columns: auto 1fr; gap: 2px 12px; font-size: 13px; }
    .facts dt { color: var(--sh-text-muted); }
    .facts dd { margin: 0; }
    .exams-head { display: flex; align-items: center; gap: 8px; padding: 10px 12px 6px 16px; }
    .exams-head h2 { flex: 1; }
    .tree { flex: 1; overflow: auto; padding: 4px 8px 12px; }
    .row { display: grid; grid-template-columns: 18px 1fr auto auto; align-items: center; gap: 6px; padding: 5px 6px; border-radius: 6px; cursor: pointer; position: relative; }
    .row:hover { background: var(--sh-hover); }
    .start-from { display: flex; flex-direction: column; align-items: flex-start; gap: 6px; }
    .start-from p { margin: 0; }
    .row[aria-selected="true"], .row.selected { background: var(--sh-primary-soft); }
    .row.workflow { margin-left: 16px; }
    .row.task { margin-left: 32px; }
    .row.drop-before { box-shadow: inset 0 2px 0 var(--sh-primary); }
    .row.drop-after { box-shadow: inset 0 -2px 0 var(--sh-primary); }
    .row .what { min-width: 0; display: flex; flex-direction: column; }
    [role="treeitem"]:focus { outline: none; }
    [role="treeitem"]:focus-visible { outline: 2px solid var(--sh-primary); outline-offset: -2px; border-radius: var(--sh-radius); }
    .row .name { font-weight: 600; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
    .row .created { font-size: 11px; color: var(--sh-text-muted); }
    .twisty { border: none; background: none; padding: 0; min-height: 18px; width: 18px; color: var(--sh-text-muted); }
    .grip { color: var(--sh-text-muted); cursor: grab; display: inline-flex; }
    .menu { position: absolute; right: 4px; top: calc(100% - 2px); z-index: 10; background: var(--sh-surface); border: 1px solid var(--sh-border); border-radius: 8px; box-shadow: var(--sh-shadow); padding: 4px; min-width: 220px; display: flex; flex-direction: column; }
    .menu button { justify-content: flex-start; border: none; background: transparent; }
    .menu button:hover { background: var(--sh-hover); }
    .menu hr { border: none; border-top: 1px solid var(--sh-border); margin: 4px 0; width: 100%; }
    .menu .sub { font-size: 11px; color: var(--sh-text-muted); padding: 4px 8px; text-transform: uppercase; }
    sh-run-control { border-top: 1px solid var(--sh-border); }
    section { overflow: auto; padding: 20px; min-width: 0; }
    .pane { max-width: 900px; display: flex; flex-direction: column; gap: 16px; }
    .pane .card { padding: 16px; display: flex; flex-direction: column; gap: 12px; }
    .pane-head { display: flex; align-items: center; gap: 10px; flex-wrap: wrap; }
    .pane-head h2 { flex: 1; }
    dl.details { display: grid; grid-template-columns: 160px 1fr; gap: 6px 12px; margin: 0; }
    dl.details dt { color: var(--sh-text-muted); }
    dl.details dd { margin: 0; }
    .results li { margin: 4px 0; }
    .hint { color: var(--sh-text-muted); padding: 40px; text-align: center; }
    sh-image-viewer { height: 560px; border: 1px solid var(--sh-border); border-radius: 8px; overflow: hidden; }
    dl.details dd { overflow-wrap: anywhere; }
    .pane-actions { display: flex; gap: 8px; flex-wrap: wrap; }
    /* Portrait tablets and phones: patient, tree and details stacked in one scrolling column, never drawn over each other. */
    @media (max-width: 900px) {
      :host { display: flex; flex-direction: column; overflow: auto; }
      aside { flex: none; border-right: none; border-bottom: 1px solid var(--sh-border); }
      .tree { flex: none; overflow: visible; }
      section { flex: none; overflow: visible; padding: 16px 12px; }
    }
    @media (max-width: 600px) { dl.details { grid-template-columns: minmax(0, 9em) minmax(0, 1fr); } }
  `]

  /** the patient shown */
  @property() patientId = ''

  @state() private selection: Selection = { kind: 'none' }
  @state() private collapsed = new Set<string>()
  @state() private menuFor: string | undefined
  @state() private addMenu = false
  @state() private errors: FieldErrors = {}
  @state() private dropTarget: { id: string, after: boolean } | undefined
  /** The tree row that takes the keyboard focus when the tree is tabbed into (one row is in the tab order). */
  @state() private treeFocus: string | undefined
  @query('sh-confirm-dialog') private confirm!: ShConfirmDialog
  private dragTask: Task | undefined

  // closes the open menus on a click elsewhere, or on Escape
  private readonly outsideClicks = new DocumentClickController(this, (event: Event): void => {
    const path = event.composedPath()
    if ((this.menuFor !== undefined || this.addMenu) && !path.some((n) => n instanceof HTMLElement && (n.classList.contains('menu') || n.dataset.menuButton !== undefined))) {
      this.menuFor = undefined
      this.addMenu = false
    }
  }, () => {
    this.menuFor = undefined
    this.addMenu = false
  })

  /** a task named in the address (/patients/<id>?task=<task id>, as the image viewer links back), selected once the lab has it */
  private linkedTask = new URLSearchParams(location.search).get('task') ?? undefined

  protected override willUpdate (changed: Map<PropertyKey, unknown>): void {
    super.willUpdate(changed)
    if (this.linkedTask !== undefined && this.session?.lab?.tasks.get(this.linkedTask)?.patientId === this.patientId) {
      this.selection = { kind: 'task', id: this.linkedTask, editing: false }
      this.linkedTask = undefined
    }
  }

  private select (selection: Selection): void {
    this.selection = selection
    this.errors = {}
    this.menuFor = undefined
    this.addMenu = false
    // a form that opens takes the focus on its first field
    if (selection.kind.startsWith('new-') || ('editing' in selection && selection.editing)) {
      this.updateComplete.then(async () => {
        const taskForm = this.renderRoot.querySelector('sh-task-form')
        await taskForm?.updateComplete
        focusFirstField(taskForm?.shadowRoot ?? this.renderRoot.querySelector('section form'))
      }).catch(() => {})
    }
  }

  /** Runs a change; on a validation error the message goes next to its field. */
  private attempt (fields: ReadonlyArray<string | FormField>, fn: () => void): boolean {
    try {
      fn()
      this.errors = {}
      return true
    } catch (err) {
      this.errors = errorsFromMessage((err as Error).message, fields)
      return false
    }
  }

  private async confirmRemove (kind: 'exam' | 'workflow' | 'task', id: string, name: string): Promise<void> {
    this.menuFor = undefined
    const what = kind === 'exam' ? 'with its workflows, tasks and results' : kind === 'workflow' ? 'with its tasks and results' : 'with its results'
    if (!(await this.confirm.ask(`Delete the ${kind} "${name}" ${what}? This cannot be undone.`))) return
    this.attempt([], () => {
      this.session.write((lab, actor) => {
        if (kind === 'exam') lab.exams.remove(id, actor)
        else if (kind === 'workflow') lab.workflows.remove(id, actor)
        else lab.tasks.remove(id, actor)
      })
    })
    if (this.selection.kind === kind && 'id' in this.selection && this.selection.id === id) this.select({ kind: 'none' })
  }

  // ---- forms ----

  private handleEntitySubmit (event: SubmitEvent): void {
    event.preventDefault()
    const data = new FormData(event.target as HTMLFormElement)
    const name = String(data.get('name') ?? '')
    const description = String(data.get('description') ?? '')
    const indication = String(data.get('indication') ?? '')
    const accessionNumber = String(data.get('accessionNumber') ?? '')
    const sel = this.selection
    // every field's error at once, each under its field; the first wrong field takes the focus
    const isExam = sel.kind === 'new-exam' || sel.kind === 'exam'
    const fields = isExam ? ENTITY_FIELDS : ENTITY_FIELDS.slice(0, 2)
    const errors = fieldErrors(fields, { name, description, indication, accessionNumber }, (field, value) => {
      if (value.trim() === '') return undefined
      const checked = isExam ? validateExamPatch({ [field]: value }) : validateWorkflowPatch({ [field]: value })
      return checked.ok ? undefined : checked.error
    })
    if (Object.keys(errors).length > 0) {
      this.errors = errors
      this.updateComplete.then(() => { focusFirstInvalid(this.renderRoot.querySelector('section form')) }).catch(() => {})
      return
    }
    this.attempt(fields, () => {
      this.session.write((lab, actor) => {
        if (sel.kind === 'new-exam') {
          const exam = lab.exams.create({
            patientId: this.patientId,
            name,
            description,
            ...(indication.trim() !== '' ? { indication } : {}),
            ...(accessionNumber.trim() !== '' ? { accessionNumber } : {})
          }, actor)
          this.select({ kind: 'exam', id: exam.id, editing: false })
        } else if (sel.kind === 'new-workflow') {
          const workflow = lab.workflows.create({ examId: sel.examId, name, description }, actor)
          this.collapsed.delete(sel.examId)
          this.select({ kind: 'workflow', id: workflow.id, editing: false })
        } else if (sel.kind === 'exam') {
          lab.exams.update(sel.id, {
            name,
            description,
            indication: indication.trim() === '' ? null : indication,
            accessionNumber: accessionNumber.trim() === '' ? null : accessionNumber
          }, actor)
          this.select({ kind: 'exam', id: sel.id, editing: false })
        } else if (sel.kind === 'workflow') {
          lab.workflows.update(sel.id, { name, description }, actor)
          this.select({ kind: 'workflow', id: sel.id, editing: false })
        }
      })
    })
  }

  private handleTaskSubmit (event: CustomEvent<TaskFormValue>): void {
    const value = event.detail
    const sel = this.selection
    this.attempt(TASK_FIELDS, () => {
      this.session.write((lab, actor) => {
        if (sel.kind === 'new-task') {
          const task = lab.tasks.create({ workflowId: sel.workflowId, name: value.name, description: value.description, type: value.type, parameters: value.parameters } as never, actor)
          this.collapsed.delete(sel.workflowId)
          this.select({ kind: 'task', id: task.id, editing: false })
        } else if (sel.kind === 'task') {
          lab.tasks.update(sel.id, { name: value.name, description: value.description, parameters: value.parameters }, actor)
          this.select({ kind: 'task', id: sel.id, editing: false })
        }
      })
    })
  }

  private instantiate (kind: 'exam' | 'workflow' | 'task', templateId: string, parentId: string): void {
    this.menuFor = undefined
    this.addMenu = false
    this.attempt([], () => {
      this.session.write((lab, actor) => {
        if (kind === 'exam') {
          const exam = lab.instantiateExam(templateId, parentId, actor)
          this.select({ kind: 'exam', id: exam.id, editing: false })
        } else if (kind === 'workflow') {
          const workflow = lab.instantiateWorkflow(templateId, parentId, actor)
          this.collapsed.delete(parentId)
          this.select({ kind: 'workflow', id: workflow.id, editing: false })
        } else {
          const task = lab.instantiateTask(templateId, parentId, actor)
          this.collapsed.delete(parentId)
          this.select({ kind: 'task', id: task.id, editing: false })
        }
      })
    })
  }

  private moveTask (task: Task, index: number): void {
    this.attempt([], () => { this.session.write((lab, actor) => lab.tasks.move(task.id, index, actor)) })
  }

  // ---- drag and drop of tasks within their workflow ----

  private handleDragStart (event: DragEvent, task: Task): void {
    this.dragTask = task
    event.dataTransfer?.setData('text/plain', task.id)
    if (event.dataTransfer !== null) event.dataTransfer.effectAllowed = 'move'
  }

  private handleDragOver (event: DragEvent, task: Task): void {
    if (this.dragTask === undefined || this.dragTask.workflowId !== task.workflowId) return
    event.preventDefault()
    const rect = (event.currentTarget as HTMLElement).getBoundingClientRect()
    const after = event.clientY > rect.top + rect.height / 2
    if (this.dropTarget?.id !== task.id || this.dropTarget.after !== after) this.dropTarget = { id: task.id, after }
  }

  private handleDrop (event: DragEvent, siblings: Task[]): void {
    event.preventDefault()
    const dragged = this.dragTask
    const target = this.dropTarget
    this.dragTask = undefined
    this.dropTarget = undefined
    if (dragged === undefined || target === undefined) return
    const without = siblings.filter((t) => t.id !== dragged.id)
    let index = without.findIndex((t) => t.id === target.id)
    if (index < 0) return
    if (target.after) index++
    this.moveTask(dragged, index)
  }

  // ---- rendering ----

  private renderMenu (items: unknown): unknown {
    return html`<div class="menu" role="menu" @click=${(e: Event) => { e.stopPropagation() }}>${items}</div>`
  }

  private menuButton (id: string, label: string): unknown {
    return html`<button class="icon small ghost" data-menu-button aria-haspopup="menu" aria-expanded=${String(this.menuFor === id)} aria-label="Actions for ${label}"
      @click=${(e: Event) => { e.stopPropagation(); this.menuFor = this.menuFor === id ? undefined : id }}>${icon('more')}</button>`
  }

  private renderExam (exam: Exam, canEdit: boolean): unknown {
    const lab = this.session.lab
    if (lab === undefined) return nothing
    const workflows = lab.workflows.list({ examId: exam.id })
    const open = !this.collapsed.has(exam.id)
    const selected = this.selection.kind === 'exam' && this.selection.id === exam.id
    const templates = lab.workflowTemplates.list()
    const examBadge = { label: '', note: examNote(lab, exam.id) }
    return html`<div role="treeitem" data-tree-id=${exam.id} tabindex=${this.treeTabIndex(exam.id)} aria-expanded=${String(open)} aria-selected=${String(selected)} aria-owns=${open ? `group-${exam.id}` : nothing}
      aria-label=${treeItemLabel('Exam', exam.name, 'Exam', exam.createdAt, statusBadgeText(exam.status, examBadge.label, examBadge.note))}>
      <div class="row exam ${selected ? 'selected' : ''}" title="${exam.description}${exam.indication !== undefined ? `\nIndication: ${exam.indication}` : ''}"
        @click=${() => { this.select({ kind: 'exam', id: exam.id, editing: false }) }}>
        <button class="twisty" aria-label=${open ? 'Collapse' : 'Expand'} @click=${(e: Event) => { e.stopPropagation(); this.toggle(exam.id) }}>${icon(open ? 'chevronDown' : 'chevronRight')}</button>
        <span class="what"><span class="type-label">Exam</span> <span class="name">${exam.name}</span> <span class="created">Created: ${formatDateTime(exam.createdAt)}</span></span>
        <sh-status-badge .status=${exam.status} note=${examBadge.note}></sh-status-badge>
        ${canEdit ? this.menuButton(exam.id, exam.name) : html`<span></span>`}
        ${this.menuFor === exam.id ? this.renderMenu(html`
          <button role="menuitem" @click=${() => { this.select({ kind: 'exam', id: exam.id, editing: true }) }}>${icon('edit')} Edit exam</button>
          <button role="menuitem" @click=${() => { this.select({ kind: 'new-workflow', examId: exam.id }) }}>${icon('plus')} New workflow</button>
          ${templates.length > 0 ? html`<span class="sub">Workflow from template</span>` : nothing}
          ${templates.map((t) => html`<button role="menuitem" @click=${() => { this.instantiate('workflow', t.id, exam.id) }}>${icon('template')} ${t.name}</button>`)}
          <hr>
          <button role="menuitem" @click=${() => { this.confirmRemove('exam', exam.id, exam.name).catch(() => {}) }}>${icon('trash')} Delete exam</button>`) : nothing}
      </div>
    </div>
    ${open ? html`<div role="group" id="group-${exam.id}">${workflows.map((w) => this.renderWorkflow(w, canEdit))}</div>` : nothing}`
  }

  private renderWorkflow (workflow: Workflow, canEdit: boolean): unknown {
    const lab = this.session.lab
    if (lab === undefined) return nothing
    const tasks = lab.tasks.list({ workflowId: workflow.id })
    const open = !this.collapsed.has(workflow.id)
    const selected = this.selection.kind === 'workflow' && this.selection.id === workflow.id
    const templates = lab.taskTemplates.list()
    const workflowBadgeNote = workflowNote(lab, workflow.id)
    return html`<div role="treeitem" data-tree-id=${workflow.id} data-tree-parent=${workflow.examId} tabindex=${this.treeTabIndex(workflow.id)} aria-expanded=${String(open)} aria-selected=${String(selected)} aria-owns=${open ? `group-${workflow.id}` : nothing}
      aria-label=${treeItemLabel('Workflow', workflow.name, 'Workflow', workflow.createdAt, statusBadgeText(workflow.status, '', workflowBadgeNote))}>
      <div class="row workflow ${selected ? 'selected' : ''}" title=${workflow.description}
        @click=${() => { this.select({ kind: 'workflow', id: workflow.id, editing: false }) }}>
        <button class="twisty" aria-label=${open ? 'Collapse' : 'Expand'} @click=${(e: Event) => { e.stopPropagation(); this.toggle(workflow.id) }}>${icon(open ? 'chevronDown' : 'chevronRight')}</button>
        <span class="what"><span class="type-label">Workflow</span> <span class="name">${workflow.name}</span> <span class="created">Created: ${formatDateTime(workflow.createdAt)}</span></span>
        <sh-status-badge .status=${workflow.status} note=${workflowBadgeNote}></sh-status-badge>
        ${canEdit ? this.menuButton(workflow.id, workflow.name) : html`<span></span>`}
        ${this.menuFor === workflow.id ? this.renderMenu(html`
          <button role="menuitem" @click=${() => { this.select({ kind: 'workflow', id: workflow.id, editing: true }) }}>${icon('edit')} Edit workflow</button>
          <button role="menuitem" @click=${() => { this.select({ kind: 'new-task', workflowId: workflow.id }) }}>${icon('plus')} New task</button>
          ${templates.length > 0 ? html`<span class="sub">Task from template</span>` : nothing}
          ${templates.map((t) => html`<button role="menuitem" @click=${() => { this.instantiate('task', t.id, workflow.id) }}>${icon('template')} ${t.name}</button>`)}
          <hr>
          <button role="menuitem" @click=${() => { this.confirmRemove('workflow', workflow.id, workflow.name).catch(() => {}) }}>${icon('trash')} Delete workflow</button>`) : nothing}
      </div>
    </div>
    ${open ? html`<div role="group" id="group-${workflow.id}">${tasks.map((t, i) => this.renderTask(t, i, tasks, canEdit))}</div>` : nothing}`
  }

  private renderTask (task: Task, index: number, siblings: Task[], canEdit: boolean): unknown {
    const selected = this.selection.kind === 'task' && this.selection.id === task.id
    const drop = this.dropTarget?.id === task.id ? (this.dropTarget.after ? 'drop-after' : 'drop-before') : ''
    const badge = { label: this.taskStatusLabel(task), note: this.session.lab === undefined ? '' : taskNote(this.session.lab, task) }
    return html`<div class="row task ${drop}" role="treeitem" data-tree-id=${task.id} data-tree-parent=${task.workflowId} tabindex=${this.treeTabIndex(task.id)} aria-selected=${String(selected)} draggable=${canEdit ? 'true' : 'false'}
      aria-label=${treeItemLabel('Task', task.name, TYPE_LABEL[task.type], task.createdAt, statusBadgeText(task.status, badge.label, badge.note))}
      title="${TYPE_LABEL[task.type]} task${task.description !== '' ? `: ${task.description}` : ''}${task.error !== undefined ? `\nError: ${task.error}` : ''}"
      @click=${() => { this.select({ kind: 'task', id: task.id, editing: false }) }}
      @dragstart=${(e: DragEvent) => { this.handleDragStart(e, task) }}
      @dragover=${(e: DragEvent) => { this.handleDragOver(e, task) }}
      @dragleave=${() => { if (this.dropTarget?.id === task.id) this.dropTarget = undefined }}
      @drop=${(e: DragEvent) => { this.handleDrop(e, siblings) }}
      @dragend=${() => { this.dragTask = undefined; this.dropTarget = undefined }}>
      <span class="grip" aria-hidden="true">${canEdit ? icon('grip') : nothing}</span>
      <span class="what"><span class="type-label">${TYPE_LABEL[task.type]}</span> <span class="name">${task.name}</span> <span class="created">Created: ${formatDateTime(task.createdAt)}</span></span>
      <sh-status-badge .status=${task.status} label=${badge.label} note=${badge.note}></sh-status-badge>
      ${canEdit ? this.menuButton(task.id, task.name) : html`<span></span>`}
      ${this.menuFor === task.id ? this.renderMenu(html`
        <button role="menuitem" @click=${() => { this.select({ kind: 'task', id: task.id, editing: true }) }}>${icon('edit')} Edit task</button>
        <button role="menuitem" ?disabled=${index === 0} @click=${() => { this.menuFor = undefined; this.moveTask(task, index - 1) }}>${icon('arrowUp')} Move up</button>
        <button role="menuitem" ?disabled=${index === siblings.length - 1} @click=${() => { this.menuFor = undefined; this.moveTask(task, index + 1) }}>${icon('arrowDown')} Move down</button>
        <hr>
        <button role="menuitem" @click=${() => { this.confirmRemove('task', task.id, task.name).catch(() => {}) }}>${icon('trash')} Delete task</button>`) : nothing}
    </div>`
  }

  private taskStatusLabel (task: Task): string {
    return task.type === 'RECONSTRUCTION' && (task.status === 'STARTED' || task.status === 'INPROGRESS') ? 'Waiting for images' : ''
  }

  /** Roving tab index: the focused row, else the selected one, else the first, is the tree's one tab stop. */
  private treeTabIndex (id: string): string {
    const sel = this.selection
    const selectedId = 'id' in sel && (sel.kind === 'exam' || sel.kind === 'workflow' || sel.kind === 'task') ? sel.id : undefined
    const rows = this.visibleTreeIds()
    const stop = [this.treeFocus, selectedId].find((candidate) => candidate !== undefined && rows.includes(candidate)) ?? rows[0]
    return id === stop ? '0' : '-1'
  }

  /** The ids of the tree's rows a user can see, in their order: exams, and the workflows and tasks of open ones. */
  private visibleTreeIds (): string[] {
    const lab = this.session.lab
    if (lab === undefined) return []
    return lab.exams.list({ patientId: this.patientId }).flatMap((exam) => [exam.id, ...(this.collapsed.has(exam.id)
      ? []
      : lab.workflows.list({ examId: exam.id }).flatMap((w) => [w.id, ...(this.collapsed.has(w.id) ? [] : lab.tasks.list({ workflowId: w.id }).map((t) => t.id))]))])
  }

  /**
   * The keys of a tree (WAI-ARIA tree view pattern): Up and Down move between visible rows, Home and End
   * to the first and last, Right opens a row or moves into it, Left closes it or moves to its parent,
   * Enter and Space select it as a click does.
   */
  private readonly handleTreeKey = (e: KeyboardEvent): void => {
    const row = e.target as HTMLElement
    if (row.getAttribute('role') !== 'treeitem') return
    const rows = [...this.renderRoot.querySelectorAll<HTMLElement>('[role="treeitem"][data-tree-id]')]
    const at = rows.indexOf(row)
    const id = row.dataset.treeId ?? ''
    const expanded = row.getAttribute('aria-expanded')
    let next: HTMLElement | undefined
    switch (e.key) {
      case 'ArrowDown': next = rows[at + 1]; break
      case 'ArrowUp': next = rows[at - 1]; break
      case 'Home': next = rows[0]; break
      case 'End': next = rows[rows.length - 1]; break
      case 'ArrowRight':
        if (expanded === 'false') this.toggle(id)
        else if (expanded === 'true') next = rows[at + 1]
        break
      case 'ArrowLeft':
        if (expanded === 'true') this.toggle(id)
        else next = rows.find((r) => r.dataset.treeId === row.dataset.treeParent)
        break
      case 'Enter':
      case ' ':
        ((row.classList.contains('row') ? row : row.querySelector<HTMLElement>(':scope > .row')) ?? row).click()
        break
      default:
        return
    }
    e.preventDefault()
    if (next !== undefined) {
      this.treeFocus = next.dataset.treeId
      next.focus()
    }
  }

  private toggle (id: string): void {
    const next = new Set(this.collapsed)
    if (next.has(id)) next.delete(id)
    else next.add(id)
    this.collapsed = next
  }

  private renderEntityForm (kind: 'exam' | 'workflow', current: Exam | Workflow | undefined, heading: string): unknown {
    const e = this.errors
    return html`<form class="card" @submit=${this.handleEntitySubmit} novalidate aria-label=${heading}
      @keydown=${(ev: KeyboardEvent) => { if (ev.key === 'Escape') this.select(current === undefined ? { kind: 'none' } : { kind, id: current.id, editing: false }) }}>
      <h2>${heading}</h2>
      <p class="required-note">Fields marked <span aria-hidden="true">*</span> are required.</p>
      <div class="field">
        <label for="e-name" class="required">Name</label>
        <input id="e-name" name="name" .value=${current?.name ?? ''} aria-required="true" aria-invalid=${invalid(e, 'name')} aria-describedby="name-error">
        ${fieldError(e, 'name')}
      </div>
      <div class="field">
        <label for="e-description">Description</label>
        <textarea id="e-description" name="description" .value=${current?.description ?? ''} aria-invalid=${invalid(e, 'description')} aria-describedby="description-error"></textarea>
        ${fieldError(e, 'description')}
      </div>
      ${kind === 'exam' ? html`<div class="field">
        <label for="e-indication">Indication</label>
        <input id="e-indication" name="indication" .value=${(current as Exam | undefined)?.indication ?? ''} aria-invalid=${invalid(e, 'indication')} aria-describedby="indication-error">
        ${fieldError(e, 'indication')}
      </div>
      <div class="field">
        <label for="e-accession">Accession number</label>
        <input id="e-accession" name="accessionNumber" maxlength="16" .value=${(current as Exam | undefined)?.accessionNumber ?? ''} aria-invalid=${invalid(e, 'accessionNumber')} aria-describedby="accessionNumber-error">
        ${fieldError(e, 'accessionNumber')}
      </div>` : nothing}
      ${formError(e)}
      <div class="form-actions">
        <button type="button" @click=${() => { this.select(current === undefined ? { kind: 'none' } : { kind, id: current.id, editing: false }) }}>Cancel</button>
        <button type="submit" class="primary">${current === undefined ? `Create ${kind}` : 'Save'}</button>
      </div>
    </form>`
  }

  /** Saves a result file; fetched with the session's token (a plain link would carry none) and cached for offline. */
  private async download (sha256: string, name: string, type: string): Promise<void> {
    try {
      const bytes = await this.session.fetchBlob(sha256)
      const url = URL.createObjectURL(new Blob([bytes], { type }))
      const a = document.createElement('a')
      a.href = url
      a.download = name
      a.click()
      setTimeout(() => { URL.revokeObjectURL(url) }, 10_000)
    } catch (err) {
      this.errors = { '': `${name} cannot be downloaded: ${(err as Error).message}` }
    }
  }

  private renderResults (results: Result[]): unknown {
    if (results.length === 0) return html`<p class="muted">No results yet.</p>`
    const dicom = results.filter((r) => r.type === 'DICOM')
    // the raw data of the latest run, as the images are the latest reconstruction's
    const raw = results.filter((r) => r.type === 'RAW').at(-1)
    if (dicom.length > 0) loadImageViewer()
    if (raw !== undefined) loadRawViewer()
    return html`
      ${resultsByRun(results).map((group, i) => html`<h3>Run ${group.run}${i === 0 ? ' (latest)' : ''}</h3>
      <ul class="results" aria-label="Results of run ${group.run}">${resultLines(group.results).map((line) => html`<li>
        <strong>${line.type}</strong> · ${line.type === 'DICOM' ? `${line.files.length} image${line.files.length === 1 ? '' : 's'}` : `${line.files.length} file${line.files.length === 1 ? '' : 's'}`} · ${formatDateTime(line.createdAt)}
        ${line.type === 'DICOM' ? html` · <a href="/viewer/${encodeURIComponent(line.id)}">Open in viewer</a>` : nothing}
        ${line.files.slice(0, 3).map((f) => ({ file: f, name: runFileName(f.name, group.run) })).map(({ file, name }) => html` · <button class="small ghost" title="Download ${name}" @click=${() => { this.download(file.sha256, name, file.type).catch(() => {}) }}>${icon('download')} ${name}</button>`)}
        ${line.files.length > 3 ? html` · and ${line.files.length - 3} more (Download exam)` : nothing}
      </li>`)}</ul>`)}
      ${dicom.length > 0 ? html`<sh-image-viewer embedded .resultId=${dicom[dicom.length - 1].id}></sh-image-viewer>` : nothing}
      ${raw !== undefined ? html`<h3>Raw data</h3><sh-raw-viewer .sha256=${raw.files[0]?.sha256}></sh-raw-viewer>` : nothing}`
  }

  private renderPane (patient: Patient): unknown {
    const lab = this.session.lab
    if (lab === undefined) return nothing
    const sel = this.selection
    const canEdit = this.session.canEditPatients
    if (sel.kind === 'new-exam') return this.renderEntityForm('exam', undefined, `New exam for ${patientName(patient)}`)
    if (sel.kind === 'new-workflow') return this.renderEntityForm('workflow', undefined, `New workflow in ${lab.exams.get(sel.examId)?.name ?? 'exam'}`)
    if (sel.kind === 'new-task') {
      return this.renderTaskForm(undefined, sel.workflowId, `New task in ${lab.workflows.get(sel.workflowId)?.name ?? 'workflow'}`)
    }
    if (sel.kind === 'exam') {
      const exam = lab.exams.get(sel.id)
      if (exam === undefined) return html`<p class="hint">This exam was deleted.</p>`
      if (sel.editing) return this.renderEntityForm('exam', exam, 'Edit exam')
      return html`<div class="card">
        <div class="pane-head"><span class="type-label">Exam</span><h2>${exam.name}</h2><sh-status-badge .status=${exam.status} note=${examNote(lab, exam.id)}></sh-status-badge>
          ${canEdit ? html`<button @click=${() => { this.select({ kind: 'exam', id: exam.id, editing: true }) }}>${icon('edit')} Edit</button>` : nothing}</div>
        <dl class="details">
          <dt>Description</dt><dd>${exam.description || '—'}</dd>
          <dt>Indication</dt><dd>${exam.indication ?? '—'}</dd>
          <dt>Accession number</dt><dd>${exam.accessionNumber ?? '—'}</dd>
          ${exam.studyInstanceUid !== undefined ? html`<dt>Study UID</dt><dd class="mono" title="The hospital's StudyInstanceUID, from its worklist: every image of this exam carries it">${exam.studyInstanceUid}</dd>` : nothing}
          <dt>Workflows</dt><dd>${lab.workflows.list({ examId: exam.id }).length}</dd>
          <dt>Created</dt><dd>${formatDateTime(exam.createdAt)} by ${exam.createdBy}</dd>
          <dt>Updated</dt><dd>${formatDateTime(exam.updatedAt)} by ${exam.updatedBy}</dd>
          ${exam.autoExportDestinationIds !== undefined && exam.autoExportDestinationIds.length > 0
            ? html`<dt>Sends automatically to</dt><dd title="Each finished reconstruction of this exam is sent there (a setting of its exam template)">${exam.autoExportDestinationIds.map((id) => lab.destinations.get(id)?.name ?? 'a deleted destination').join(', ')}</dd>` : nothing}
        </dl>
        <sh-exam-download .examId=${exam.id}></sh-exam-download>
        <sh-send-to-pacs .examId=${exam.id}></sh-send-to-pacs>
        <sh-save-template .examId=${exam.id}></sh-save-template>
        <sh-history .patientId=${patient.id} .examId=${exam.id}></sh-history>
        ${canEdit ? html`<div class="pane-actions">
          <button @click=${() => { this.select({ kind: 'new-workflow', examId: exam.id }) }}>${icon('plus')} Add workflow</button>
        </div>` : nothing}
      </div>`
    }
    if (sel.kind === 'workflow') {
      const workflow = lab.workflows.get(sel.id)
      if (workflow === undefined) return html`<p class="hint">This workflow was deleted.</p>`
      if (sel.editing) return this.renderEntityForm('workflow', workflow, 'Edit workflow')
      return html`<div class="card">
        <div class="pane-head"><span class="type-label">Workflow</span><h2>${workflow.name}</h2><sh-status-badge .status=${workflow.status} note=${workflowNote(lab, workflow.id)}></sh-status-badge>
          ${canEdit ? html`<button @click=${() => { this.select({ kind: 'workflow', id: workflow.id, editing: true }) }}>${icon('edit')} Edit</button>` : nothing}</div>
        <dl class="details">
          <dt>Description</dt><dd>${workflow.description || '—'}</dd>
          <dt>Tasks</dt><dd>${lab.tasks.list({ workflowId: workflow.id }).length}</dd>
          <dt>Created</dt><dd>${formatDateTime(workflow.createdAt)} by ${workflow.createdBy}</dd>
        </dl>
        ${canEdit ? html`<div class="pane-actions">
          <button @click=${() => { this.select({ kind: 'new-task', workflowId: workflow.id }) }}>${icon('plus')} Add task</button>
        </div>` : nothing}
      </div>`
    }
    if (sel.kind === 'task') {
      const task = lab.tasks.get(sel.id)
      if (task === undefined) return html`<p class="hint">This task was deleted.</p>`
      if (sel.editing) return this.renderTaskForm(task, task.workflowId, 'Edit task')
      const p = task.parameters as unknown as Record<string, unknown>
      const sequence = typeof p.sequenceId === 'string' ? lab.sequences.get(p.sequenceId)?.name ?? p.sequenceId : '—'
      const device = typeof p.deviceId === 'string' ? lab.devices.get(p.deviceId)?.name ?? p.deviceId : 'Any scanner (chosen when it runs)'
      return html`<div class="card">
          <div class="pane-head"><span class="type-label">${TYPE_LABEL[task.type]} task</span><h2>${task.name}</h2>
            <sh-status-badge .status=${task.status} label=${this.taskStatusLabel(task)} note=${taskNote(lab, task)}></sh-status-badge>
            ${canEdit ? html`<button @click=${() => { this.select({ kind: 'task', id: task.id, editing: true }) }}>${icon('edit')} Edit</button>` : nothing}</div>
          <dl class="details">
            <dt>Description</dt><dd>${task.description || '—'}</dd>
            ${task.type === 'ACQUISITION'
              ? html`<dt>Sequence</dt><dd>${sequence}</dd><dt>Device</dt><dd>${device}</dd>
                <dt>Calibrations</dt><dd>${(p.calibrations as string[]).map((c) => CALIBRATION_LABELS[c] ?? c).join(' → ') || '—'}</dd>
                <dt>FOV scaling</dt><dd>${(p.fovScaling as number[]).join(', ')}</dd>
                <dt>FOV rotation (°)</dt><dd>${(p.fovRotationDeg as number[]).join(', ')}</dd>
                <dt>FOV offset (mm)</dt><dd>${(p.fovOffsetMm as number[]).join(', ')}</dd>`
              : html`<dt>Pipeline</dt><dd>${String(p.pipeline)}</dd>
                <dt>Input task</dt><dd>${typeof p.inputTaskId === 'string' ? lab.tasks.get(p.inputTaskId)?.name ?? p.inputTaskId : '—'}</dd>`}
            ${task.error !== undefined ? html`<dt>Error</dt><dd class="field-error">${task.error}</dd>` : nothing}
            <dt>Created</dt><dd>${formatDateTime(task.createdAt)} by ${task.createdBy}</dd>
          </dl>
          ${task.type === 'ACQUISITION' ? html`<sh-protocol-editor readonly .sequence=${typeof p.sequenceId === 'string' ? lab.sequences.get(p.sequenceId) : undefined} .protocol=${task.parameters.protocol}></sh-protocol-editor>` : nothing}
        </div>
        <div class="card"><h2>Results</h2>${this.renderResults(lab.results.list({ taskId: task.id }))}
          ${task.status === 'FINISHED' && lab.results.list({ taskId: task.id }).some((r) => r.type === 'DICOM') ? html`<sh-send-to-pacs .taskId=${task.id}></sh-send-to-pacs>` : nothing}</div>`
    }
    return html`<p class="hint">Select an exam, workflow or task, or add an exam with +.</p>
      <sh-history .patientId=${patient.id} open></sh-history>`
  }

  private renderTaskForm (task: Task | undefined, workflowId: string, heading: string): unknown {
    const lab = this.session.lab
    if (lab === undefined) return nothing
    const workflow = lab.workflows.get(workflowId)
    const inputTasks = workflow === undefined ? [] : lab.tasks.list({ examId: workflow.examId }).filter((t) => t.type === 'ACQUISITION' && t.id !== task?.id)
    // a new reconstruction reads the (last) acquisition of its own workflow unless the user picks another
    const workflowAcquisition = inputTasks.filter((t) => t.workflowId === workflowId).at(-1)?.id
    const pipelines = [...new Set([...lab.tasks.list(), ...lab.taskTemplates.list()]
      .map((t) => (t.parameters as { pipeline?: unknown }).pipeline).filter((p): p is string => typeof p === 'string'))]
    return html`<div class="card"><h2>${heading}</h2>
      <sh-task-form .task=${task} .sequences=${lab.sequences.list()} .devices=${lab.devices.list()} .inputTasks=${inputTasks} .defaultInputTaskId=${workflowAcquisition}
        .pipelines=${pipelines} .errors=${this.errors} submitLabel=${task === undefined ? 'Create task' : 'Save task'}
        @sh-task-submit=${this.handleTaskSubmit}
        @sh-cancel=${() => { this.select(task === undefined ? { kind: 'none' } : { kind: 'task', id: task.id, editing: false }) }}></sh-task-form>
    </div>`
  }

  /** A patient without exams: the lab's exam templates one click away, since the first exam is usually one of them. */
  private renderNoExams (patient: Patient, canEdit: boolean): unknown {
    const templates = this.session.lab?.examTemplates.list() ?? []
    if (!canEdit || templates.length === 0) return html`<p class="empty">No exams yet.</p>`
    return html`<div class="empty start-from" role="group" aria-label="Start an exam from a template">
      <p>No exams yet. Start one from a template:</p>
      ${templates.map((t) => html`<button class="small" title=${t.description} @click=${() => { this.instantiate('exam', t.id, patient.id) }}>${icon('template')} ${t.name}</button>`)}
    </div>`
  }

  override render (): unknown {
    const lab = this.session.lab
    const patient = lab?.patients.get(this.patientId)
    if (lab === undefined || patient === undefined) {
      return html`<div style="grid-column: 1 / -1" class="hint"><h2>Patient not found</h2><p>This patient is not in the lab (or not on this device yet).</p><p><a href="/">Back to the patients</a></p></div>`
    }
    const canEdit = this.session.canEditPatients
    const exams = lab.exams.list({ patientId: patient.id })
    const age = ageOf(patient.birthDate)
    const examTemplates = lab.examTemplates.list()
    return html`
      <aside aria-label="Patient and exams">
        <div class="patient">
          <span class="type-label">Patient</span>
          <h1>${patientName(patient)}</h1>
          <dl class="facts">
            <dt>Birthday</dt><dd>${formatDate(patient.birthDate)}${age !== undefined ? ` (${age} years)` : ''}</dd>
            <dt>Sex</dt><dd>${SEX_LABELS[patient.sex] ?? patient.sex}</dd>
            <dt>Height</dt><dd>${patient.heightCm !== undefined ? `${patient.heightCm} cm` : '—'}</dd>
            <dt>Weight</dt><dd>${patient.weightKg !== undefined ? `${patient.weightKg} kg` : '—'}</dd>
          </dl>
        </div>
        <div class="exams-head" style="position:relative">
          <h2>Exams <span class="muted">(${exams.length})</span></h2>
          ${canEdit ? html`<button class="icon small" data-menu-button aria-label="Add exam" aria-haspopup="menu" aria-expanded=${String(this.addMenu)}
            @click=${(e: Event) => { e.stopPropagation(); this.addMenu = !this.addMenu }}>${icon('plus')}</button>` : nothing}
          ${this.addMenu ? this.renderMenu(html`
            <button role="menuitem" @click=${() => { this.select({ kind: 'new-exam' }) }}>${icon('plus')} New exam</button>
            ${examTemplates.length > 0 ? html`<span class="sub">From template</span>` : nothing}
            ${examTemplates.map((t) => html`<button role="menuitem" @click=${() => { this.instantiate('exam', t.id, patient.id) }}>${icon('template')} ${t.name}</button>`)}`) : nothing}
        </div>
        <div class="tree" role="tree" aria-label="Exams, workflows and tasks" @keydown=${this.handleTreeKey}
          @focusin=${(e: FocusEvent) => { const id = (e.target as HTMLElement).dataset?.treeId; if (id !== undefined) this.treeFocus = id }}>
          ${exams.length === 0 ? this.renderNoExams(patient, canEdit) : exams.map((exam) => this.renderExam(exam, canEdit))}
        </div>
        ${Object.keys(this.errors).length > 0 && (this.selection.kind === 'none' || ('editing' in this.selection && !this.selection.editing))
          ? html`<p class="form-error" role="alert" style="margin: 0 12px 12px">${Object.values(this.errors)[0]}</p>` : nothing}
        <sh-run-control .patientId=${patient.id} .taskId=${this.selection.kind === 'task' ? this.selection.id : undefined}
          .scope=${this.selection.kind === 'workflow' || this.selection.kind === 'exam' ? { kind: this.selection.kind, id: this.selection.id } : undefined}></sh-run-control>
      </aside>
      <section><div class="pane">${this.renderPane(patient)}</div></section>
      <sh-confirm-dialog></sh-confirm-dialog>`
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'sh-acquisition-view': ShAcquisitionView
  }
}
