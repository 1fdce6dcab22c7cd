// The history of a patient, or of one of the patient's exams: who changed what, when and on which
// device, newest first, from the audit log of this device's copy of the lab (the patient's record in
// the lab document, the exams in the patient's document). It works offline and follows sync as it
// comes; the wording is protocol/lab/audit-wording.ts, shared with the lab's audit page.
import { css, html, nothing } from 'lit'
import { customElement, property, state } from 'lit/decorators.js'
import { SessionElement } from '../app/session-element.ts'
import { sharedStyles } from '../styles/shared.ts'
import { describeAudit, isExamEntry, isPatientEntry } from '../../../protocol/lab/audit-wording.ts'
import type { AuditRecord } from '../../../protocol/lab/audit.ts'
import type { EntityKind } from '../../../protocol/lab/schema.ts'
import { formatDateTime } from '../views/format.ts'

/** Entries shown at first, and added by "Show older". */
const PAGE = 25

@customElement('sh-history')
export class ShHistory extends SessionElement {
  static override styles = [sharedStyles, css`
    :host { display: block; }
    details { border: 1px solid var(--sh-border); border-radius: 8px; background: var(--sh-surface); }
    summary { cursor: pointer; padding: 8px 12px; font-weight: 600; }
    ol { list-style: none; margin: 0; padding: 0 12px 8px; display: flex; flex-direction: column; gap: 6px; }
    li { display: grid; grid-template-columns: minmax(0, 1fr); gap: 2px; padding: 6px 0; border-top: 1px solid var(--sh-border); }
    time { font-size: 12px; color: var(--sh-text-muted); }
    .sentence { overflow-wrap: anywhere; }
    .more { margin: 0 12px 10px; }
    .empty { padding: 4px 12px 12px; }
  `]

  @property() patientId = ''
  /** When set, only this exam's entries (its workflows, tasks and results included). */
  @property() examId: string | undefined
  /** Opens the panel at first. */
  @property({ type: Boolean }) open = false
  @state() private shown = PAGE

  protected override willUpdate (changed: Map<PropertyKey, unknown>): void {
    super.willUpdate(changed)
    if (changed.has('patientId') || changed.has('examId')) this.shown = PAGE
  }

  private entries (): AuditRecord[] {
    const lab = this.session.lab
    if (lab === undefined || this.patientId === '') return []
    // entries written before they named their exam: the exam of what still exists
    const examOf = (entity: EntityKind, id: string): string | undefined =>
      entity === 'workflow' ? lab.workflows.get(id)?.examId : entity === 'task' ? lab.tasks.get(id)?.examId : entity === 'result' ? lab.tasks.get(lab.results.get(id)?.taskId ?? '')?.examId : undefined
    const examId = this.examId
    return lab.audit()
      .filter((r) => isPatientEntry(r, this.patientId) && (examId === undefined || isExamEntry(r, examId, examOf)))
      .reverse()
  }

  override render (): unknown {
    const entries = this.entries()
    const names = this.session.auditNames()
    const title = this.examId === undefined ? 'History of the patient' : 'History of the exam'
    return html`<details ?open=${this.open} aria-label=${title}>
      <summary>${title} <span class="muted">(${entries.length})</span></summary>
      ${entries.length === 0 ? html`<p class="muted empty">No changes recorded on this device yet.</p>` : nothing}
      <ol>
        ${entries.slice(0, this.shown).map((r) => {
          const line = describeAudit(r, names)
          return html`<li><time datetime=${r.at}>${formatDateTime(r.at)}</time><span class="sentence">${line.sentence}</span></li>`
        })}
      </ol>
      ${entries.length > this.shown
        ? html`<button class="small more" @click=${() => { this.shown += PAGE }}>Show older (${entries.length - this.shown} more)</button>`
        : nothing}
    </details>`
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'sh-history': ShHistory
  }
}
