// The nav bar, as ScanHub users know it: logo and name, the pages (the current one highlighted),
// then the "not for clinical use" chip, device status, the lab's peers and sync, theme, account.
// On narrow screens (tablets, phones) the pages and the status items fold into a menu button beside
// the account menu, so that the bar never gets wider than the screen; the menu opens from the
// keyboard and closes with Escape, on a click elsewhere, or when a page is chosen.
import { css, html } from 'lit'
import { customElement, query, state } from 'lit/decorators.js'
import { SessionElement } from '../app/session-element.ts'
import { sharedStyles } from '../styles/shared.ts'
import { icon } from '../styles/icons.ts'
import { DocumentClickController } from './popover.ts'
import './sh-logo.ts'
import './sh-device-status.ts'
import './sh-lab-status.ts'
import './sh-theme-toggle.ts'
import './sh-account-menu.ts'

@customElement('sh-nav-bar')
export class ShNavBar extends SessionElement {
  static override styles = [sharedStyles, css`
    :host { display: block; background: var(--sh-surface); border-bottom: 1px solid var(--sh-border); position: relative; z-index: 30; }
    nav { display: flex; align-items: center; gap: 4px; height: 52px; padding: 0 12px; min-width: 0; }
    .brand { display: flex; align-items: center; gap: 8px; text-decoration: none; color: var(--sh-text); font-weight: 700; font-size: 17px; margin-right: 12px; flex: none; }
    .folding { display: contents; }
    .links { display: flex; gap: 2px; }
    .links a { text-decoration: none; color: var(--sh-text-muted); padding: 6px 12px; border-radius: var(--sh-radius); font-weight: 600; }
    .links a:hover { background: var(--sh-hover); color: var(--sh-text); }
    .links a[aria-current="page"] { color: var(--sh-primary); background: var(--sh-primary-soft); }
    .status { display: flex; align-items: center; gap: 4px; }
    /* a darker orange than the status chips': white 12px text on it needs a contrast of 4.5:1 */
    .chip.clinical { background: #b03d00; color: #fff; margin-right: 6px; }
    .lab { color: var(--sh-text-muted); font-size: 12px; margin: 0 8px; max-width: 180px; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
    .fold-toggle { display: none; margin-left: auto; }
    @media (max-width: 1400px) { .lab { display: none; } }
    /* below 1100 px the pages and status items no longer fit beside each other: they fold into the menu */
    @media (max-width: 1100px) {
      .fold-toggle { display: inline-flex; }
      .folding {
        display: none; position: absolute; top: 100%; left: 0; right: 0; flex-direction: column; align-items: stretch; gap: 8px;
        padding: 8px 12px 12px; background: var(--sh-surface); border-bottom: 1px solid var(--sh-border); box-shadow: var(--sh-shadow);
        max-height: calc(100vh - 60px); overflow: auto;
      }
      .folding.open { display: flex; }
      .folding .spacer { display: none; }
      .links { flex-direction: column; }
      .links a { padding: 10px 12px; }
      .status { flex-wrap: wrap; justify-content: flex-end; border-top: 1px solid var(--sh-border); padding-top: 8px; }
      .lab { display: inline; margin-right: auto; max-width: none; }
    }
  `]

  @state() private folded = false
  @query('.fold-toggle') private toggleButton!: HTMLButtonElement

  // closes the folded menu on a click outside it or on a link in it, and on Escape (back to its button)
  private readonly outsideClicks = new DocumentClickController(this, (event: Event): void => {
    if (!this.folded) return
    const path = event.composedPath()
    const onLink = path.some((n) => n instanceof HTMLAnchorElement)
    if (onLink || !path.includes(this)) this.folded = false
  }, () => {
    if (!this.folded) return
    this.folded = false
    this.toggleButton.focus()
  })

  private toggle (): void {
    this.folded = !this.folded
    if (this.folded) {
      // the menu's first page takes the focus, and Tab goes on through the menu
      this.updateComplete.then(() => { this.renderRoot.querySelector<HTMLElement>('.links a')?.focus() }).catch(() => {})
    }
  }

  override render (): unknown {
    const route = this.router.route.name
    const current = (names: string[]): 'page' | 'false' => names.includes(route) ? 'page' : 'false'
    return html`<nav aria-label="Main">
      <a class="brand" href="/"><sh-logo></sh-logo><span>ScanHub</span></a>
      <div class="folding ${this.folded ? 'open' : ''}" id="nav-menu">
        <div class="links">
          <a href="/" aria-current=${current(['patients', 'patient'])}>Patients</a>
          <a href="/library" aria-current=${current(['library'])}>Library</a>
          <a href="/pacs" aria-current=${current(['pacs'])}>PACS</a>
          ${this.session.isAdmin
            ? html`<a href="/users" aria-current=${current(['users'])}>Users</a><a href="/members" aria-current=${current(['members'])}>Members</a><a href="/audit" aria-current=${current(['audit'])}>Audit</a>`
            : ''}
        </div>
        <span class="spacer"></span>
        <div class="status">
          <span class="chip clinical" title="ScanHub is research software: not for clinical use">Not for clinical use</span>
          <span class="lab" title="Lab">${this.session.labName}</span>
          <sh-device-status></sh-device-status>
          <sh-lab-status></sh-lab-status>
          <sh-theme-toggle></sh-theme-toggle>
        </div>
      </div>
      <button class="ghost icon fold-toggle" aria-label="Menu" aria-controls="nav-menu" aria-expanded=${String(this.folded)}
        title="Pages, devices and sync" @click=${this.toggle}>${icon(this.folded ? 'close' : 'menu')}</button>
      <sh-account-menu></sh-account-menu>
    </nav>`
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'sh-nav-bar': ShNavBar
  }
}
