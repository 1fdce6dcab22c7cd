// The nav bar, as ScanHub users know it: logo and name, the pages (the current one highlighted),
// then the "not for clinical use" chip, device status, the lab's peers and sync, theme, account.
import { css, html } from 'lit'
import { customElement } from 'lit/decorators.js'
import { SessionElement } from '../app/session-element.ts'
import { sharedStyles } from '../styles/shared.ts'
import './sh-logo.ts'
import './sh-device-status.ts'
import './sh-lab-status.ts'
import './sh-theme-toggle.ts'
import './sh-account-menu.ts'

@customElement('sh-nav-bar')
export class ShNavBar extends SessionElement {
  static override styles = [sharedStyles, css`
    :host { display: block; background: var(--sh-surface); border-bottom: 1px solid var(--sh-border); }
    nav { display: flex; align-items: center; gap: 4px; height: 52px; padding: 0 12px; }
    .brand { display: flex; align-items: center; gap: 8px; text-decoration: none; color: var(--sh-text); font-weight: 700; font-size: 17px; margin-right: 12px; }
    .links { display: flex; gap: 2px; }
    .links a { text-decoration: none; color: var(--sh-text-muted); padding: 6px 12px; border-radius: var(--sh-radius); font-weight: 600; }
    .links a:hover { background: var(--sh-hover); color: var(--sh-text); }
    .links a[aria-current="page"] { color: var(--sh-primary); background: var(--sh-primary-soft); }
    .chip.clinical { background: var(--sh-chip-orange); color: #fff; margin-right: 6px; }
    .lab { color: var(--sh-text-muted); font-size: 12px; margin: 0 8px; max-width: 180px; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
    @media (max-width: 900px) { .lab { display: none; } }
  `]

  override render (): unknown {
    const route = this.router.route.name
    const current = (names: string[]): 'page' | 'false' => names.includes(route) ? 'page' : 'false'
    return html`<nav aria-label="Main">
      <a class="brand" href="/"><sh-logo></sh-logo><span>ScanHub</span></a>
      <div class="links">
        <a href="/" aria-current=${current(['patients', 'patient'])}>Patients</a>
        <a href="/library" aria-current=${current(['library'])}>Library</a>
        <a href="/pacs" aria-current=${current(['pacs'])}>PACS</a>
        ${this.session.isAdmin
          ? html`<a href="/users" aria-current=${current(['users'])}>Users</a><a href="/members" aria-current=${current(['members'])}>Members</a><a href="/audit" aria-current=${current(['audit'])}>Audit</a>`
          : ''}
      </div>
      <span class="spacer"></span>
      <span class="chip clinical" title="ScanHub is research software: not for clinical use">Not for clinical use</span>
      <span class="lab" title="Lab">${this.session.labName}</span>
      <sh-device-status></sh-device-status>
      <sh-lab-status></sh-lab-status>
      <sh-theme-toggle></sh-theme-toggle>
      <sh-account-menu></sh-account-menu>
    </nav>`
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'sh-nav-bar': ShNavBar
  }
}
