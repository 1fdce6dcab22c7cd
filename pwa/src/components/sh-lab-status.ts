// The health of the lab as this browser sees it: whether its hub is reachable, how many of its own
// changes have not reached the hub yet, and every peer of the lab with its live status.
import { css, html } from 'lit'
import { customElement, state } from 'lit/decorators.js'
import { SessionElement } from '../app/session-element.ts'
import { sharedStyles } from '../styles/shared.ts'
import { icon } from '../styles/icons.ts'
import { DocumentClickController, popoverStyles } from './popover.ts'

@customElement('sh-lab-status')
export class ShLabStatus extends SessionElement {
  static override styles = [sharedStyles, popoverStyles, css`
    .summary { gap: 6px; }
    .warn { color: var(--sh-warning); }
    .ok { color: var(--sh-success); }
    .off { color: var(--sh-neutral); }
    .foot { display: flex; justify-content: space-between; align-items: center; gap: 8px; padding: 6px; border-top: 1px solid var(--sh-border); margin-top: 6px; }
    .roles { font-size: 11px; color: var(--sh-text-muted); }
  `]

  @state() private open = false

  // closes the menu on a click elsewhere, or on Escape
  private readonly outsideClicks = new DocumentClickController(this, (event: Event): void => {
    if (this.open && !event.composedPath().includes(this)) this.open = false
  }, () => { this.open = false })

  override render (): unknown {
    const s = this.session
    const connection = s.connection
    const unsynced = s.unsynced
    const text = connection === 'online'
      ? (unsynced > 0 ? `Syncing ${unsynced}` : 'Synced')
      : connection === 'connecting' ? 'Connecting…' : (unsynced > 0 ? `Offline · ${unsynced} unsynced` : 'Offline')
    const tone = connection === 'online' ? (unsynced > 0 ? 'warn' : 'ok') : connection === 'connecting' ? 'warn' : 'off'
    const peers = s.peers()
    return html`<div class="pop ${this.open ? 'open' : ''}" @keydown=${(e: KeyboardEvent) => { if (e.key === 'Escape') this.open = false }}>
      <button class="ghost summary ${tone}" aria-expanded=${String(this.open)} aria-haspopup="true" data-testid="lab-status"
        title="Lab peers and sync" @click=${() => { this.open = !this.open }}>
        ${icon(connection === 'online' ? 'cloud' : 'cloudOff')}<span data-testid="sync-text">${text}</span>
      </button>
      <div class="panel" role="dialog" aria-label="Lab peers and sync">
        <h3>${s.labName !== '' ? s.labName : 'Lab'} · peers</h3>
        <div role="list" aria-label="Peers">
        ${peers.map((p) => html`<div class="row" role="listitem" aria-label=${p.name}>
          <span class="dot ${p.status}"></span>
          <span class="name"><span>${p.name}</span>${p.self ? html` <span class="muted">(this browser)</span>` : ''}<br><span class="roles">${p.roles.join(', ')}${p.unsynced !== undefined && p.unsynced > 0 ? ` · ${p.unsynced} unsynced` : ''}${p.address !== undefined ? ` · ${p.address}` : ''}${!p.self && p.status === 'OFFLINE' ? ` · last seen ${p.lastSeen === undefined ? 'not by this page' : new Date(p.lastSeen).toLocaleString()}` : ''}</span></span>
          <span class="status-text ${p.status}">${p.status}</span>
        </div>`)}
        </div>
        <div class="foot">
          <span class="muted">${unsynced === 0 ? 'All changes of this device are on the hub.' : `${unsynced} change${unsynced === 1 ? '' : 's'} of this device not on the hub yet.`}</span>
          ${connection !== 'online' ? html`<button class="small" @click=${() => { s.reconnect() }}>${icon('sync')} Retry</button>` : ''}
          ${s.isAdmin ? html`<a class="small" href="/members" @click=${() => { this.open = false }}>Members…</a>` : ''}
        </div>
      </div>
    </div>`
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'sh-lab-status': ShLabStatus
  }
}
