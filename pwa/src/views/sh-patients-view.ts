// Patients: a table (ID, names, birthday, sex, height, weight, added, updated, comment), "+" opens a
// create form, rows edit inline, delete asks "Are you sure?", a row opens the patient. The forms check
// every field at once and show each error under its field, in the words of its label; on a phone the
// table's rows become stacked cards, each value beside its column's name.
import { css, html, nothing } from 'lit'
import { customElement, query, state } from 'lit/decorators.js'
import { SEXES, validatePatientPatch } from '../../../protocol/lab/index.ts'
import type { Patient, PatientInput, PatientPatch } from '../../../protocol/lab/index.ts'
import { SessionElement } from '../app/session-element.ts'
import { pageStyles, sharedStyles } from '../styles/shared.ts'
import { icon } from '../styles/icons.ts'
import '../components/sh-confirm-dialog.ts'
import '../components/sh-file-import.ts'
import type { ShConfirmDialog } from '../components/sh-confirm-dialog.ts'
import { errorsFromMessage, fieldError, fieldErrors, focusFirstField, focusFirstInvalid, formError, invalid } from '../components/form-errors.ts'
import type { FieldErrors, FormField } from '../components/form-errors.ts'
import { SEX_LABELS, formatDate, numberOrUndefined, patientName } from './format.ts'

interface Draft { mrn: string, firstName: string, lastName: string, birthDate: string, sex: string, heightCm: string, weightKg: string, comment: string }

const FIELDS: ReadonlyArray<FormField & { name: keyof Draft }> = [
  { name: 'mrn', label: 'Patient ID (MRN)' },
  { name: 'firstName', label: 'First name', required: true },
  { name: 'lastName', label: 'Last name', required: true },
  { name: 'birthDate', label: 'Birthday', required: true },
  { name: 'sex', label: 'Sex', required: true },
  { name: 'heightCm', label: 'Height (cm)' },
  { name: 'weightKg', label: 'Weight (kg)' },
  { name: 'comment', label: 'Comment' }
]
const FIELD = Object.fromEntries(FIELDS.map((f) => [f.name, f])) as Record<keyof Draft, FormField>

/** The lab model's objection to one field of a draft, or undefined; an empty optional field is fine. */
function checkField (name: string, value: string): string | undefined {
  if (value.trim() === '') return undefined
  const raw = name === 'heightCm' || name === 'weightKg' ? numberOrUndefined(value) : value
  const checked = validatePatientPatch({ [name]: raw }, new Date())
  return checked.ok ? undefined : checked.error
}

/** Every error of a draft at once, in plain words. */
function draftErrors (d: Draft): FieldErrors {
  return fieldErrors(FIELDS, { ...d }, checkField)
}

const EMPTY: Draft = { mrn: '', firstName: '', lastName: '', birthDate: '', sex: 'NOT_GIVEN', heightCm: '', weightKg: '', comment: '' }

function draftOf (p: Patient): Draft {
  return {
    mrn: p.mrn ?? '',
    firstName: p.firstName,
    lastName: p.lastName,
    birthDate: p.birthDate,
    sex: p.sex,
    heightCm: p.heightCm === undefined ? '' : String(p.heightCm),
    weightKg: p.weightKg === undefined ? '' : String(p.weightKg),
    comment: p.comment ?? ''
  }
}

@customElement('sh-patients-view')
export class ShPatientsView extends SessionElement {
  static override styles = [sharedStyles, pageStyles, css`
    header { display: flex; align-items: center; gap: 12px; flex-wrap: wrap; }
    .count { color: var(--sh-text-muted); font-weight: 400; }
    .search { position: relative; width: min(320px, 100%); }
    .search svg { position: absolute; left: 8px; top: 8px; color: var(--sh-text-muted); }
    .search input { padding-left: 30px; }
    .create { padding: 16px; }
    .create h2 { margin-bottom: 12px; }
    tbody tr.clickable { cursor: pointer; }
    td.actions { white-space: nowrap; text-align: right; width: 1%; }
    td.comment { max-width: 220px; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
    td a { color: var(--sh-text); font-weight: 600; text-decoration: none; }
    td a:hover { text-decoration: underline; }
    tr.editing td { background: var(--sh-primary-soft); }
    tr.error-row td { padding-top: 0; background: var(--sh-primary-soft); }
    tr.error-row ul { margin: 0; padding-left: 18px; }
    .id { color: var(--sh-text-muted); }
    /* Phones: each patient is a stacked card of "column: value" lines instead of an 11 columns wide row. */
    @media (max-width: 700px) {
      :host { padding: 12px; }
      .table-wrap { border: none; overflow: visible; }
      table.table, .table tbody, .table tr, .table td { display: block; width: 100%; }
      .table thead { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); }
      .table tr { border: 1px solid var(--sh-border); border-radius: 8px; margin-bottom: 8px; padding: 6px 0; background: var(--sh-surface); }
      .table td { display: grid; grid-template-columns: 9em minmax(0, 1fr); gap: 8px; border: none; padding: 4px 12px; text-align: left; }
      .table td.num { text-align: left; }
      .table td::before { content: attr(data-label); font-size: 12px; font-weight: 600; color: var(--sh-text-muted); }
      .table td:empty, .table td.blank { display: none; }
      td.comment { max-width: none; white-space: normal; }
      .table td::before { font-family: var(--sh-font); }
      td.actions { display: flex; gap: 8px; width: auto; }
      td.actions::before { content: none; }
      td.empty, tr.error-row td { display: block; }
      td.empty::before, tr.error-row td::before { content: none; }
    }
  `]

  @state() private search = ''
  @state() private creating = false
  @state() private createDraft: Draft = { ...EMPTY }
  @state() private createErrors: FieldErrors = {}
  @state() private editingId: string | undefined
  @state() private editDraft: Draft = { ...EMPTY }
  @state() private editErrors: FieldErrors = {}
  @query('sh-confirm-dialog') private confirm!: ShConfirmDialog

  private patients (): Patient[] {
    const all = this.session.lab?.patients.list() ?? []
    const q = this.search.trim().toLowerCase()
    if (q === '') return all
    return all.filter((p) => [p.id, p.mrn ?? '', p.firstName, p.lastName, p.birthDate, p.comment ?? '', `${p.lastName}, ${p.firstName}`].some((v) => v.toLowerCase().includes(q)))
  }

  private openCreate (): void {
    this.creating = true
    this.updateComplete.then(() => { focusFirstField(this.renderRoot.querySelector('form.create')) }).catch(() => {})
  }

  private handleCreate (event: SubmitEvent): void {
    event.preventDefault()
    const d = this.createDraft
    const errors = draftErrors(d)
    if (Object.keys(errors).length > 0) {
      this.createErrors = errors
      this.updateComplete.then(() => { focusFirstInvalid(this.renderRoot.querySelector('form.create')) }).catch(() => {})
      return
    }
    const input: PatientInput = { firstName: d.firstName, lastName: d.lastName, birthDate: d.birthDate, sex: d.sex as PatientInput['sex'] }
    const height = numberOrUndefined(d.heightCm)
    const weight = numberOrUndefined(d.weightKg)
    if (height !== undefined) input.heightCm = height
    if (weight !== undefined) input.weightKg = weight
    if (d.comment.trim() !== '') input.comment = d.comment
    if (d.mrn.trim() !== '') input.mrn = d.mrn
    try {
      this.session.write((lab, actor) => lab.patients.create(input, actor))
      this.creating = false
      this.createDraft = { ...EMPTY }
      this.createErrors = {}
    } catch (err) {
      this.createErrors = errorsFromMessage((err as Error).message, FIELDS)
      this.updateComplete.then(() => { focusFirstInvalid(this.renderRoot.querySelector('form.create')) }).catch(() => {})
    }
  }

  private startEdit (p: Patient): void {
    this.editingId = p.id
    this.editDraft = draftOf(p)
    this.editErrors = {}
  }

  private saveEdit (p: Patient): void {
    const d = this.editDraft
    const errors = draftErrors(d)
    if (Object.keys(errors).length > 0) {
      this.editErrors = errors
      this.updateComplete.then(() => { focusFirstInvalid(this.renderRoot.querySelector('tr.editing')) }).catch(() => {})
      return
    }
    const patch: PatientPatch = { firstName: d.firstName, lastName: d.lastName, birthDate: d.birthDate, sex: d.sex as PatientPatch['sex'] }
    patch.heightCm = numberOrUndefined(d.heightCm) ?? null
    patch.weightKg = numberOrUndefined(d.weightKg) ?? null
    patch.comment = d.comment.trim() === '' ? null : d.comment
    patch.mrn = d.mrn.trim() === '' ? null : d.mrn
    try {
      this.session.write((lab, actor) => lab.patients.update(p.id, patch, actor))
      this.editingId = undefined
    } catch (err) {
      this.editErrors = errorsFromMessage((err as Error).message, FIELDS)
    }
  }

  private async removePatient (p: Patient): Promise<void> {
    const ok = await this.confirm.ask(`Delete the patient ${patientName(p)} with all exams, workflows, tasks and results? This cannot be undone.`)
    if (!ok) return
    try {
      this.session.write((lab, actor) => { lab.patients.remove(p.id, actor) })
    } catch (err) {
      this.createErrors = { '': (err as Error).message }
    }
  }

  private openRow (event: Event, p: Patient): void {
    const target = event.composedPath()[0] as HTMLElement
    if (this.editingId === p.id || target.closest('button, input, select, textarea, a') !== null) return
    this.router.navigate(`/patients/${encodeURIComponent(p.id)}`)
  }

  /**
   * The input of a field. Heights and weights are text with a decimal keypad, so that what was typed
   * reaches the check (a number input hands over nothing for "1,,5" and the error would be lost).
   */
  private input (draft: Draft, key: keyof Draft, update: (d: Draft) => void, errors: FieldErrors, prefix: string, type = 'text'): unknown {
    const id = `${prefix}${key}`
    const { label, required } = FIELD[key]
    const onInput = (e: Event): void => { update({ ...draft, [key]: (e.target as HTMLInputElement).value }) }
    const describedBy = errors[key] !== undefined ? `${prefix}${key}-error` : nothing
    if (key === 'sex') {
      return html`<select id=${id} aria-label=${label} .value=${draft.sex} @change=${onInput} aria-required="true" aria-invalid=${invalid(errors, key)} aria-describedby=${describedBy}>
        ${SEXES.map((s) => html`<option value=${s} ?selected=${draft.sex === s}>${SEX_LABELS[s]}</option>`)}
      </select>`
    }
    return html`<input id=${id} aria-label=${label} type=${type === 'number' ? 'text' : type} .value=${draft[key]} @input=${onInput}
      inputmode=${type === 'number' ? 'decimal' : nothing} aria-required=${required === true ? 'true' : nothing} aria-invalid=${invalid(errors, key)} aria-describedby=${describedBy}>`
  }

  private readonly closeCreate = (): void => {
    this.creating = false
    this.createErrors = {}
    this.updateComplete.then(() => { this.renderRoot.querySelector<HTMLElement>('button.new-patient')?.focus() }).catch(() => {})
  }

  private renderCreate (): unknown {
    const d = this.createDraft
    const set = (next: Draft): void => { this.createDraft = next }
    const e = this.createErrors
    const field = (key: keyof Draft, type = 'text'): unknown => html`<div class="field">
      <label for="new-${key}" class=${FIELD[key].required === true ? 'required' : ''}>${FIELD[key].label}</label>${this.input(d, key, set, e, 'new-', type)}${fieldError(e, key, 'new-')}
    </div>`
    return html`<form class="card create" @submit=${this.handleCreate} novalidate aria-labelledby="create-title"
      @keydown=${(ev: KeyboardEvent) => { if (ev.key === 'Escape') this.closeCreate() }}>
      <h2 id="create-title">New patient</h2>
      <p class="required-note">Fields marked <span aria-hidden="true">*</span> are required.</p>
      <div class="form-grid">
        ${field('mrn')}
        ${field('firstName')}
        ${field('lastName')}
        ${field('birthDate', 'date')}
        ${field('sex')}
        ${field('heightCm', 'number')}
        ${field('weightKg', 'number')}
        ${field('comment')}
      </div>
      ${formError(e)}
      <div class="form-actions">
        <button type="button" @click=${this.closeCreate}>Cancel</button>
        <button type="submit" class="primary">Create patient</button>
      </div>
    </form>`
  }

  private renderRow (p: Patient, canEdit: boolean): unknown {
    if (this.editingId === p.id) {
      const d = this.editDraft
      const set = (next: Draft): void => { this.editDraft = next }
      const e = this.editErrors
      const messages = FIELDS.filter((f) => e[f.name] !== undefined).map((f) => html`<li id="edit-${f.name}-error">${e[f.name]}</li>`)
      if (e[''] !== undefined) messages.push(html`<li>${e['']}</li>`)
      return html`<tr class="editing" @keydown=${(ev: KeyboardEvent) => { if (ev.key === 'Enter') this.saveEdit(p); if (ev.key === 'Escape') this.editingId = undefined }}>
        <td data-label="ID">${this.input(d, 'mrn', set, e, 'edit-')}</td>
        <td data-label="Last name">${this.input(d, 'lastName', set, e, 'edit-')}</td>
        <td data-label="First name">${this.input(d, 'firstName', set, e, 'edit-')}</td>
        <td data-label="Birthday">${this.input(d, 'birthDate', set, e, 'edit-', 'date')}</td>
        <td data-label="Sex">${this.input(d, 'sex', set, e, 'edit-')}</td>
        <td class="num" data-label="Height (cm)">${this.input(d, 'heightCm', set, e, 'edit-', 'number')}</td>
        <td class="num" data-label="Weight (kg)">${this.input(d, 'weightKg', set, e, 'edit-', 'number')}</td>
        <td data-label="Added">${formatDate(p.createdAt)}</td>
        <td data-label="Updated">${formatDate(p.updatedAt)}</td>
        <td data-label="Comment">${this.input(d, 'comment', set, e, 'edit-')}</td>
        <td class="actions">
          <button class="icon small primary" aria-label="Save" title="Save" @click=${() => { this.saveEdit(p) }}>${icon('check')}</button>
          <button class="icon small" aria-label="Cancel" title="Cancel" @click=${() => { this.editingId = undefined }}>${icon('close')}</button>
        </td>
      </tr>
      ${messages.length > 0 ? html`<tr class="error-row"><td colspan="11"><ul class="field-error" role="alert">${messages}</ul></td></tr>` : nothing}`
    }
    return html`<tr class="clickable" @click=${(e: Event) => { this.openRow(e, p) }}>
      <td class="mono id" data-label="ID" title=${p.mrn !== undefined ? `Patient ID ${p.mrn} (lab id ${p.id})` : `lab id ${p.id}: no patient ID (MRN) given`}>${p.mrn ?? html`<span class="muted">${p.id.slice(0, 8)}</span>`}</td>
      <td data-label="Last name"><a href="/patients/${encodeURIComponent(p.id)}">${p.lastName}</a></td>
      <td data-label="First name">${p.firstName}</td>
      <td data-label="Birthday">${formatDate(p.birthDate)}</td>
      <td data-label="Sex">${SEX_LABELS[p.sex] ?? p.sex}</td>
      <td class="num ${p.heightCm === undefined ? 'blank' : ''}" data-label="Height (cm)">${p.heightCm ?? ''}</td>
      <td class="num ${p.weightKg === undefined ? 'blank' : ''}" data-label="Weight (kg)">${p.weightKg ?? ''}</td>
      <td data-label="Added">${formatDate(p.createdAt)}</td>
      <td data-label="Updated">${formatDate(p.updatedAt)}</td>
      <td class="comment ${p.comment === undefined ? 'blank' : ''}" data-label="Comment" title=${p.comment ?? ''}>${p.comment ?? ''}</td>
      <td class="actions">${canEdit
        ? html`<button class="icon small ghost" aria-label="Edit ${patientName(p)}" title="Edit" @click=${() => { this.startEdit(p) }}>${icon('edit')}</button>
          <button class="icon small ghost" aria-label="Delete ${patientName(p)}" title="Delete" @click=${() => { this.removePatient(p).catch(() => {}) }}>${icon('trash')}</button>`
        : nothing}</td>
    </tr>`
  }

  override render (): unknown {
    const canEdit = this.session.canEditPatients
    const patients = this.patients()
    const total = this.session.lab?.patients.list().length ?? 0
    return html`
      <header>
        <h1>Patients <span class="count">(${total})</span></h1>
        <div class="search">${icon('search')}<input type="search" aria-label="Search patients" placeholder="Search name, ID, birthday…"
          .value=${this.search} @input=${(e: Event) => { this.search = (e.target as HTMLInputElement).value }}></div>
        <span class="spacer"></span>
        ${this.session.canEditPatients ? html`<button @click=${() => { this.router.navigate('/worklist') }} aria-label="From worklist">${icon('download')} From worklist</button>` : nothing}
        ${canEdit ? html`<button class="primary new-patient" @click=${this.openCreate} ?disabled=${this.creating} aria-label="New patient">${icon('plus')} New patient</button>` : html`<span class="muted">Read only</span>`}
      </header>
      ${this.creating ? this.renderCreate() : nothing}
      ${canEdit ? html`<sh-file-import></sh-file-import>` : nothing}
      <div class="table-wrap">
        <table class="table" aria-label="Patients">
          <thead><tr>
            <th>ID</th><th>Last name</th><th>First name</th><th>Birthday</th><th>Sex</th><th class="num">Height (cm)</th><th class="num">Weight (kg)</th>
            <th>Added</th><th>Updated</th><th>Comment</th><th><span class="visually-hidden">Actions</span></th>
          </tr></thead>
          <tbody>
            ${patients.map((p) => this.renderRow(p, canEdit))}
            ${patients.length === 0 ? html`<tr><td colspan="11" class="empty">${total === 0 ? 'No patients yet.' : 'No patient matches the search.'}</td></tr>` : nothing}
          </tbody>
        </table>
      </div>
      <sh-confirm-dialog></sh-confirm-dialog>`
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'sh-patients-view': ShPatientsView
  }
}
