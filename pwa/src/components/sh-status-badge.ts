// A status shown three ways at once, so that it reads without colour too: colour, icon and text.
// A note says what the status leaves out ("Finished · 1 cancelled", "Finished · stale"), and turns a
// status that would read as all done to the warning colour.
import { LitElement, css, html } from 'lit'
import { customElement, property } from 'lit/decorators.js'
import { icon } from '../styles/icons.ts'
import type { IconName } from '../styles/icons.ts'
import type { DerivedStatus, TaskStatus } from '../../../protocol/lab/index.ts'

export type BadgeStatus = TaskStatus | DerivedStatus

const LOOK: Record<BadgeStatus, { label: string, icon: IconName, tone: string }> = {
  NEW: { label: 'New', icon: 'circle', tone: 'neutral' },
  UPDATED: { label: 'Updated', icon: 'pencilCircle', tone: 'info' },
  STARTED: { label: 'Started', icon: 'play', tone: 'info' },
  INPROGRESS: { label: 'In progress', icon: 'progress', tone: 'info' },
  FINISHED: { label: 'Finished', icon: 'check', tone: 'success' },
  ERROR: { label: 'Error', icon: 'alert', tone: 'danger' },
  CANCELLED: { label: 'Cancelled', icon: 'ban', tone: 'neutral' }
}

/** The words a badge shows: the status (or the label that replaces it) and its note. */
export function statusBadgeText (status: BadgeStatus, label = '', note = ''): string {
  const look = LOOK[status] ?? LOOK.NEW
  return (label !== '' ? label : look.label) + (note.trim() !== '' ? ` · ${note.trim()}` : '')
}

@customElement('sh-status-badge')
export class ShStatusBadge extends LitElement {
  static override styles = css`
    :host { display: inline-flex; }
    .badge { display: inline-flex; align-items: center; gap: 4px; border-radius: 999px; padding: 1px 8px 1px 6px; font: 600 12px var(--sh-font); white-space: nowrap; }
    svg { width: 13px; height: 13px; }
    .neutral { color: var(--sh-neutral); background: var(--sh-neutral-soft); }
    .info { color: var(--sh-info); background: var(--sh-info-soft); }
    .success { color: var(--sh-success); background: var(--sh-success-soft); }
    .danger { color: var(--sh-danger); background: var(--sh-danger-soft); }
    .warning { color: var(--sh-warning); background: var(--sh-warning-soft); }
  `

  /** the status to show */
  @property({ reflect: true }) status: BadgeStatus = 'NEW'

  /** replaces the status's own text (e.g. "Waiting for images") */
  @property() label = ''

  /** what the status leaves out, shown after it (e.g. "1 cancelled", "stale") */
  @property() note = ''

  override render (): unknown {
    const look = LOOK[this.status] ?? LOOK.NEW
    const note = this.note.trim()
    const text = statusBadgeText(this.status, this.label, this.note)
    const tone = note !== '' && look.tone !== 'danger' ? 'warning' : look.tone
    return html`<span class="badge ${tone}" role="status" aria-label="Status: ${text}">${icon(look.icon)}<span>${text}</span></span>`
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'sh-status-badge': ShStatusBadge
  }
}
