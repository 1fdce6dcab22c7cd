// The hospital's modality worklist (from the Patients page, "From worklist"): the scheduled procedures of
// a day for a modality and station, asked by the hub from the lab's worklist provider. "Pick" makes the
// row's patient (matched by patient ID) and exam with the hospital's accession number and study UID, then
// opens the patient. Rows the hospital left incomplete say what they lack; one without a patient ID cannot
// be picked.
import { css, html, nothing } from 'lit'
import { customElement, state } from 'lit/decorators.js'
import { SessionElement } from '../app/session-element.ts'
import { pageStyles, sharedStyles } from '../styles/shared.ts'
import { icon } from '../styles/icons.ts'
import { HubUnreachableError } from '../services/api.ts'
import type { WorklistAnswerView, WorklistEntryView } from '../services/lab-session.ts'
import { formatDate } from './format.ts'

/** The entry fields in words, for "missing: …". */
const FIELD_LABELS: Record<string, string> = {
  patientId: 'patient ID',
  patientName: 'name',
  birthDate: 'birth date',
  sex: 'sex',
  accessionNumber: 'accession number',
  requestedProcedureId: 'requested procedure ID',
  requestedProcedureDescription: 'procedure',
  studyInstanceUid: 'study UID',
  scheduledStart: 'time',
  modality: 'modality',
  stationAeTitle: 'station',
  scheduledProcedureStepId: 'step ID'
}

/** How long a picked patient may take to arrive here by sync before the page opens anyway. */
const SYNC_WAIT_MS = 10_000

/** Today as YYYY-MM-DD in this device's time zone (the value of a date input). */
function todayIso (): string {
  const now = new Date()
  return `${now.getFullYear()}-${String(now.getMonth() + 1).padStart(2, '0')}-${String(now.getDate()).padStart(2, '0')}`
}

/** 'Curie^Marie' as 'Curie, Marie', as the lab writes patients. */
function personName (name: string | undefined): string {
  if (name === undefined) return ''
  const [family = '', given = ''] = name.split('^')
  return given !== '' ? `${family}, ${given}` : family
}

/** The scheduled time in this user's locale; the day too, when it is not the day asked for. */
function scheduledTime (start: string | undefined, day: string): string {
  if (start === undefined) return ''
  const [date, time] = start.split('T')
  if (time === undefined) return formatDate(date)
  const at = new Date(`${date}T${time}`)
  if (Number.isNaN(at.getTime())) return start
  const clock = at.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' })
  return date === day ? clock : `${formatDate(date)} ${clock}`
}

@customElement('sh-worklist-view')
export class ShWorklistView extends SessionElement {
  static override styles = [sharedStyles, pageStyles, css`
    header { display: flex; align-items: center; gap: 12px; flex-wrap: wrap; }
    .intro { margin: 0; color: var(--sh-text-muted); max-width: 72ch; }
    form.query { display: flex; gap: 12px; align-items: flex-end; flex-wrap: wrap; }
    form.query .field { width: 170px; }
    td.actions { white-space: nowrap; text-align: right; width: 1%; }
    td.mono { white-space: nowrap; }
    .lacks { font-size: 12px; color: var(--sh-text-muted); }
    .lacks.blocking { color: var(--sh-danger); }
  `]

  @state() private date = todayIso()
  @state() private modality = 'MR'
  @state() private station = ''
  @state() private destinationId = ''
  @state() private answer: WorklistAnswerView | undefined
  @state() private asking = false
  @state() private error = ''
  @state() private picking: WorklistEntryView | undefined

  override connectedCallback (): void {
    super.connectedCallback()
    this.ask().catch(() => {})
  }

  /** The lab's DICOM destinations: any of them may be the worklist provider. */
  private providers (): Array<{ id: string, name: string }> {
    return (this.session.lab?.destinations.list() ?? []).filter((d) => d.kind === 'dimse')
  }

  private async ask (event?: Event): Promise<void> {
    event?.preventDefault()
    if (!/^\d{4}-\d{2}-\d{2}$/.test(this.date)) {
      this.error = 'Give the day of the scheduled procedures.'
      return
    }
    this.asking = true
    this.error = ''
    try {
      this.answer = await this.session.queryWorklist({ date: this.date.replaceAll('-', ''), modality: this.modality.trim(), station: this.station.trim(), destinationId: this.destinationId })
    } catch (err) {
      this.answer = undefined
      this.error = err instanceof HubUnreachableError ? 'The worklist is asked for by the hub, which cannot be reached now.' : (err as Error).message
    } finally {
      this.asking = false
    }
  }

  private async pick (entry: WorklistEntryView): Promise<void> {
    this.picking = entry
    this.error = ''
    try {
      const { patientId } = await this.session.pickWorklistEntry(entry)
      await this.patientArrived(patientId)
      this.router.navigate(`/patients/${encodeURIComponent(patientId)}`)
    } catch (err) {
      this.error = err instanceof HubUnreachableError ? 'Picking needs the hub, which cannot be reached now.' : `Could not pick ${personName(entry.patientName) || 'this entry'}: ${(err as Error).message}`
    } finally {
      this.picking = undefined
    }
  }

  /** Resolves once the hub's new patient is in this page's copy of the lab (or after a while regardless). */
  private async patientArrived (patientId: string): Promise<void> {
    const session = this.session
    if (session.lab?.patients.get(patientId) !== undefined) return
    await new Promise<void>((resolve) => {
      const done = (): void => {
        clearTimeout(timer)
        session.removeEventListener('sh-lab-change', check)
        resolve()
      }
      const check = (): void => { if (session.lab?.patients.get(patientId) !== undefined) done() }
      const timer = setTimeout(done, SYNC_WAIT_MS)
      session.addEventListener('sh-lab-change', check)
    })
  }

  private renderLacks (entry: WorklistEntryView): unknown {
    const blocking = entry.patientId === undefined
    const lacks = entry.missing.map((field) => FIELD_LABELS[field] ?? field)
    if (lacks.length === 0 && entry.problems.length === 0) return nothing
    return html`<div class="lacks ${blocking ? 'blocking' : ''}">
      ${lacks.length > 0 ? html`Missing: ${lacks.join(', ')}.` : nothing}
      ${entry.problems.map((p) => html` ${p[0].toUpperCase() + p.slice(1)}.`)}
      ${blocking ? html` Without a patient ID it cannot be picked: ask the hospital to complete the order.` : nothing}
    </div>`
  }

  private renderRow (entry: WorklistEntryView): unknown {
    const name = personName(entry.patientName)
    const label = name !== '' ? name : entry.accessionNumber ?? 'entry'
    return html`<tr>
      <td><strong>${name || '—'}</strong>${this.renderLacks(entry)}</td>
      <td class="mono">${entry.patientId ?? '—'}</td>
      <td>${formatDate(entry.birthDate) || '—'}</td>
      <td class="mono">${entry.accessionNumber ?? '—'}</td>
      <td>${entry.requestedProcedureDescription ?? '—'}${entry.modality !== undefined ? html` <span class="muted">(${entry.modality}${entry.stationAeTitle !== undefined ? `, ${entry.stationAeTitle}` : ''})</span>` : nothing}</td>
      <td>${scheduledTime(entry.scheduledStart, this.date) || '—'}</td>
      <td class="actions"><button class="small primary" aria-label="Pick ${label}" title=${entry.patientId === undefined ? 'This entry has no patient ID' : 'Create or update the patient and the exam'}
        ?disabled=${entry.patientId === undefined || this.picking !== undefined} @click=${() => { this.pick(entry).catch(() => {}) }}>
        ${this.picking === entry ? 'Picking…' : html`${icon('check')} Pick`}</button></td>
    </tr>`
  }

  override render (): unknown {
    const providers = this.providers()
    const entries = this.answer?.entries ?? []
    return html`
      <header>
        <h1>Worklist</h1><span class="spacer"></span>
        <a href="/patients">Back to patients</a>
      </header>
      <p class="intro">The procedures the hospital scheduled, from its modality worklist${this.answer !== undefined ? html` (${this.answer.provider.name}, ${this.answer.provider.aeTitle} at ${this.answer.provider.host}:${this.answer.provider.port})` : nothing}. Picking one adds or updates the patient by the hospital's patient ID and creates the exam with its accession number and study UID, which every image of the exam then carries.</p>
      <form class="query" @submit=${(e: Event) => { this.ask(e).catch(() => {}) }}>
        <div class="field"><label for="wl-date">Day</label>
          <input id="wl-date" type="date" required .value=${this.date} @input=${(e: Event) => { this.date = (e.target as HTMLInputElement).value }}></div>
        <div class="field"><label for="wl-modality">Modality</label>
          <input id="wl-modality" maxlength="16" placeholder="any" .value=${this.modality} @input=${(e: Event) => { this.modality = (e.target as HTMLInputElement).value }}></div>
        <div class="field"><label for="wl-station">Station AE title</label>
          <input id="wl-station" maxlength="16" placeholder="any" .value=${this.station} @input=${(e: Event) => { this.station = (e.target as HTMLInputElement).value }}></div>
        ${providers.length > 1
          ? html`<div class="field"><label for="wl-provider">Worklist provider</label>
            <select id="wl-provider" .value=${this.destinationId} @change=${(e: Event) => { this.destinationId = (e.target as HTMLSelectElement).value }}>
              <option value="">Choose…</option>
              ${providers.map((p) => html`<option value=${p.id} ?selected=${p.id === this.destinationId}>${p.name}</option>`)}
            </select></div>`
          : nothing}
        <button class="primary" type="submit" ?disabled=${this.asking}>${icon('search')} ${this.asking ? 'Asking…' : 'Search'}</button>
      </form>
      ${this.error !== '' ? html`<p class="form-error" role="alert">${this.error}</p>` : nothing}
      ${this.answer?.truncated === true ? html`<p class="muted" role="status">The worklist has more entries than shown: narrow the search to a station.</p>` : nothing}
      <div class="table-wrap" tabindex="0" role="region" aria-label="Scheduled procedures, scrolls sideways"><table class="table" aria-label="Scheduled procedures">
        <thead><tr><th>Patient</th><th>Patient ID</th><th>Birth date</th><th>Accession</th><th>Procedure</th><th>Time</th><th><span class="visually-hidden">Actions</span></th></tr></thead>
        <tbody>
          ${entries.map((entry) => this.renderRow(entry))}
          ${this.answer !== undefined && entries.length === 0 ? html`<tr><td colspan="7" class="muted">No procedures scheduled for this search.</td></tr>` : nothing}
        </tbody>
      </table></div>`
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'sh-worklist-view': ShWorklistView
  }
}
