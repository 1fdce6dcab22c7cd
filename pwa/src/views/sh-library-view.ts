// The library: devices (status from presence; parameters editable by admins and engineers),
// sequences (upload a .seq, inspect its summary and its RF, gradient, ADC and k-space plot), and
// templates in three linked columns (exam → workflow → task).
import { css, html, nothing } from 'lit'
import { customElement, property, query, state } from 'lit/decorators.js'
import type { Device, ExamTemplate, TaskTemplate, TaskType, WorkflowTemplate } from '../../../protocol/lab/index.ts'
import { SessionElement } from '../app/session-element.ts'
import { pageStyles, sharedStyles } from '../styles/shared.ts'
import { icon } from '../styles/icons.ts'
import '../components/sh-confirm-dialog.ts'
import type { ShConfirmDialog } from '../components/sh-confirm-dialog.ts'
import { formatDate } from './format.ts'
import '../components/sh-sequence-plot.ts'
import type { SequenceWaveforms } from '../components/sh-sequence-plot.ts'
import type { Sequence, Task } from '../../../protocol/lab/index.ts'
import '../components/sh-task-form.ts'
import type { TaskFormValue } from '../components/sh-task-form.ts'

type Tab = 'devices' | 'sequences' | 'templates'
type ParamValue = number | string | boolean
type Level = 'exam' | 'workflow' | 'task'

const TABS: Array<{ id: Tab, label: string }> = [
  { id: 'devices', label: 'Devices' },
  { id: 'sequences', label: 'Sequences' },
  { id: 'templates', label: 'Templates' }
]

function ms (s: number | undefined): string {
  return s === undefined ? '' : `${(s * 1e3).toFixed(2)} ms`
}

@customElement('sh-library-view')
export class ShLibraryView extends SessionElement {
  static override styles = [sharedStyles, pageStyles, css`
    [role="tablist"] { display: flex; gap: 4px; border-bottom: 1px solid var(--sh-border); }
    [role="tab"] { border: none; border-bottom: 2px solid transparent; border-radius: 0; background: transparent; font-weight: 600; color: var(--sh-text-muted); min-height: 36px; }
    [role="tab"][aria-selected="true"] { color: var(--sh-primary); border-bottom-color: var(--sh-primary); }
    .params { padding: 12px 16px; background: var(--sh-surface-2); }
    .upload { display: flex; flex-wrap: wrap; gap: 12px; align-items: end; }
    .upload label { display: flex; flex-direction: column; gap: 4px; font-size: 13px; }
    .upload .form-error { flex-basis: 100%; margin: 0; }
    form.rename { display: flex; gap: 6px; flex-wrap: wrap; align-items: center; }
    form.rename input { min-width: 10em; flex: 1; }
    td.actions { white-space: nowrap; }
    .inspect { display: flex; flex-direction: column; gap: 10px; }
    .inspect h3 { margin: 0; } .inspect h3 small { font-weight: 400; color: var(--sh-text-muted); }
    .summary { display: grid; grid-template-columns: max-content 1fr max-content 1fr max-content 1fr; gap: 4px 12px; margin: 0; }
    .summary dt { color: var(--sh-text-muted); } .summary dd { margin: 0; }
    .param-grid { display: grid; grid-template-columns: minmax(140px, 220px) minmax(140px, 260px) auto; gap: 6px 10px; align-items: center; }
    .param-grid .key { font-family: var(--sh-mono); font-size: 12px; }
    .columns { display: grid; grid-template-columns: repeat(3, minmax(220px, 1fr)); gap: 12px; align-items: start; }
    .column { display: flex; flex-direction: column; min-height: 240px; }
    .column header { display: flex; align-items: center; gap: 8px; padding: 10px 12px; border-bottom: 1px solid var(--sh-border); }
    .column header h2 { flex: 1; font-size: 14px; }
    .column ul { list-style: none; margin: 0; padding: 6px; display: flex; flex-direction: column; gap: 2px; }
    .column li { display: flex; align-items: center; gap: 6px; padding: 6px 8px; border-radius: 6px; cursor: pointer; }
    .column li:hover { background: var(--sh-hover); }
    .column li[aria-selected="true"] { background: var(--sh-primary-soft); }
    .column li .name { flex: 1; min-width: 0; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
    .column li .what { flex: 1; min-width: 0; display: flex; flex-direction: column; }
    .column li .what .name { flex: none; }
    .column li .does, .overview .does { font-size: 12px; color: var(--sh-text-muted); overflow-wrap: anywhere; }
    .overview { padding: 12px 16px; display: flex; flex-direction: column; gap: 8px; margin-top: 12px; }
    .overview h2 { font-size: 14px; }
    .overview ol { margin: 0; padding-left: 20px; display: flex; flex-direction: column; gap: 6px; }
    .overview ul { margin: 2px 0 0; padding-left: 18px; }
    .column form { display: flex; gap: 6px; padding: 8px; border-bottom: 1px solid var(--sh-border); flex-wrap: wrap; }
    .column form input { flex: 1; min-width: 120px; }
    .column form select { width: auto; }
    .column .empty { padding: 16px; }
    .hint { color: var(--sh-text-muted); }
    .auto-export { padding: 12px 16px; display: flex; flex-direction: column; gap: 6px; margin: 0; }
    .auto-export legend { font-weight: 600; padding: 0 4px; }
    .auto-export label { display: flex; gap: 6px; align-items: center; font-size: 13px; }
    .auto-export input { width: auto; min-height: 0; }
    .dot { width: 9px; height: 9px; border-radius: 50%; display: inline-block; margin-right: 6px; }
    .ONLINE { background: var(--sh-success); } .BUSY { background: var(--sh-chip-orange); } .OFFLINE { background: var(--sh-neutral); } .ERROR { background: var(--sh-danger); }
    @media (max-width: 900px) { .columns { grid-template-columns: 1fr; } }
  `]

  /** the tab shown */
  @property() tab: Tab = 'devices'

  @state() private openDevice: string | undefined
  @state() private paramDraft: Record<string, ParamValue> = {}
  @state() private paramError = ''
  @state() private examTemplateId: string | undefined
  @state() private workflowTemplateId: string | undefined
  @state() private adding: Level | undefined
  @state() private renaming: { level: Level, id: string } | undefined
  @state() private templateError = ''
  /** the task template whose sequence, device, calibrations or pipeline are edited */
  @state() private editingTaskTemplate: string | undefined
  @state() private uploadError = ''
  @state() private uploading = false
  @state() private inspected: string | undefined
  @state() private waveforms: SequenceWaveforms | undefined
  @state() private waveformError = ''
  /** the sequence whose name is being edited */
  @state() private sequenceRenaming: string | undefined
  @state() private sequenceError = ''
  @query('sh-confirm-dialog') private confirm!: ShConfirmDialog

  // ---- devices ----

  private toggleDevice (device: Device): void {
    this.openDevice = this.openDevice === device.id ? undefined : device.id
    this.paramDraft = { ...device.parameters }
    this.paramError = ''
  }

  private saveParameters (device: Device): void {
    try {
      this.session.write((lab, actor) => lab.devices.update(device.id, { parameters: this.paramDraft }, actor))
      this.paramError = ''
      this.openDevice = undefined
    } catch (err) {
      this.paramError = (err as Error).message
    }
  }

  private renderParameters (device: Device): unknown {
    const editable = this.session.canEditDevices
    const entries = Object.entries(editable ? this.paramDraft : device.parameters)
    const set = (key: string, value: ParamValue): void => { this.paramDraft = { ...this.paramDraft, [key]: value } }
    return html`<tr><td colspan="8" class="params">
      ${entries.length === 0 ? html`<p class="hint">This device has no parameters.</p>` : nothing}
      <div class="param-grid" role="group" aria-label="Parameters of ${device.name}">
        ${entries.map(([key, value]) => html`
          <label class="key" for="p-${key}">${key}</label>
          ${!editable
            ? html`<span id="p-${key}">${String(value)}</span>`
            : typeof value === 'boolean'
              ? html`<input id="p-${key}" type="checkbox" style="width:auto;min-height:0" .checked=${value} @change=${(e: Event) => { set(key, (e.target as HTMLInputElement).checked) }}>`
              : html`<input id="p-${key}" type=${typeof value === 'number' ? 'number' : 'text'} step="any" .value=${String(value)}
                  @input=${(e: Event) => { const raw = (e.target as HTMLInputElement).value; set(key, typeof value === 'number' ? Number(raw) : raw) }}>`}
          <span></span>`)}
      </div>
      ${this.paramError !== '' ? html`<p class="form-error" role="alert">${this.paramError}</p>` : nothing}
      ${editable ? html`<div class="form-actions">
        <button @click=${() => { this.openDevice = undefined }}>Cancel</button>
        <button class="primary" @click=${() => { this.saveParameters(device) }}>Save parameters</button>
      </div>` : html`<p class="hint">Only admins and engineers change device parameters.</p>`}
    </td></tr>`
  }

  private renderDevices (): unknown {
    const devices = this.session.lab?.devices.list() ?? []
    return html`<div class="table-wrap"><table class="table" aria-label="Devices">
      <thead><tr><th>Name</th><th>Status</th><th>Manufacturer</th><th>Model</th><th class="num">Field (T)</th><th>Driver</th><th>Updated</th><th></th></tr></thead>
      <tbody>
        ${devices.length === 0 ? html`<tr><td colspan="8" class="empty">No devices yet: a scanner peer adds its device when it joins the lab.</td></tr>` : nothing}
        ${devices.map((d) => {
          const status = this.session.deviceStatus(d)
          return html`<tr>
            <td><strong>${d.name}</strong></td>
            <td><span class="dot ${status}"></span>${status}</td>
            <td>${d.manufacturer}</td><td>${d.model}</td><td class="num">${d.fieldStrengthT}</td><td>${d.driver}</td>
            <td>${formatDate(d.updatedAt)}</td>
            <td><button class="small" aria-expanded=${String(this.openDevice === d.id)} @click=${() => { this.toggleDevice(d) }}>Parameters</button></td>
          </tr>
          ${this.openDevice === d.id ? this.renderParameters(d) : nothing}`
        })}
      </tbody>
    </table></div>`
  }

  private renderSequences (): unknown {
    const sequences = this.session.lab?.sequences.list() ?? []
    const inspected = this.inspected === undefined ? undefined : sequences.find((q) => q.id === this.inspected)
    return html`
    ${this.session.canEditSequences ? html`<form class="upload" @submit=${this.handleUpload} aria-label="Upload a sequence">
      <label>Pulseq file (.seq) <input name="file" type="file" accept=".seq" required></label>
      <label>Name <input name="name" type="text" placeholder="from the file"></label>
      <button type="submit" ?disabled=${this.uploading}>${this.uploading ? 'Uploading…' : 'Upload'}</button>
      ${this.uploadError !== '' ? html`<p class="form-error" role="alert">${this.uploadError}</p>` : nothing}
    </form>` : nothing}
    ${this.sequenceError !== '' ? html`<p class="form-error" role="alert">${this.sequenceError}</p>` : nothing}
    <div class="table-wrap"><table class="table" aria-label="Sequences">
      <thead><tr><th>Name</th><th>Type</th><th>Description</th><th class="num">TE</th><th class="num">TR</th><th>Matrix</th><th class="num">Duration</th><th>Built in</th><th></th></tr></thead>
      <tbody>
        ${sequences.length === 0 ? html`<tr><td colspan="9" class="empty">No sequences yet.</td></tr>` : nothing}
        ${sequences.map((q) => {
          const sum = (q.summary ?? {}) as { teS?: number, trS?: number, matrix?: number[], durationS?: number, sequenceTypeReason?: string }
          return html`<tr>
          <td>${this.sequenceRenaming === q.id ? this.renderSequenceRename(q) : html`<strong>${q.name}</strong>`}</td>
          <td title=${sum.sequenceTypeReason ?? ''}>${q.type}</td><td>${q.description}</td>
          <td class="num">${ms(sum.teS)}</td><td class="num">${ms(sum.trS)}</td><td>${sum.matrix?.join(' × ') ?? ''}</td>
          <td class="num">${sum.durationS === undefined ? '' : `${sum.durationS.toFixed(2)} s`}</td>
          <td>${q.builtin === true ? 'yes' : ''}</td>
          <td class="actions"><button class="small" aria-expanded=${String(this.inspected === q.id)} @click=${() => { void this.inspect(q) }}>Inspect</button>
            ${this.session.canEditSequences
              ? html`<button class="small" aria-label="Rename ${q.name}" @click=${() => { this.sequenceRenaming = q.id; this.sequenceError = '' }}>Rename</button>
                ${q.builtin === true ? nothing : html`<button class="small danger" aria-label="Delete ${q.name}" @click=${() => { void this.deleteSequence(q) }}>Delete</button>`}`
              : nothing}</td>
        </tr>`
        })}
      </tbody>
    </table></div>
    ${inspected !== undefined ? this.renderInspected(inspected) : nothing}
    <sh-confirm-dialog></sh-confirm-dialog>`
  }

  private renderSequenceRename (q: Sequence): unknown {
    return html`<form class="rename" aria-label="Rename ${q.name}" @submit=${(e: SubmitEvent) => { this.renameSequence(q, e) }}>
      <input name="name" aria-label="New name of ${q.name}" required maxlength="200" .value=${q.name}
        @keydown=${(e: KeyboardEvent) => { if (e.key === 'Escape') this.sequenceRenaming = undefined }}>
      <button class="small primary" type="submit">Save</button>
      <button class="small" type="button" @click=${() => { this.sequenceRenaming = undefined }}>Cancel</button>
    </form>`
  }

  /** A rename is a change of the lab document: it works offline and reaches the hub with sync. */
  private renameSequence (q: Sequence, event: SubmitEvent): void {
    event.preventDefault()
    const name = String(new FormData(event.target as HTMLFormElement).get('name') ?? '').trim()
    if (name === '') { this.sequenceError = 'A sequence needs a name.'; return }
    try {
      if (name !== q.name) this.session.write((lab, actor) => lab.sequences.update(q.id, { name }, actor))
      this.sequenceRenaming = undefined
      this.sequenceError = ''
    } catch (err) {
      this.sequenceError = `Could not rename "${q.name}": ${(err as Error).message}`
    }
  }

  private async deleteSequence (q: Sequence): Promise<void> {
    this.sequenceError = ''
    const ok = await this.confirm.ask(`Delete the sequence "${q.name}" from the library? Tasks and templates that use it must be changed first.`)
    if (!ok) return
    try {
      await this.session.deleteSequence(q.id)
      if (this.inspected === q.id) this.inspected = undefined
    } catch (err) {
      this.sequenceError = `Could not delete "${q.name}": ${(err as Error).message}`
    }
  }

  private renderInspected (q: Sequence): unknown {
    const sum = (q.summary ?? {}) as { version?: string, teS?: number, trS?: number, flipAngleDeg?: number, fovM?: number[], matrix?: number[], durationS?: number, adcReadouts?: number, adcSamples?: number, signatureValid?: boolean | null, sequenceTypeReason?: string }
    return html`<section class="inspect" aria-label="Sequence ${q.name}">
      <h3>${q.name} <small>${q.description}</small></h3>
      <dl class="summary">
        <dt>Type</dt><dd>${q.type}${sum.sequenceTypeReason !== undefined ? html` <span class="hint">(${sum.sequenceTypeReason})</span>` : nothing}</dd>
        <dt>Pulseq</dt><dd>${sum.version ?? '?'}</dd>
        <dt>TE / TR</dt><dd>${ms(sum.teS)} / ${ms(sum.trS)}</dd>
        <dt>Flip angle</dt><dd>${sum.flipAngleDeg?.toFixed(1) ?? '?'}°</dd>
        <dt>FOV</dt><dd>${sum.fovM?.map((f) => (f * 1e3).toFixed(0)).join(' × ') ?? '?'} mm</dd>
        <dt>Matrix</dt><dd>${sum.matrix?.join(' × ') ?? '?'}</dd>
        <dt>Duration</dt><dd>${sum.durationS?.toFixed(2) ?? '?'} s, ${sum.adcReadouts ?? '?'} readouts</dd>
        <dt>Signature</dt><dd>${sum.signatureValid === true ? 'valid' : sum.signatureValid === false ? 'INVALID' : 'none'}</dd>
      </dl>
      ${this.waveformError !== '' ? html`<p class="form-error" role="alert">${this.waveformError}</p>` : nothing}
      ${this.waveforms !== undefined ? html`<sh-sequence-plot .waveforms=${this.waveforms}></sh-sequence-plot>` : this.waveformError === '' ? html`<p class="hint">Loading the plot…</p>` : nothing}
    </section>`
  }

  private async inspect (q: Sequence): Promise<void> {
    if (this.inspected === q.id) { this.inspected = undefined; return }
    this.inspected = q.id
    this.waveforms = undefined
    this.waveformError = ''
    try {
      this.waveforms = await this.session.sequenceWaveforms<SequenceWaveforms>(q.id)
    } catch (err) {
      this.waveformError = `the plot needs the hub: ${(err as Error).message}`
    }
  }

  private readonly handleUpload = async (event: Event): Promise<void> => {
    event.preventDefault()
    const form = event.currentTarget as HTMLFormElement
    const file = (form.elements.namedItem('file') as HTMLInputElement).files?.[0]
    const name = (form.elements.namedItem('name') as HTMLInputElement).value.trim()
    if (file === undefined) { this.uploadError = 'choose a .seq file'; return }
    this.uploading = true
    this.uploadError = ''
    try {
      await this.session.uploadSequence(name !== '' ? name : file.name.replace(/\.seq$/i, ''), file)
      form.reset()
    } catch (err) {
      this.uploadError = (err as Error).message
    } finally {
      this.uploading = false
    }
  }

  // ---- templates ----

  /** What a task template does, in a line: its sequence and scanner, or its pipeline and input. */
  private taskTemplateSummary (t: TaskTemplate): string {
    const lab = this.session.lab
    const p = t.parameters as unknown as Record<string, unknown>
    if (t.type === 'ACQUISITION') {
      const sequence = typeof p.sequenceId === 'string' ? lab?.sequences.get(p.sequenceId)?.name ?? `${p.sequenceId} (not in the library)` : 'no sequence yet'
      const device = typeof p.deviceId === 'string' ? lab?.devices.get(p.deviceId)?.name ?? 'a device no longer in the lab' : 'any scanner'
      const calibrations = Array.isArray(p.calibrations) && p.calibrations.length > 0 ? ` · calibrates ${(p.calibrations as string[]).map((c) => c.toLowerCase().replace('_', ' ')).join(', ')}` : ''
      return `${sequence} on ${device}${calibrations}`
    }
    const input = typeof p.inputTaskId === 'string' ? lab?.taskTemplates.get(p.inputTaskId)?.name : undefined
    return `pipeline ${String(p.pipeline)} · input ${input ?? 'chosen in the exam'}`
  }

  /** The selected exam template at a glance: its workflows in order, each with its tasks and what they do. */
  private renderOverview (examTemplate: ExamTemplate): unknown {
    const lab = this.session.lab
    if (lab === undefined) return nothing
    const workflows = lab.workflowTemplates.list({ examTemplateId: examTemplate.id })
    return html`<section class="card overview" aria-label="Overview of ${examTemplate.name}">
      <h2>${examTemplate.name}</h2>
      ${examTemplate.description !== '' ? html`<span class="does">${examTemplate.description}</span>` : nothing}
      ${workflows.length === 0 ? html`<p class="hint">No workflows yet.</p>` : html`<ol>${workflows.map((w) => html`<li><strong>${w.name}</strong>
        <ul>${lab.taskTemplates.list({ workflowTemplateId: w.id }).map((t) => html`<li>${t.name} <span class="type-label">${t.type}</span> <span class="does">${this.taskTemplateSummary(t)}</span></li>`)}</ul>
      </li>`)}</ol>`}
    </section>`
  }

  private addTemplate (level: Level, event: SubmitEvent): void {
    event.preventDefault()
    const data = new FormData(event.target as HTMLFormElement)
    const name = String(data.get('name') ?? '')
    const type = String(data.get('type') ?? 'ACQUISITION') as TaskType
    try {
      this.session.write((lab, actor) => {
        if (level === 'exam') this.examTemplateId = lab.examTemplates.create({ name }, actor).id
        else if (level === 'workflow') this.workflowTemplateId = lab.workflowTemplates.create({ name, examTemplateId: this.examTemplateId }, actor).id
        else {
          const parameters = type === 'ACQUISITION' ? {} : { pipeline: 'default' }
          lab.taskTemplates.create({ name, type, workflowTemplateId: this.workflowTemplateId, parameters } as never, actor)
        }
      })
      this.adding = undefined
      this.templateError = ''
    } catch (err) {
      this.templateError = (err as Error).message
    }
  }

  private renameTemplate (level: Level, id: string, event: SubmitEvent): void {
    event.preventDefault()
    const name = String(new FormData(event.target as HTMLFormElement).get('name') ?? '')
    try {
      this.session.write((lab, actor) => {
        if (level === 'exam') lab.examTemplates.update(id, { name }, actor)
        else if (level === 'workflow') lab.workflowTemplates.update(id, { name }, actor)
        else lab.taskTemplates.update(id, { name }, actor)
      })
      this.renaming = undefined
      this.templateError = ''
    } catch (err) {
      this.templateError = (err as Error).message
    }
  }

  private async removeTemplate (level: Level, id: string, name: string): Promise<void> {
    const what = level === 'exam' ? ' with its workflow and task templates' : level === 'workflow' ? ' with its task templates' : ''
    if (!(await this.confirm.ask(`Delete the ${level} template "${name}"${what}? Exams already made from it stay as they are.`))) return
    try {
      this.session.write((lab, actor) => {
        if (level === 'exam') lab.examTemplates.remove(id, actor)
        else if (level === 'workflow') lab.workflowTemplates.remove(id, actor)
        else lab.taskTemplates.remove(id, actor)
      })
    } catch (err) {
      this.templateError = (err as Error).message
    }
  }

  private renderColumn (level: Level, title: string, items: Array<ExamTemplate | WorkflowTemplate | TaskTemplate>, selected: string | undefined,
    onSelect: ((id: string) => void) | undefined, parentMissing: string | undefined): unknown {
    const canEdit = this.session.canEditTemplates
    // Rename and Delete act on the selected template and sit in the column's header: buttons inside a
    // listbox option could not be reached as buttons by assistive technology.
    const current = items.find((t) => t.id === selected)
    return html`<div class="card column" role="region" aria-label="${title}">
      <header><h2>${title}</h2>${canEdit && parentMissing === undefined
        ? html`<button class="icon small" aria-label="Add ${level} template" @click=${() => { this.adding = level; this.templateError = '' }}>${icon('plus')}</button>` : nothing}
        ${canEdit && current !== undefined
          ? html`<button class="icon small ghost" aria-label="Rename ${current.name}" title="Rename ${current.name}" @click=${() => { this.renaming = { level, id: current.id } }}>${icon('edit')}</button>
            <button class="icon small ghost" aria-label="Delete ${current.name}" title="Delete ${current.name}" @click=${() => { this.removeTemplate(level, current.id, current.name).catch(() => {}) }}>${icon('trash')}</button>`
          : nothing}</header>
      ${this.adding === level ? html`<form @submit=${(e: SubmitEvent) => { this.addTemplate(level, e) }} aria-label="New ${level} template">
        <input name="name" aria-label="Name of the new ${level} template" placeholder="Name" required autofocus>
        ${level === 'task' ? html`<select name="type" aria-label="Task type">
          <option value="ACQUISITION">Acquisition</option><option value="RECONSTRUCTION">Reconstruction</option><option value="PROCESSING">Processing</option>
        </select>` : nothing}
        <button type="submit" class="primary small">Add</button>
        <button type="button" class="small" @click=${() => { this.adding = undefined }}>Cancel</button>
      </form>` : nothing}
      ${parentMissing !== undefined ? html`<p class="empty">${parentMissing}</p>` : items.length === 0 ? html`<p class="empty">None yet.</p>` : html`<ul role="listbox" aria-label=${title}>
        ${items.map((t) => this.renaming?.level === level && this.renaming.id === t.id
          ? html`<li><form style="border:none;padding:0;flex:1" @submit=${(e: SubmitEvent) => { this.renameTemplate(level, t.id, e) }}>
              <input name="name" aria-label="New name" .value=${t.name} required><button type="submit" class="small primary">Save</button>
              <button type="button" class="small" @click=${() => { this.renaming = undefined }}>Cancel</button></form></li>`
          : html`<li role="option" aria-selected=${String(selected === t.id)} tabindex="0"
              @click=${() => { onSelect?.(t.id) }} @keydown=${(e: KeyboardEvent) => { if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); onSelect?.(t.id) } }}>
              ${'type' in t
                ? html`<span class="what"><span class="name" title=${t.description}>${t.name}</span><span class="does">${this.taskTemplateSummary(t)}</span></span>
                  <span class="type-label">${t.type}</span>`
                : html`<span class="name" title=${t.description}>${t.name}</span>`}
            </li>`)}
      </ul>`}
    </div>`
  }

  // ---- automatic sending to PACS: a setting of an exam template, copied to each exam made from it ----

  private setAutoExport (template: ExamTemplate, destinationId: string, on: boolean): void {
    const known = new Set(this.session.destinations().map((d) => d.id))
    const current = (template.autoExportDestinationIds ?? []).filter((id) => known.has(id) && id !== destinationId)
    const next = on ? [...current, destinationId] : current
    try {
      this.session.write((lab, actor) => lab.examTemplates.update(template.id, { autoExportDestinationIds: next.length > 0 ? next : null }, actor))
      this.templateError = ''
    } catch (err) {
      this.templateError = (err as Error).message
    }
  }

  private renderAutoExport (template: ExamTemplate | undefined): unknown {
    if (template === undefined) return nothing
    const destinations = this.session.destinations()
    const chosen = new Set(template.autoExportDestinationIds ?? [])
    const canEdit = this.session.canEditTemplates
    return html`<fieldset class="card auto-export" aria-label="Send automatically: ${template.name}">
      <legend>Send automatically to PACS: ${template.name}</legend>
      <p class="hint">Each finished reconstruction of an exam made from this template is sent to the destinations ticked here. Exams made earlier keep their own setting.</p>
      ${destinations.length === 0
        ? html`<p class="hint">No PACS destinations yet: an admin or engineer adds them on the <a href="/pacs">PACS page</a>.</p>`
        : destinations.map((d) => html`<label><input type="checkbox" .checked=${chosen.has(d.id)} ?disabled=${!canEdit}
            @change=${(e: Event) => { this.setAutoExport(template, d.id, (e.target as HTMLInputElement).checked) }}> ${d.name}</label>`)}
    </fieldset>`
  }

  /**
   * A task template edited with the task form: it holds what a task holds (sequence and protocol,
   * device or any scanner, calibrations; pipeline and the acquisition of its workflow template it reads).
   */
  private renderTaskTemplateEditor (template: TaskTemplate | undefined): unknown {
    const lab = this.session.lab
    if (lab === undefined || template === undefined) return nothing
    if (!this.session.canEditTemplates) return nothing
    // the form edits tasks; a template has a task's fields, and its input names a sibling template
    const asTask = template as unknown as Task
    const siblings = lab.taskTemplates.list({ workflowTemplateId: template.workflowTemplateId })
      .filter((t) => t.type === 'ACQUISITION' && t.id !== template.id) as unknown as Task[]
    const save = (event: CustomEvent<TaskFormValue>): void => {
      const { name, description, parameters } = event.detail
      try {
        this.session.write((l, actor) => l.taskTemplates.update(template.id, { name, description, parameters }, actor))
        this.editingTaskTemplate = undefined
        this.templateError = ''
      } catch (err) {
        this.templateError = (err as Error).message
      }
    }
    return html`<section class="card overview" aria-label="Task template ${template.name}">
      <h2>Task template: ${template.name}</h2>
      <sh-task-form .task=${asTask} .sequences=${lab.sequences.list()} .devices=${lab.devices.list()} .inputTasks=${siblings}
        submitLabel="Save task template" @sh-task-submit=${save} @sh-cancel=${() => { this.editingTaskTemplate = undefined }}></sh-task-form>
    </section>`
  }

  private renderTemplates (): unknown {
    const lab = this.session.lab
    if (lab === undefined) return nothing
    const exams = lab.examTemplates.list()
    const examId = exams.some((t) => t.id === this.examTemplateId) ? this.examTemplateId : undefined
    const workflows = examId === undefined ? [] : lab.workflowTemplates.list({ examTemplateId: examId })
    const workflowId = workflows.some((t) => t.id === this.workflowTemplateId) ? this.workflowTemplateId : undefined
    const tasks = workflowId === undefined ? [] : lab.taskTemplates.list({ workflowTemplateId: workflowId })
    return html`
      ${this.templateError !== '' ? html`<p class="form-error" role="alert">${this.templateError}</p>` : nothing}
      <div class="columns">
        ${this.renderColumn('exam', 'Exam templates', exams, examId, (id) => { this.examTemplateId = id; this.workflowTemplateId = undefined }, undefined)}
        ${this.renderColumn('workflow', 'Workflow templates', workflows, workflowId, (id) => { this.workflowTemplateId = id }, examId === undefined ? 'Select an exam template.' : undefined)}
        ${this.renderColumn('task', 'Task templates', tasks, this.editingTaskTemplate, (id) => { this.editingTaskTemplate = id; this.templateError = '' }, workflowId === undefined ? 'Select a workflow template.' : undefined)}
      </div>
      ${this.renderTaskTemplateEditor(tasks.find((t) => t.id === this.editingTaskTemplate))}
      ${examId !== undefined ? this.renderOverview(exams.find((t) => t.id === examId) as ExamTemplate) : nothing}
      ${examId !== undefined ? this.renderAutoExport(lab.examTemplates.get(examId)) : nothing}
      <sh-confirm-dialog></sh-confirm-dialog>`
  }

  override render (): unknown {
    return html`
      <h1>Library</h1>
      <div role="tablist" aria-label="Library">
        ${TABS.map((t) => html`<button role="tab" aria-selected=${String(this.tab === t.id)} tabindex=${this.tab === t.id ? 0 : -1}
          @click=${() => { this.router.navigate(`/library?tab=${t.id}`) }}>${t.label}</button>`)}
      </div>
      <div role="tabpanel" aria-label=${TABS.find((t) => t.id === this.tab)?.label ?? ''}>
        ${this.tab === 'devices' ? this.renderDevices() : this.tab === 'sequences' ? this.renderSequences() : this.renderTemplates()}
      </div>`
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'sh-library-view': ShLibraryView
  }
}
