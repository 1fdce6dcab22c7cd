// The lab's audit page (admins): every recorded change of the lab, newest first, in words — who, what,
// on which device, for which patient, when — filtered by user, patient and a range of days. The log
// comes from the hub, which holds every document (this device's copy when the hub is out of reach),
// and is shown a page at a time so that a lab's ten thousands of entries stay quick.
import { css, html, nothing } from 'lit'
import { customElement, state } from 'lit/decorators.js'
import { SessionElement } from '../app/session-element.ts'
import { pageStyles, sharedStyles } from '../styles/shared.ts'
import { describeAudit, filterAudit } from '../../../protocol/lab/audit-wording.ts'
import type { AuditRecord } from '../../../protocol/lab/audit.ts'
import { LAB_DOC_ID, patientIdOfDoc } from '../../../protocol/lab/schema.ts'
import { formatDateTime, patientName } from './format.ts'

/** Rows per page. */
export const AUDIT_PAGE_SIZE = 100

/** The patient an entry is about, if any. */
function patientOf (record: AuditRecord): string | undefined {
  if (record.docId === LAB_DOC_ID) return record.entity === 'patient' ? record.entityId : undefined
  return patientIdOfDoc(record.docId)
}

/** A YYYY-MM-DD of a date input as the start of that day in this device's time zone, ISO. */
function dayStart (day: string, plusDays = 0): string | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(day)
  if (m === null) return undefined
  return new Date(Number(m[1]), Number(m[2]) - 1, Number(m[3]) + plusDays).toISOString()
}

@customElement('sh-audit-view')
export class ShAuditView extends SessionElement {
  static override styles = [sharedStyles, pageStyles, css`
    header { display: flex; align-items: center; gap: 12px; flex-wrap: wrap; }
    .intro { margin: 0; color: var(--sh-text-muted); max-width: 72ch; }
    form.filters { display: flex; gap: 12px; align-items: flex-end; flex-wrap: wrap; }
    form.filters .field { width: 200px; max-width: 100%; }
    td.when { white-space: nowrap; }
    td.what { min-width: 16em; overflow-wrap: anywhere; }
    .pager { display: flex; align-items: center; gap: 12px; flex-wrap: wrap; }
  `]

  @state() private records: AuditRecord[] = []
  @state() private fromHub = true
  @state() private loading = false
  @state() private error = ''
  @state() private actor = ''
  @state() private patientId = ''
  @state() private fromDay = ''
  @state() private toDay = ''
  @state() private page = 0

  override connectedCallback (): void {
    super.connectedCallback()
    this.load().catch(() => {})
  }

  private async load (): Promise<void> {
    this.loading = true
    this.error = ''
    try {
      const { records, fromHub } = await this.session.auditLog()
      this.records = records
      this.fromHub = fromHub
    } catch (err) {
      this.error = `The audit log could not be read: ${(err as Error).message}`
    } finally {
      this.loading = false
    }
  }

  /** The filtered entries, newest first. */
  private filtered (): AuditRecord[] {
    const found = filterAudit(this.records, {
      actor: this.actor === '' ? undefined : this.actor,
      patientId: this.patientId === '' ? undefined : this.patientId,
      from: dayStart(this.fromDay),
      // the "to" day is included: entries before the start of the next day
      to: dayStart(this.toDay, 1)
    })
    return found.reverse()
  }

  private setFilter (apply: () => void): void {
    apply()
    this.page = 0
  }

  private renderFilters (): unknown {
    const names = this.session.auditNames()
    const actors = [...new Set(this.records.map((r) => r.actor))].sort()
    const patients = this.session.lab?.patients.list() ?? []
    const invalidRange = this.fromDay !== '' && this.toDay !== '' && this.toDay < this.fromDay
    return html`<form class="filters" aria-label="Filter the audit log" @submit=${(e: Event) => { e.preventDefault() }}>
      <div class="field"><label for="audit-user">User</label>
        <select id="audit-user" @change=${(e: Event) => { this.setFilter(() => { this.actor = (e.target as HTMLSelectElement).value }) }}>
          <option value="" ?selected=${this.actor === ''}>Everyone</option>
          ${actors.map((a) => {
            const line = describeAudit({ at: '', actor: a, peerId: a.startsWith('peer:') ? a.slice(5) : '', action: 'create', entity: 'lab', entityId: '' }, names)
            return html`<option value=${a} ?selected=${a === this.actor}>${line.who}${line.who !== a && !a.startsWith('peer:') ? ` (${a})` : ''}</option>`
          })}
        </select></div>
      <div class="field"><label for="audit-patient">Patient</label>
        <select id="audit-patient" @change=${(e: Event) => { this.setFilter(() => { this.patientId = (e.target as HTMLSelectElement).value }) }}>
          <option value="" ?selected=${this.patientId === ''}>All patients and the lab</option>
          ${patients.map((p) => html`<option value=${p.id} ?selected=${p.id === this.patientId}>${patientName(p)}${p.mrn !== undefined ? ` (${p.mrn})` : ''}</option>`)}
        </select></div>
      <div class="field"><label for="audit-from">From</label>
        <input id="audit-from" type="date" .value=${this.fromDay} @change=${(e: Event) => { this.setFilter(() => { this.fromDay = (e.target as HTMLInputElement).value }) }}></div>
      <div class="field"><label for="audit-to">To</label>
        <input id="audit-to" type="date" .value=${this.toDay} aria-describedby=${invalidRange ? 'audit-range-error' : nothing}
          @change=${(e: Event) => { this.setFilter(() => { this.toDay = (e.target as HTMLInputElement).value }) }}></div>
      <button type="button" @click=${() => { this.setFilter(() => { this.actor = ''; this.patientId = ''; this.fromDay = ''; this.toDay = '' }) }}>Clear filters</button>
      <button type="button" ?disabled=${this.loading} @click=${() => { this.load().catch(() => {}) }}>${this.loading ? 'Reading…' : 'Reload'}</button>
      ${invalidRange ? html`<p id="audit-range-error" class="field-error" role="alert">The "To" day is before the "From" day: nothing can match.</p>` : nothing}
    </form>`
  }

  override render (): unknown {
    const entries = this.filtered()
    const pages = Math.max(1, Math.ceil(entries.length / AUDIT_PAGE_SIZE))
    const page = Math.min(this.page, pages - 1)
    const shown = entries.slice(page * AUDIT_PAGE_SIZE, (page + 1) * AUDIT_PAGE_SIZE)
    const names = this.session.auditNames()
    const lab = this.session.lab
    return html`
      <header><h1>Audit</h1></header>
      <p class="intro">Every change recorded in the lab: who made it, on which device, and when. Times are each device's own clock.</p>
      ${this.renderFilters()}
      ${this.error !== '' ? html`<p class="form-error" role="alert">${this.error}</p>` : nothing}
      ${!this.fromHub ? html`<p class="muted" role="status">The hub cannot be reached: this is this device's own copy, without the patients never opened here.</p>` : nothing}
      <div class="pager" role="status">
        <span>${entries.length === this.records.length ? `${entries.length} entries` : `${entries.length} of ${this.records.length} entries`}${pages > 1 ? `, page ${page + 1} of ${pages}` : ''}</span>
        ${pages > 1
          ? html`<button class="small" ?disabled=${page === 0} @click=${() => { this.page = page - 1 }}>Newer</button>
            <button class="small" ?disabled=${page >= pages - 1} @click=${() => { this.page = page + 1 }}>Older</button>`
          : nothing}
      </div>
      <div class="table-wrap"><table class="table" aria-label="Audit log">
        <thead><tr><th>When</th><th>Who</th><th>What</th><th>Device</th><th>Patient</th></tr></thead>
        <tbody>
          ${shown.map((r) => {
            const line = describeAudit(r, names)
            const pid = patientOf(r)
            const patient = pid === undefined ? undefined : lab?.patients.get(pid)
            return html`<tr>
              <td class="when"><time datetime=${r.at}>${formatDateTime(r.at)}</time></td>
              <td>${line.who}</td>
              <td class="what">${line.what}</td>
              <td>${line.device}</td>
              <td>${pid === undefined ? '' : patient === undefined ? html`<span class="muted">a deleted patient</span>` : html`<a href="/patients/${encodeURIComponent(pid)}">${patientName(patient)}</a>`}</td>
            </tr>`
          })}
          ${shown.length === 0 && !this.loading ? html`<tr><td colspan="5" class="empty">No entries match these filters.</td></tr>` : nothing}
        </tbody>
      </table></div>`
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'sh-audit-view': ShAuditView
  }
}
