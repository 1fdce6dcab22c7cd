// The PACS page (/pacs): the lab's destinations (a DICOM C-STORE receiver by AE title, host and port, or
// a DICOMweb server by its base URL), added, changed and deleted by admins and engineers and read by
// everyone; "Test connection" asks the hub for a C-ECHO or a QIDO-RS query and shows how long the answer
// took, or why there was none. Below, the hub's export queue with each export's state and counts and what
// the destination refused, followed every 2 s while one is queued or sending (every 10 s otherwise) for
// as long as the page is open. Destinations are read from the synced lab document; changes, tests and
// exports go through the hub, which checks them and does the sending.
import { css, html, nothing } from 'lit'
import { customElement, query, state } from 'lit/decorators.js'
import { keyed } from 'lit/directives/keyed.js'
import { validateDestinationInput, validateDestinationPatch } from '../../../protocol/lab/index.ts'
import type { DestinationInput, DestinationKind, DestinationPatch } from '../../../protocol/lab/index.ts'
import { SessionElement } from '../app/session-element.ts'
import { pageStyles, sharedStyles } from '../styles/shared.ts'
import { icon } from '../styles/icons.ts'
import '../components/sh-confirm-dialog.ts'
import type { ShConfirmDialog } from '../components/sh-confirm-dialog.ts'
import { errorsFromMessage, fieldError, fieldErrors, focusFirstInvalid, formError, invalid } from '../components/form-errors.ts'
import type { FieldErrors, FormField } from '../components/form-errors.ts'
import { EXPORT_POLL_MS, EXPORT_STATE_LABELS, exportActive, exportSituation } from '../components/sh-send-to-pacs.ts'
import { HubUnreachableError } from '../services/api.ts'
import type { DestinationView, EchoResult, ExportView } from '../services/lab-session.ts'
import { formatDateTime, numberOrUndefined, patientName } from './format.ts'

/** The fields of each kind's form, as the messages about them name them. */
const FIELDS: Record<DestinationKind, readonly FormField[]> = {
  dimse: [
    { name: 'name', label: 'Name', required: true },
    { name: 'aeTitle', label: 'AE title of the PACS', required: true },
    { name: 'host', label: 'Host', required: true },
    { name: 'port', label: 'Port', required: true },
    { name: 'callingAeTitle', label: 'Calling AE title' }
  ],
  dicomweb: [
    { name: 'name', label: 'Name', required: true },
    { name: 'url', label: 'DICOMweb base URL', required: true },
    { name: 'username', label: 'User name' },
    { name: 'password', label: 'Password' }
  ]
}

const KIND_LABELS: Record<DestinationKind, string> = { dimse: 'DICOM (C-STORE)', dicomweb: 'DICOMweb (STOW-RS)' }

/** How often the queue is read while nothing in it is moving (exports may be queued by other pages or automatically). */
const IDLE_POLL_MS = 10_000

/** Where a destination is reached: AE title@host:port, or the URL (with the user name). */
export function destinationAddress (d: DestinationView): string {
  if (d.kind === 'dimse') return `${d.aeTitle}@${d.host}:${d.port}${d.callingAeTitle !== undefined ? ` (calling as ${d.callingAeTitle})` : ''}`
  return `${d.url}${d.username !== undefined ? ` (user ${d.username}${d.hasPassword ? ', with password' : ''})` : ''}`
}

@customElement('sh-pacs-view')
export class ShPacsView extends SessionElement {
  static override styles = [sharedStyles, pageStyles, css`
    header { display: flex; align-items: center; gap: 12px; }
    .intro { margin: 0; color: var(--sh-text-muted); max-width: 80ch; }
    .editor { padding: 16px; }
    .editor h2 { margin-bottom: 12px; }
    td.actions { white-space: nowrap; text-align: right; width: 1%; }
    td.kind, td.test button { white-space: nowrap; }
    .ok { color: var(--sh-success); font-weight: 600; }
    .state { font-weight: 600; }
    .state.done { color: var(--sh-success); } .state.failed { color: var(--sh-danger); } .state.queued, .state.sending { color: var(--sh-info); }
    .situation { display: block; font-size: 12px; color: var(--sh-text-muted); }
    .refused { margin: 4px 0 0; padding-left: 16px; color: var(--sh-danger); font-size: 12px; }
    h2.queue { margin-top: 8px; }
    label.check { display: flex; align-items: center; gap: 6px; font-size: 13px; }
    label.check input { width: auto; min-height: 0; }
  `]

  /** the form: a new destination (no id), the one being changed, or none */
  @state() private editing: { id?: string } | undefined
  @state() private kind: DestinationKind = 'dimse'
  @state() private errors: FieldErrors = {}
  @state() private saving = false
  @state() private rowError = ''
  @state() private echoes: Record<string, EchoResult | 'testing'> = {}
  @state() private exports: ExportView[] = []
  @state() private exportsError = ''
  @query('sh-confirm-dialog') private confirm!: ShConfirmDialog
  private timer: ReturnType<typeof setTimeout> | undefined
  private open = false

  override connectedCallback (): void {
    super.connectedCallback()
    this.open = true
    this.refreshExports().catch(() => {})
  }

  override disconnectedCallback (): void {
    super.disconnectedCallback()
    this.open = false
    clearTimeout(this.timer)
    this.timer = undefined
  }

  // ---- the export queue ----

  private async refreshExports (): Promise<void> {
    clearTimeout(this.timer)
    this.timer = undefined
    try {
      this.exports = await this.session.listExports()
      this.exportsError = ''
    } catch (err) {
      this.exportsError = err instanceof HubUnreachableError ? 'The export queue is on the hub, which cannot be reached now.' : (err as Error).message
    }
    if (!this.open) return
    this.timer = setTimeout(() => { this.refreshExports().catch(() => {}) }, this.exports.some(exportActive) ? EXPORT_POLL_MS : IDLE_POLL_MS)
  }

  /** What an export sends, in words, with a link to its patient. */
  private renderWhat (view: ExportView): unknown {
    const lab = this.session.lab
    const patient = lab?.patients.get(view.patientId)
    const what = view.taskId !== undefined
      ? `Series ${lab?.tasks.get(view.taskId)?.name ?? '(deleted task)'}`
      : `Exam ${view.examId !== undefined ? lab?.exams.get(view.examId)?.name ?? '(deleted exam)' : ''}`
    // a series opens with its task selected on the patient's page
    const href = `/patients/${encodeURIComponent(view.patientId)}${view.taskId !== undefined ? `?task=${encodeURIComponent(view.taskId)}` : ''}`
    return html`${what}${patient !== undefined ? html` of <a href=${href}>${patientName(patient)}</a>` : nothing}`
  }

  private renderExports (): unknown {
    const names = new Map(this.session.destinations().map((d) => [d.id, d.name]))
    return html`
      <h2 class="queue" id="exports-title">Exports</h2>
      <p class="intro">Images this hub sends or has sent, newest first: by hand from a patient's exam or series, or automatically when a
        reconstruction of an exam that sends automatically finishes. A destination that cannot be reached is tried again (8 tries, 2 s, 4 s, … apart);
        an image is never sent twice to the same destination.</p>
      ${this.exportsError !== '' ? html`<p class="form-error" role="alert">${this.exportsError}</p>` : nothing}
      <div class="table-wrap" tabindex="0" role="region" aria-labelledby="exports-title"><table class="table" aria-labelledby="exports-title">
        <thead><tr><th>Started</th><th>What</th><th>Destination</th><th>State</th><th class="num">Sent</th><th class="num">Already there</th><th class="num">Refused</th><th class="num">Total</th></tr></thead>
        <tbody>
          ${this.exports.length === 0 ? html`<tr><td colspan="8" class="empty">Nothing sent yet.</td></tr>` : nothing}
          ${this.exports.map((v) => html`<tr aria-label="Export ${v.id}">
            <td>${formatDateTime(v.createdAt)}<span class="situation">by ${v.createdBy}${v.automatic ? ' (automatic)' : ''}</span></td>
            <td>${this.renderWhat(v)}</td>
            <td>${names.get(v.destinationId) ?? 'a deleted destination'}</td>
            <td><span class="state ${v.state}">${EXPORT_STATE_LABELS[v.state]}</span><span class="situation">${exportSituation(v)}</span>
              ${v.errors.length > 0 ? html`<details><summary>What the destination refused (${v.errors.length})</summary><ul class="refused">
                ${v.errors.map((e) => html`<li>${e.file}${e.sopInstanceUid !== undefined ? html` <span class="mono">${e.sopInstanceUid}</span>` : nothing}: ${e.error}</li>`)}
              </ul></details>` : nothing}</td>
            <td class="num">${v.sent}</td><td class="num">${v.skipped}</td><td class="num">${v.failed}</td><td class="num">${v.total}</td>
          </tr>`)}
        </tbody>
      </table></div>`
  }

  // ---- destinations ----

  private openForm (destination?: DestinationView): void {
    this.editing = { id: destination?.id }
    this.kind = destination?.kind ?? 'dimse'
    this.errors = {}
  }

  private closeForm (): void {
    this.editing = undefined
    this.errors = {}
  }

  /**
   * The form's fields as the hub takes them: a new destination whole; a change with every field of its
   * kind, an emptied optional field cleared (null), and the password only when one is typed or removed.
   */
  private formValue (form: HTMLFormElement, creating: boolean): Record<string, unknown> {
    const data = new FormData(form)
    const text = (k: string): string => String(data.get(k) ?? '').trim()
    // an empty required field is missing from a new destination ("… is required"), and kept empty in a change so that the check names it
    const required = (k: string): string | undefined => text(k) !== '' ? text(k) : creating ? undefined : ''
    const optional = (k: string): string | null | undefined => text(k) !== '' ? text(k) : creating ? undefined : null
    const value: Record<string, unknown> = { name: required('name') }
    if (creating) value.kind = this.kind
    if (this.kind === 'dimse') {
      value.aeTitle = required('aeTitle')
      value.host = required('host')
      value.port = numberOrUndefined(text('port')) ?? (creating ? undefined : null)
      value.callingAeTitle = optional('callingAeTitle')
    } else {
      value.url = required('url')
      value.username = optional('username')
      const password = String(data.get('password') ?? '')
      if (password !== '') value.password = password
      else if (data.get('removePassword') !== null) value.password = null
    }
    return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined))
  }

  private async handleSubmit (event: SubmitEvent): Promise<void> {
    event.preventDefault()
    const editing = this.editing
    if (editing === undefined) return
    const creating = editing.id === undefined
    const current = creating ? undefined : this.session.destinations().find((d) => d.id === editing.id)
    if (!creating && current === undefined) {
      this.errors = { '': 'This destination was deleted meanwhile.' }
      return
    }
    const form = event.target as HTMLFormElement
    const fields = FIELDS[this.kind]
    // every field by the lab model's own checks first, so that all mistakes are named at once, offline too
    const data = new FormData(form)
    const texts = Object.fromEntries(fields.map((f) => [f.name, String(data.get(f.name) ?? '')]))
    const errors = fieldErrors(fields, texts, (name, text) => {
      if (text.trim() === '') return undefined
      const checked = validateDestinationPatch({ [name]: name === 'port' ? numberOrUndefined(text) : name === 'password' ? text : text.trim() }, { kind: this.kind })
      return checked.ok ? undefined : checked.error
    })
    const value = this.formValue(form, creating)
    const checked = current === undefined ? validateDestinationInput(value) : validateDestinationPatch(value, current)
    if (Object.keys(errors).length > 0 || !checked.ok) {
      this.errors = Object.keys(errors).length > 0 ? errors : errorsFromMessage(checked.ok ? '' : checked.error, fields)
      this.updateComplete.then(() => { focusFirstInvalid(form) }).catch(() => {})
      return
    }
    this.saving = true
    try {
      if (current === undefined) await this.session.createDestination(checked.value as DestinationInput)
      else await this.session.updateDestination(current.id, checked.value as DestinationPatch)
      this.closeForm()
    } catch (err) {
      this.errors = err instanceof HubUnreachableError
        ? { '': 'Destinations are changed through the hub, which cannot be reached now. Try again when it is back.' }
        : errorsFromMessage((err as Error).message, fields)
    } finally {
      this.saving = false
    }
  }

  private async removeDestination (destination: DestinationView): Promise<void> {
    if (!(await this.confirm.ask(`Delete the destination ${destination.name}? Exports queued for it then fail; images it has stay there.`))) return
    try {
      await this.session.removeDestination(destination.id)
      this.rowError = ''
    } catch (err) {
      this.rowError = err instanceof HubUnreachableError ? 'Deleting needs the hub, which cannot be reached now.' : (err as Error).message
    }
  }

  private async test (destination: DestinationView): Promise<void> {
    this.echoes = { ...this.echoes, [destination.id]: 'testing' }
    let result: EchoResult
    try {
      result = await this.session.testDestination(destination.id)
    } catch (err) {
      result = { ok: false, error: err instanceof HubUnreachableError ? 'the test is made by the hub, which cannot be reached now' : (err as Error).message }
    }
    this.echoes = { ...this.echoes, [destination.id]: result }
  }

  private renderEcho (id: string): unknown {
    const echo = this.echoes[id]
    if (echo === undefined) return nothing
    if (echo === 'testing') return html`<span class="muted" role="status">Testing…</span>`
    return echo.ok
      ? html`<span class="ok" role="status">${icon('check')} OK, ${Math.round(echo.ms)} ms</span>`
      : html`<span class="field-error" role="alert">${echo.error}</span>`
  }

  private renderForm (): unknown {
    const editing = this.editing
    if (editing === undefined) return nothing
    const current = editing.id === undefined ? undefined : this.session.destinations().find((d) => d.id === editing.id)
    const heading = current === undefined ? 'New destination' : `Change ${current.name}`
    const e = this.errors
    const field = (name: string, label: string, value: string, options: { type?: string, placeholder?: string, autocomplete?: string } = {}): unknown => html`<div class="field">
      <label for="d-${name}">${label}</label>
      <input id="d-${name}" name=${name} type=${options.type ?? 'text'} .value=${value} placeholder=${options.placeholder ?? ''} autocomplete=${options.autocomplete ?? 'off'}
        aria-invalid=${invalid(e, name)} aria-describedby="${name}-error">
      ${fieldError(e, name)}
    </div>`
    const dimse = current?.kind === 'dimse' ? current : undefined
    const web = current?.kind === 'dicomweb' ? current : undefined
    // keyed: a form opened again starts from the stored values, not from what was typed before
    return keyed(editing.id ?? 'new', html`<form class="card editor" @submit=${this.handleSubmit} novalidate aria-label=${heading}>
      <h2>${heading}</h2>
      <div class="form-grid">
        ${field('name', 'Name', current?.name ?? '', { placeholder: 'Hospital PACS' })}
        <div class="field">
          <label for="d-kind">Kind</label>
          <select id="d-kind" name="kind" ?disabled=${current !== undefined} aria-invalid=${invalid(e, 'kind')}
            @change=${(ev: Event) => { this.kind = (ev.target as HTMLSelectElement).value as DestinationKind; this.errors = {} }}>
            ${(Object.keys(KIND_LABELS) as DestinationKind[]).map((k) => html`<option value=${k} ?selected=${k === this.kind}>${KIND_LABELS[k]}</option>`)}
          </select>
          ${fieldError(e, 'kind')}
        </div>
        ${this.kind === 'dimse'
          ? html`${field('aeTitle', 'AE title of the PACS', dimse?.aeTitle ?? '', { placeholder: 'PACS' })}
            ${field('host', 'Host', dimse?.host ?? '', { placeholder: 'pacs.hospital.org' })}
            ${field('port', 'Port', dimse?.port === undefined ? '' : String(dimse.port), { type: 'number', placeholder: '104' })}
            ${field('callingAeTitle', 'Calling AE title (empty: SCANHUB)', dimse?.callingAeTitle ?? '')}`
          : html`${field('url', 'DICOMweb base URL', web?.url ?? '', { type: 'url', placeholder: 'http://pacs:8042/dicom-web' })}
            ${field('username', 'User name (optional)', web?.username ?? '')}
            ${field('password', web?.hasPassword === true ? 'Password (empty: keep it)' : 'Password (optional)', '', { type: 'password', autocomplete: 'new-password' })}
            ${web?.hasPassword === true ? html`<label class="check"><input type="checkbox" name="removePassword"> Remove the password</label>` : nothing}`}
      </div>
      ${formError(e)}
      <div class="form-actions">
        <button type="button" @click=${() => { this.closeForm() }}>Cancel</button>
        <button type="submit" class="primary" ?disabled=${this.saving}>${current === undefined ? 'Add destination' : 'Save'}</button>
      </div>
    </form>`)
  }

  override render (): unknown {
    const destinations = this.session.destinations()
    const canEdit = this.session.canEditDestinations
    const canTest = this.session.canSendToPacs
    return html`
      <header>
        <h1>PACS</h1><span class="spacer"></span>
        ${canEdit ? html`<button class="primary" ?disabled=${this.editing?.id === undefined && this.editing !== undefined} @click=${() => { this.openForm() }}>${icon('plus')} New destination</button>` : nothing}
      </header>
      <p class="intro">Where the lab sends its images: a PACS or workstation that takes DICOM C-STORE (its AE title, host and port), or a DICOMweb
        server (STOW-RS). ${canEdit ? 'Admins and engineers change them.' : 'Admins and engineers change them; you can see them.'}</p>
      ${this.renderForm()}
      ${this.rowError !== '' ? html`<p class="form-error" role="alert">${this.rowError}</p>` : nothing}
      <div class="table-wrap" tabindex="0" role="region" aria-label="Destinations, scrolls sideways"><table class="table" aria-label="Destinations">
        <thead><tr><th>Name</th><th>Kind</th><th>Address</th><th>Connection</th><th><span class="visually-hidden">Actions</span></th></tr></thead>
        <tbody>
          ${destinations.length === 0 ? html`<tr><td colspan="5" class="empty">No destinations yet.${canEdit ? ' Add one with "New destination".' : ''}</td></tr>` : nothing}
          ${destinations.map((d) => html`<tr aria-label="Destination ${d.name}">
            <td><strong>${d.name}</strong></td>
            <td class="kind">${KIND_LABELS[d.kind]}</td>
            <td class="mono">${destinationAddress(d)}</td>
            <td class="test">
              ${canTest ? html`<button class="small" ?disabled=${this.echoes[d.id] === 'testing'} @click=${() => { this.test(d).catch(() => {}) }}>Test connection</button>` : nothing}
              ${this.renderEcho(d.id)}
            </td>
            <td class="actions">${canEdit
              ? html`<button class="icon small ghost" aria-label="Change ${d.name}" @click=${() => { this.openForm(d) }}>${icon('edit')}</button>
                <button class="icon small ghost" aria-label="Delete ${d.name}" @click=${() => { this.removeDestination(d).catch(() => {}) }}>${icon('trash')}</button>`
              : nothing}</td>
          </tr>`)}
        </tbody>
      </table></div>
      ${this.renderExports()}
      <sh-confirm-dialog></sh-confirm-dialog>`
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'sh-pacs-view': ShPacsView
  }
}
