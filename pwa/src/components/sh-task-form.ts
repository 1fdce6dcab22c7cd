// The task form, with ScanHub's two tabs: "Acquisition task" (sequence, device, an ordered list of
// calibrations, FOV scaling, rotation and offset) and "Reconstruction or processing task" (pipeline,
// input task). Editing a task keeps its type: the other tab is then disabled.
import { LitElement, css, html, nothing } from 'lit'
import { customElement, property, state } from 'lit/decorators.js'
import type { Calibration, Device, Sequence, SequenceProtocol, Task, TaskType, Vec3 } from '../../../protocol/lab/index.ts'
import { PIPELINES, type PipelineInfo } from '../../../protocol/reconstruction-pipelines.ts'
import { sharedStyles } from '../styles/shared.ts'
import { icon } from '../styles/icons.ts'
import { fieldError, formError, invalid } from './form-errors.ts'
import type { FieldErrors } from './form-errors.ts'
import './sh-protocol-editor.ts'
import type { ProtocolChange } from './sh-protocol-editor.ts'

/** What the form hands back: the fields of a create, or of a patch when editing. */
export interface TaskFormValue {
  type: TaskType
  name: string
  description: string
  parameters: Record<string, unknown>
}

export const TASK_FORM_FIELDS = ['type', 'name', 'description', 'parameters'] as const

const CALIBRATION_LABELS: Record<Calibration, string> = { FREQUENCY: 'Frequency', FLIP_ANGLE: 'Flip angle', SHIM: 'Shims' }
const AXES = ['x', 'y', 'z'] as const

interface Draft {
  tab: 'acquisition' | 'processing'
  processingType: 'RECONSTRUCTION' | 'PROCESSING'
  name: string
  description: string
  sequenceId: string
  deviceId: string
  calibrations: Calibration[]
  fovScaling: string[]
  fovRotationDeg: string[]
  fovOffsetMm: string[]
  /** a built-in sequence's protocol; undefined: its defaults */
  protocol?: SequenceProtocol
  /** whether the protocol card's values can be played */
  protocolValid: boolean
  pipeline: string
  inputTaskId: string
}

function vec (values: Vec3 | undefined, fallback: number): string[] {
  return (values ?? [fallback, fallback, fallback]).map(String)
}

function draftOf (task: Task | undefined): Draft {
  const acquisition = task?.type === 'ACQUISITION' ? task.parameters : undefined
  const processing = task !== undefined && task.type !== 'ACQUISITION' ? task.parameters : undefined
  return {
    tab: task === undefined || task.type === 'ACQUISITION' ? 'acquisition' : 'processing',
    processingType: task?.type === 'PROCESSING' ? 'PROCESSING' : 'RECONSTRUCTION',
    name: task?.name ?? '',
    description: task?.description ?? '',
    sequenceId: acquisition?.sequenceId ?? '',
    deviceId: acquisition?.deviceId ?? '',
    calibrations: [...(acquisition?.calibrations ?? [])],
    fovScaling: vec(acquisition?.fovScaling, 1),
    fovRotationDeg: vec(acquisition?.fovRotationDeg, 0),
    fovOffsetMm: vec(acquisition?.fovOffsetMm, 0),
    protocol: acquisition?.protocol,
    protocolValid: true,
    pipeline: processing?.pipeline ?? 'default',
    inputTaskId: processing?.inputTaskId ?? ''
  }
}

@customElement('sh-task-form')
export class ShTaskForm extends LitElement {
  static override styles = [sharedStyles, css`
    :host { display: block; }
    form { display: flex; flex-direction: column; gap: 14px; }
    [role="tablist"] { display: flex; gap: 4px; border-bottom: 1px solid var(--sh-border); }
    [role="tab"] { border: none; border-bottom: 2px solid transparent; border-radius: 0; background: transparent; font-weight: 600; color: var(--sh-text-muted); }
    [role="tab"][aria-selected="true"] { color: var(--sh-primary); border-bottom-color: var(--sh-primary); }
    .hint { font-size: 12px; color: var(--sh-text-muted); }
    .calibrations { display: flex; flex-direction: column; gap: 6px; }
    .calibration { display: flex; align-items: center; gap: 6px; padding: 4px 8px; border: 1px solid var(--sh-border); border-radius: var(--sh-radius); background: var(--sh-surface-2); }
    .calibration[draggable="true"] { cursor: grab; }
    .calibration .name { flex: 1; }
    .vec { display: grid; grid-template-columns: 110px repeat(3, 1fr); gap: 6px; align-items: center; }
    .vec .label { font-size: 12px; font-weight: 600; color: var(--sh-text-muted); }
    fieldset { border: 1px solid var(--sh-border); border-radius: 8px; padding: 10px 12px; margin: 0; display: flex; flex-direction: column; gap: 8px; }
    legend { font-size: 12px; font-weight: 600; color: var(--sh-text-muted); padding: 0 4px; }
  `]

  /** the task being edited; a new task when undefined */
  @property({ attribute: false }) task: Task | undefined
  @property({ attribute: false }) sequences: Sequence[] = []
  @property({ attribute: false }) devices: Device[] = []
  /** acquisition tasks a reconstruction may take as input */
  @property({ attribute: false }) inputTasks: Task[] = []
  /** the input a new reconstruction starts with: the acquisition of its workflow */
  @property({ attribute: false }) defaultInputTaskId: string | undefined
  /** pipeline names in use in the lab besides the standard ones (custom chains of older tasks) */
  @property({ attribute: false }) pipelines: string[] = []

  /** The standard pipelines with their descriptions, then any other name in use (and the task's own). */
  private pipelineChoices (current: string): PipelineInfo[] {
    const names = new Set(PIPELINES.map((p) => p.name))
    const others = [...new Set([...this.pipelines, current])].filter((n) => n !== '' && !names.has(n))
    return [...PIPELINES, ...others.map((name) => ({ name, description: 'a pipeline named by another task' }))]
  }
  @property({ attribute: false }) errors: FieldErrors = {}
  /** the submit button's text */
  @property() submitLabel = 'Save task'

  @state() private draft: Draft = draftOf(undefined)
  private draftFor: Task | undefined | null = null
  private dragIndex = -1
  /** the user picked an input (or none): the default no longer applies */
  private inputChosen = false

  protected override willUpdate (changed: Map<PropertyKey, unknown>): void {
    if (changed.has('task') && this.draftFor !== this.task) {
      // A new task object for the same id is a remote change: keep what the user typed.
      if (this.draftFor === null || this.draftFor?.id !== this.task?.id) this.draft = draftOf(this.task)
      this.draftFor = this.task
    }
    if (this.task === undefined && !this.inputChosen && this.defaultInputTaskId !== undefined && this.draft.inputTaskId !== this.defaultInputTaskId) {
      this.draft = { ...this.draft, inputTaskId: this.defaultInputTaskId }
    }
  }

  private set (patch: Partial<Draft>): void {
    this.draft = { ...this.draft, ...patch }
  }

  private value (): TaskFormValue {
    const d = this.draft
    const num = (v: string): number => Number(v.trim().replace(',', '.'))
    if (d.tab === 'acquisition') {
      const parameters: Record<string, unknown> = {
        calibrations: d.calibrations,
        fovScaling: d.fovScaling.map(num),
        fovRotationDeg: d.fovRotationDeg.map(num),
        fovOffsetMm: d.fovOffsetMm.map(num)
      }
      // An edit clears a choice with null; a create leaves it out.
      const clear = this.task === undefined ? undefined : null
      parameters.sequenceId = d.sequenceId === '' ? clear : d.sequenceId
      parameters.deviceId = d.deviceId === '' ? clear : d.deviceId
      parameters.protocol = d.protocol ?? clear
      return { type: 'ACQUISITION', name: d.name, description: d.description, parameters }
    }
    const parameters: Record<string, unknown> = { pipeline: d.pipeline }
    parameters.inputTaskId = d.inputTaskId === '' ? (this.task === undefined ? undefined : null) : d.inputTaskId
    return { type: d.processingType, name: d.name, description: d.description, parameters }
  }

  private handleSubmit (event: SubmitEvent): void {
    event.preventDefault()
    if (this.draft.tab === 'acquisition' && !this.draft.protocolValid) {
      // the protocol card shows what to correct beside each field
      this.renderRoot.querySelector('sh-protocol-editor')?.shadowRoot?.querySelector<HTMLElement>('[aria-invalid="true"]')?.focus()
      return
    }
    this.dispatchEvent(new CustomEvent<TaskFormValue>('sh-task-submit', { detail: this.value(), bubbles: true, composed: true }))
  }

  private moveCalibration (from: number, to: number): void {
    const list = [...this.draft.calibrations]
    if (to < 0 || to >= list.length) return
    const [item] = list.splice(from, 1)
    list.splice(to, 0, item)
    this.set({ calibrations: list })
  }

  private renderVec (key: 'fovScaling' | 'fovRotationDeg' | 'fovOffsetMm', label: string): unknown {
    const values = this.draft[key]
    return html`<div class="vec" role="group" aria-label=${label}>
      <span class="label">${label}</span>
      ${AXES.map((axis, i) => html`<input type="number" step="any" aria-label="${label} ${axis}" .value=${values[i]}
        aria-invalid=${invalid(this.errors, 'parameters')}
        @input=${(e: Event) => { const next = [...values]; next[i] = (e.target as HTMLInputElement).value; this.set({ [key]: next }) }}>`)}
    </div>`
  }

  private renderAcquisition (): unknown {
    const d = this.draft
    const missing = (['FREQUENCY', 'FLIP_ANGLE', 'SHIM'] as Calibration[]).filter((c) => !d.calibrations.includes(c))
    return html`
      <div class="form-grid">
        <div class="field">
          <label for="sequence">Sequence</label>
          <select id="sequence" .value=${d.sequenceId} @change=${(e: Event) => { this.set({ sequenceId: (e.target as HTMLSelectElement).value, protocol: undefined, protocolValid: true }) }}>
            <option value="" disabled ?selected=${d.sequenceId === ''}>Choose a sequence…</option>
            ${this.sequences.map((s) => html`<option value=${s.id} ?selected=${d.sequenceId === s.id}>${s.name}</option>`)}
          </select>
        </div>
        <div class="field">
          <label for="device">Device</label>
          <select id="device" .value=${d.deviceId} @change=${(e: Event) => { this.set({ deviceId: (e.target as HTMLSelectElement).value }) }}>
            <option value="" ?selected=${d.deviceId === ''}>— any scanner —</option>
            ${this.devices.map((dev) => html`<option value=${dev.id} ?selected=${d.deviceId === dev.id}>${dev.name}</option>`)}
          </select>
        </div>
      </div>
      <sh-protocol-editor .sequence=${this.sequences.find((s) => s.id === d.sequenceId)} .protocol=${d.protocol}
        @sh-protocol-change=${(e: CustomEvent<ProtocolChange>) => { this.set({ protocol: e.detail.protocol ?? undefined, protocolValid: e.detail.valid }) }}></sh-protocol-editor>
      <fieldset>
        <legend>Calibrations, in the order they run</legend>
        <div class="calibrations" role=${d.calibrations.length > 0 ? 'list' : nothing}>
          ${d.calibrations.length === 0 ? html`<span class="muted">None.</span>` : nothing}
          ${d.calibrations.map((c, i) => html`<div class="calibration" role="listitem" draggable="true"
              @dragstart=${() => { this.dragIndex = i }} @dragover=${(e: DragEvent) => { e.preventDefault() }}
              @drop=${(e: DragEvent) => { e.preventDefault(); this.moveCalibration(this.dragIndex, i) }}>
            ${icon('grip')}<span class="name">${i + 1}. ${CALIBRATION_LABELS[c]}</span>
            <button type="button" class="icon small ghost" aria-label="Move ${CALIBRATION_LABELS[c]} up" ?disabled=${i === 0} @click=${() => { this.moveCalibration(i, i - 1) }}>${icon('arrowUp')}</button>
            <button type="button" class="icon small ghost" aria-label="Move ${CALIBRATION_LABELS[c]} down" ?disabled=${i === d.calibrations.length - 1} @click=${() => { this.moveCalibration(i, i + 1) }}>${icon('arrowDown')}</button>
            <button type="button" class="icon small ghost" aria-label="Remove ${CALIBRATION_LABELS[c]}" @click=${() => { this.set({ calibrations: d.calibrations.filter((x) => x !== c) }) }}>${icon('close')}</button>
          </div>`)}
        </div>
        <div class="toolbar">
          ${missing.map((c) => html`<button type="button" class="small" @click=${() => { this.set({ calibrations: [...d.calibrations, c] }) }}>${icon('plus')} ${CALIBRATION_LABELS[c]}</button>`)}
        </div>
      </fieldset>
      <fieldset>
        <legend>Field of view</legend>
        ${this.renderVec('fovScaling', 'Scaling')}
        ${this.renderVec('fovRotationDeg', 'Rotation (°)')}
        ${this.renderVec('fovOffsetMm', 'Offset (mm)')}
      </fieldset>
      ${fieldError(this.errors, 'parameters')}`
  }

  private renderProcessing (): unknown {
    const d = this.draft
    return html`<div class="form-grid">
      <div class="field">
        <label for="ptype">Kind</label>
        <select id="ptype" ?disabled=${this.task !== undefined} .value=${d.processingType}
          @change=${(e: Event) => { this.set({ processingType: (e.target as HTMLSelectElement).value as Draft['processingType'] }) }}>
          <option value="RECONSTRUCTION" ?selected=${d.processingType === 'RECONSTRUCTION'}>Reconstruction</option>
          <option value="PROCESSING" ?selected=${d.processingType === 'PROCESSING'}>Processing</option>
        </select>
      </div>
      <div class="field">
        <label for="pipeline">Pipeline</label>
        <select id="pipeline" .value=${d.pipeline} required aria-invalid=${invalid(this.errors, 'parameters')} aria-describedby="pipeline-description parameters-error"
          @change=${(e: Event) => { this.set({ pipeline: (e.target as HTMLSelectElement).value }) }}>
          ${this.pipelineChoices(d.pipeline).map((p) => html`<option value=${p.name} ?selected=${d.pipeline === p.name}>${p.name}</option>`)}
        </select>
        <span class="hint" id="pipeline-description">${this.pipelineChoices(d.pipeline).find((p) => p.name === d.pipeline)?.description ?? ''}</span>
      </div>
      <div class="field">
        <label for="input-task">Input task</label>
        <select id="input-task" .value=${d.inputTaskId} @change=${(e: Event) => { this.inputChosen = true; this.set({ inputTaskId: (e.target as HTMLSelectElement).value }) }}>
          <option value="" ?selected=${d.inputTaskId === ''}>— choose an acquisition —</option>
          ${this.inputTasks.map((t) => html`<option value=${t.id} ?selected=${d.inputTaskId === t.id}>${t.name}</option>`)}
        </select>
      </div>
    </div>
    ${fieldError(this.errors, 'parameters')}`
  }

  override render (): unknown {
    const d = this.draft
    const editing = this.task !== undefined
    const tab = (id: Draft['tab'], label: string): unknown => html`<button type="button" role="tab" id="tab-${id}" aria-controls="panel"
      aria-selected=${String(d.tab === id)} tabindex=${d.tab === id ? 0 : -1} ?disabled=${editing && d.tab !== id}
      @click=${() => { this.set({ tab: id }) }}
      @keydown=${(e: KeyboardEvent) => { if ((e.key === 'ArrowRight' || e.key === 'ArrowLeft') && !editing) this.set({ tab: d.tab === 'acquisition' ? 'processing' : 'acquisition' }) }}>${label}</button>`
    return html`<form @submit=${this.handleSubmit} novalidate aria-label="Task"
      @keydown=${(e: KeyboardEvent) => { if (e.key === 'Escape') this.dispatchEvent(new CustomEvent('sh-cancel', { bubbles: true, composed: true })) }}>
      <div role="tablist" aria-label="Task type">
        ${tab('acquisition', 'Acquisition task')}
        ${tab('processing', 'Reconstruction or processing task')}
      </div>
      <div id="panel" role="tabpanel" aria-labelledby="tab-${d.tab}" style="display:flex;flex-direction:column;gap:14px">
        <div class="form-grid">
          <div class="field">
            <label for="task-name" class="required">Name</label>
            <input id="task-name" .value=${d.name} aria-required="true" aria-invalid=${invalid(this.errors, 'name')} aria-describedby="name-error"
              @input=${(e: Event) => { this.set({ name: (e.target as HTMLInputElement).value }) }}>
            ${fieldError(this.errors, 'name')}
          </div>
        </div>
        <div class="field">
          <label for="task-description">Description</label>
          <textarea id="task-description" .value=${d.description} aria-invalid=${invalid(this.errors, 'description')} aria-describedby="description-error"
            @input=${(e: Event) => { this.set({ description: (e.target as HTMLTextAreaElement).value }) }}></textarea>
          ${fieldError(this.errors, 'description')}
        </div>
        ${d.tab === 'acquisition' ? this.renderAcquisition() : this.renderProcessing()}
      </div>
      ${formError(this.errors)}
      <div class="form-actions">
        <button type="button" @click=${() => { this.dispatchEvent(new CustomEvent('sh-cancel', { bubbles: true, composed: true })) }}>Cancel</button>
        <button type="submit" class="primary">${this.submitLabel}</button>
      </div>
    </form>`
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'sh-task-form': ShTaskForm
  }
}
