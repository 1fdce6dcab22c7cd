// Patients: a table (ID, names, birthday, sex, height, weight, added, updated, comment), "+" opens a
// create form, rows edit inline, delete asks "Are you sure?", a row opens the patient.
import { css, html, nothing } from 'lit'
import { customElement, query, state } from 'lit/decorators.js'
import { SEXES } from '../../../protocol/lab/index.ts'
import type { Patient, PatientInput, PatientPatch } from '../../../protocol/lab/index.ts'
import { SessionElement } from '../app/session-element.ts'
import { sharedStyles } from '../styles/shared.ts'
import { icon } from '../styles/icons.ts'
import '../components/sh-confirm-dialog.ts'
import '../components/sh-file-import.ts'
import type { ShConfirmDialog } from '../components/sh-confirm-dialog.ts'
import { errorsFromMessage, fieldError, formError, invalid } from '../components/form-errors.ts'
import type { FieldErrors } from '../components/form-errors.ts'
import { SEX_LABELS, formatDate, numberOrUndefined, patientName } from './format.ts'

const FIELDS = ['mrn', 'firstName', 'lastName', 'birthDate', 'sex', 'heightCm', 'weightKg', 'comment'] as const

interface Draft { mrn: string, firstName: string, lastName: string, birthDate: string, sex: string, heightCm: string, weightKg: string, comment: string }

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
  static override styles = [sharedStyles, css`
    :host { display: flex; flex-direction: column; gap: 16px; padding: 20px; height: 100%; overflow: auto; }
    header { display: flex; align-items: center; gap: 12px; flex-wrap: wrap; }
    .count { color: var(--sh-text-muted); font-weight: 400; }
    .search { position: relative; width: min(320px, 100%); }
    .search svg { position: absolute; left: 8px; top: 8px; color: var(--sh-text-muted); }
    .search input { padding-left: 30px; }
    .create { padding: 16px; }
    .create h2 { margin-bottom: 12px; }
    .table-wrap { overflow: auto; border: 1px solid var(--sh-border); border-radius: 8px; }
    tbody tr.clickable { cursor: pointer; }
    td.actions { white-space: nowrap; text-align: right; width: 1%; }
    td.comment { max-width: 220px; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
    td a { color: var(--sh-text); font-weight: 600; text-decoration: none; }
    td a:hover { text-decoration: underline; }
    tr.editing td { background: var(--sh-primary-soft); }
    tr.error-row td { padding-top: 0; background: var(--sh-primary-soft); }
    .id { color: var(--sh-text-muted); }
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

  private handleCreate (event: SubmitEvent): void {
    event.preventDefault()
    const d = this.createDraft
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
    }
  }

  private startEdit (p: Patient): void {
    this.editingId = p.id
    this.editDraft = draftOf(p)
    this.editErrors = {}
  }

  private saveEdit (p: Patient): void {
    const d = this.editDraft
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

  private input (draft: Draft, key: keyof Draft, update: (d: Draft) => void, errors: FieldErrors, prefix: string, label: string, type = 'text'): unknown {
    const id = `${prefix}${key}`
    const onInput = (e: Event): void => { update({ ...draft, [key]: (e.target as HTMLInputElement).value }) }
    if (key === 'sex') {
      return html`<select id=${id} aria-label=${label} .value=${draft.sex} @change=${onInput} aria-invalid=${invalid(errors, key)} aria-describedby="${prefix}${key}-error">
        ${SEXES.map((s) => html`<option value=${s} ?selected=${draft.sex === s}>${SEX_LABELS[s]}</option>`)}
      </select>`
    }
    return html`<input id=${id} aria-label=${label} type=${type} .value=${draft[key]} @input=${onInput}
      inputmode=${type === 'number' ? 'decimal' : 'text'} aria-invalid=${invalid(errors, key)} aria-describedby="${prefix}${key}-error">`
  }

  private renderCreate (): unknown {
    const d = this.createDraft
    const set = (next: Draft): void => { this.createDraft = next }
    const e = this.createErrors
    const field = (key: keyof Draft, label: string, type = 'text'): unknown => html`<div class="field">
      <label for="new-${key}">${label}</label>${this.input(d, key, set, e, 'new-', label, type)}${fieldError(e, key, 'new-')}
    </div>`
    return html`<form class="card create" @submit=${this.handleCreate} novalidate aria-labelledby="create-title">
      <h2 id="create-title">New patient</h2>
      <div class="form-grid">
        ${field('mrn', 'Patient ID (MRN)')}
        ${field('firstName', 'First name')}
        ${field('lastName', 'Last name')}
        ${field('birthDate', 'Birthday', 'date')}
        ${field('sex', 'Sex')}
        ${field('heightCm', 'Height (cm)', 'number')}
        ${field('weightKg', 'Weight (kg)', 'number')}
        ${field('comment', 'Comment')}
      </div>
      ${formError(e)}
      <div class="form-actions">
        <button type="button" @click=${() => { this.creating = false; this.createErrors = {} }}>Cancel</button>
        <button type="submit" class="primary">Create patient</button>
      </div>
    </form>`
  }

  private renderRow (p: Patient, canEdit: boolean): unknown {
    if (this.editingId === p.id) {
      const d = this.editDraft
      const set = (next: Draft): void => { this.editDraft = next }
      const e = this.editErrors
      const errorText = Object.values(e)[0]
      return html`<tr class="editing" @keydown=${(ev: KeyboardEvent) => { if (ev.key === 'Enter') this.saveEdit(p); if (ev.key === 'Escape') this.editingId = undefined }}>
        <td>${this.input(d, 'mrn', set, e, 'edit-', 'Patient ID (MRN)')}</td>
        <td>${this.input(d, 'lastName', set, e, 'edit-', 'Last name')}</td>
        <td>${this.input(d, 'firstName', set, e, 'edit-', 'First name')}</td>
        <td>${this.input(d, 'birthDate', set, e, 'edit-', 'Birthday', 'date')}</td>
        <td>${this.input(d, 'sex', set, e, 'edit-', 'Sex')}</td>
        <td class="num">${this.input(d, 'heightCm', set, e, 'edit-', 'Height (cm)', 'number')}</td>
        <td class="num">${this.input(d, 'weightKg', set, e, 'edit-', 'Weight (kg)', 'number')}</td>
        <td>${formatDate(p.createdAt)}</td>
        <td>${formatDate(p.updatedAt)}</td>
        <td>${this.input(d, 'comment', set, e, 'edit-', 'Comment')}</td>
        <td class="actions">
          <button class="icon small primary" aria-label="Save" title="Save" @click=${() => { this.saveEdit(p) }}>${icon('check')}</button>
          <button class="icon small" aria-label="Cancel" title="Cancel" @click=${() => { this.editingId = undefined }}>${icon('close')}</button>
        </td>
      </tr>
      ${errorText !== undefined ? html`<tr class="error-row"><td colspan="11"><span class="field-error" role="alert">${errorText}</span></td></tr>` : nothing}`
    }
    return html`<tr class="clickable" @click=${(e: Event) => { this.openRow(e, p) }}>
      <td class="mono id" title=${p.mrn !== undefined ? `Patient ID ${p.mrn} (lab id ${p.id})` : `lab id ${p.id}: no patient ID (MRN) given`}>${p.mrn ?? html`<span class="muted">${p.id.slice(0, 8)}</span>`}</td>
      <td><a href="/patients/${encodeURIComponent(p.id)}">${p.lastName}</a></td>
      <td>${p.firstName}</td>
      <td>${formatDate(p.birthDate)}</td>
      <td>${SEX_LABELS[p.sex] ?? p.sex}</td>
      <td class="num">${p.heightCm ?? ''}</td>
      <td class="num">${p.weightKg ?? ''}</td>
      <td>${formatDate(p.createdAt)}</td>
      <td>${formatDate(p.updatedAt)}</td>
      <td class="comment" title=${p.comment ?? ''}>${p.comment ?? ''}</td>
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
        ${canEdit ? html`<button class="primary" @click=${() => { this.creating = true }} ?disabled=${this.creating} aria-label="New patient">${icon('plus')} New patient</button>` : html`<span class="muted">Read only</span>`}
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
