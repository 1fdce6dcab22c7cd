// "Send to PACS" beside an exam (all its images) or a finished series (one task's images): pick one of
// the lab's destinations, and the hub queues an export; its state (queued, sending, done, failed) and
// counts show here, followed every 2 s until it has settled. Exports made earlier of the same exam or
// series (by hand, or automatically by the exam's setting) show too, so that a user coming back sees
// what was sent. The words for an export's state are shared with the PACS page.
import { css, html, nothing } from 'lit'
import { customElement, property, state } from 'lit/decorators.js'
import { SessionElement } from '../app/session-element.ts'
import { sharedStyles } from '../styles/shared.ts'
import { icon } from '../styles/icons.ts'
import { HubUnreachableError } from '../services/api.ts'
import type { ExportView } from '../services/lab-session.ts'

/** How often an export that has not settled is asked about. */
export const EXPORT_POLL_MS = 2000

/** How many exports of one exam or series are listed (newest first). */
const SHOWN = 3

export const EXPORT_STATE_LABELS: Record<ExportView['state'], string> = { queued: 'Queued', sending: 'Sending', done: 'Done', failed: 'Failed' }

/** Whether the hub still works on the export. */
export function exportActive (view: ExportView): boolean {
  return view.state === 'queued' || view.state === 'sending'
}

function plural (n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`
}

/** The counts of an export in words: "10 sent, 2 already there, 1 refused, of 13 images". */
export function exportCounts (view: ExportView): string {
  const parts = [`${view.sent} sent`]
  if (view.skipped > 0) parts.push(`${view.skipped} already there`)
  if (view.failed > 0) parts.push(`${view.failed} refused`)
  return `${parts.join(', ')}, of ${plural(view.total, 'image')}`
}

/** What is happening to the export, in words: the state, the next try and why the last one stopped. */
export function exportSituation (view: ExportView): string {
  switch (view.state) {
    case 'queued': {
      if (view.attempts === 0) return 'Waiting to be sent'
      const at = view.nextAttemptAt === undefined ? '' : ` at ${new Date(view.nextAttemptAt).toLocaleTimeString()}`
      return `Try ${view.attempts + 1}${at}; the last one stopped: ${view.lastError ?? 'no reason given'}`
    }
    case 'sending': return `${view.sent + view.skipped + view.failed} of ${plural(view.total, 'image')} answered`
    case 'done': return view.skipped === view.total ? 'The destination had every image already' : 'Every image is at the destination'
    case 'failed': return view.lastError ?? `the destination refused ${plural(view.failed, 'image')}`
  }
}

@customElement('sh-send-to-pacs')
export class ShSendToPacs extends SessionElement {
  static override styles = [sharedStyles, css`
    :host { display: flex; flex-direction: column; gap: 6px; }
    .send { display: flex; align-items: center; gap: 8px; flex-wrap: wrap; }
    .send select { width: auto; max-width: 260px; }
    ul { list-style: none; margin: 0; padding: 0; display: flex; flex-direction: column; gap: 4px; font-size: 13px; }
    .state { font-weight: 600; }
    .state.done { color: var(--sh-success); } .state.failed { color: var(--sh-danger); } .state.queued, .state.sending { color: var(--sh-info); }
    .refused { margin: 2px 0 0 16px; color: var(--sh-danger); font-size: 12px; }
    .hint { font-size: 12px; color: var(--sh-text-muted); }
  `]

  /** the exam whose images are sent (all its tasks') */
  @property() examId: string | undefined
  /** or the task whose images (one series) are sent */
  @property() taskId: string | undefined

  @state() private destinationId = ''
  @state() private exports: ExportView[] = []
  @state() private sending = false
  @state() private error = ''
  private timer: ReturnType<typeof setTimeout> | undefined
  private open = false

  override connectedCallback (): void {
    super.connectedCallback()
    this.open = true
    // put back on the page: follow its exports again (the first time, willUpdate starts it)
    if (this.hasUpdated) this.refresh().catch(() => {})
  }

  override disconnectedCallback (): void {
    super.disconnectedCallback()
    this.open = false
    clearTimeout(this.timer)
    this.timer = undefined
  }

  protected override willUpdate (changed: Map<PropertyKey, unknown>): void {
    super.willUpdate(changed)
    // the same element is reused when another exam or task is selected
    if (changed.has('examId') || changed.has('taskId')) {
      this.exports = []
      this.error = ''
      this.refresh().catch(() => {})
    }
  }

  /** Whether an export is of what this element sends. */
  private concerns (view: ExportView): boolean {
    return this.taskId !== undefined ? view.taskId === this.taskId : view.examId === this.examId && view.taskId === undefined
  }

  /** Reads this item's exports from the hub; asks again in 2 s while one of them has not settled. */
  private async refresh (): Promise<void> {
    clearTimeout(this.timer)
    this.timer = undefined
    if (this.examId === undefined && this.taskId === undefined) return
    const asked = { examId: this.examId, taskId: this.taskId }
    try {
      const all = await this.session.listExports()
      if (asked.examId !== this.examId || asked.taskId !== this.taskId) return
      this.exports = all.filter((v) => this.concerns(v)).slice(0, SHOWN)
    } catch (err) {
      // a page offline keeps what it showed; the next send says why it cannot
      if (!(err instanceof HubUnreachableError)) this.error = (err as Error).message
    }
    if (this.open && this.exports.some(exportActive)) this.timer = setTimeout(() => { this.refresh().catch(() => {}) }, EXPORT_POLL_MS)
  }

  private async send (): Promise<void> {
    const destinationId = this.chosenDestination()
    if (destinationId === '') return
    this.sending = true
    this.error = ''
    try {
      const created = this.taskId !== undefined
        ? await this.session.createExport({ destinationId, taskId: this.taskId })
        : await this.session.createExport({ destinationId, examId: this.examId ?? '' })
      this.exports = [created, ...this.exports.filter((v) => v.id !== created.id)].slice(0, SHOWN)
      await this.refresh()
    } catch (err) {
      this.error = err instanceof HubUnreachableError
        ? 'Sending needs the hub, which cannot be reached now. Try again when it is back.'
        : `Could not send: ${(err as Error).message}`
    } finally {
      this.sending = false
    }
  }

  /** The destination picked, or the first one when the user has not picked (or the picked one is gone). */
  private chosenDestination (): string {
    const ids = this.session.destinations().map((d) => d.id)
    return ids.includes(this.destinationId) ? this.destinationId : ids[0] ?? ''
  }

  private renderExport (view: ExportView): unknown {
    const destination = this.session.destinations().find((d) => d.id === view.destinationId)
    return html`<li role="status" aria-label="Export to ${destination?.name ?? 'a deleted destination'}">
      <span class="state ${view.state}">${EXPORT_STATE_LABELS[view.state]}</span>
      to ${destination?.name ?? 'a deleted destination'}${view.automatic ? ' (automatic)' : ''}: ${exportCounts(view)}.
      <span class="hint">${exportSituation(view)}.</span>
      ${view.errors.length > 0 ? html`<ul class="refused" aria-label="Images refused">${view.errors.slice(0, 5).map((e) => html`<li>${e.file}: ${e.error}</li>`)}
        ${view.errors.length > 5 ? html`<li>… and ${view.errors.length - 5} more (see the PACS page)</li>` : nothing}</ul>` : nothing}
    </li>`
  }

  override render (): unknown {
    const what = this.taskId !== undefined ? 'series' : 'exam'
    const destinations = this.session.destinations()
    const chosen = this.chosenDestination()
    return html`
      ${!this.session.canSendToPacs
        ? nothing
        : destinations.length === 0
          ? html`<p class="hint">No PACS destinations yet: ${this.session.canEditDestinations ? html`add one on the <a href="/pacs">PACS page</a>.` : html`an admin or engineer adds them on the <a href="/pacs">PACS page</a>.`}</p>`
          : html`<div class="send">
              <select aria-label="PACS destination for this ${what}" .value=${chosen} @change=${(e: Event) => { this.destinationId = (e.target as HTMLSelectElement).value }}>
                ${destinations.map((d) => html`<option value=${d.id} ?selected=${d.id === chosen}>${d.name}</option>`)}
              </select>
              <button ?disabled=${this.sending} @click=${() => { this.send().catch(() => {}) }}>${icon('cloud')} ${this.sending ? 'Sending…' : `Send ${what} to PACS`}</button>
            </div>`}
      ${this.error !== '' ? html`<span class="field-error" role="alert">${this.error}</span>` : nothing}
      ${this.exports.length > 0 ? html`<ul aria-label="Sent to PACS">${this.exports.map((v) => this.renderExport(v))}</ul>` : nothing}`
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'sh-send-to-pacs': ShSendToPacs
  }
}
