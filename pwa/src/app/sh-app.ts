// The app's root: makes the session and the router, provides them to every element, and shows the
// page the state asks for — pairing while this device is not in a lab (and its confirmation code
// right after), the first-user form while the lab has no users, the login while nobody is logged in,
// else the nav bar and the page of the address.
import { provide } from '@lit/context'
import { LitElement, css, html } from 'lit'
import { customElement } from 'lit/decorators.js'
import { LabSession } from '../services/lab-session.ts'
import { sharedStyles } from '../styles/shared.ts'
import { routerContext, sessionContext } from './context.ts'
import { AppRouter } from './router.ts'
import '../components/sh-nav-bar.ts'
import '../components/sh-logo.ts'
import '../views/sh-login-view.ts'
import '../views/sh-first-user-view.ts'
import '../views/sh-patients-view.ts'
import '../views/sh-acquisition-view.ts'
import '../views/sh-library-view.ts'
import '../views/sh-users-view.ts'
import '../views/sh-members-view.ts'
import '../views/sh-worklist-view.ts'
import '../views/sh-pacs-view.ts'
import '../views/sh-audit-view.ts'
import '../views/sh-pairing-view.ts'
import { loadImageViewer } from '../views/load-viewer.ts'

@customElement('sh-app')
export class ShApp extends LitElement {
  static override styles = [sharedStyles, css`
    :host { display: flex; flex-direction: column; height: 100%; background: var(--sh-bg); }
    main { flex: 1; min-height: 0; overflow: hidden; }
    main > * { height: 100%; }
    .center { display: grid; place-items: center; height: 100%; padding: 24px; }
    .center .card { padding: 28px; max-width: 480px; display: flex; flex-direction: column; gap: 12px; align-items: center; text-align: center; }
    .banner { background: var(--sh-warning-soft); color: var(--sh-text); padding: 6px 16px; font-size: 13px; border-bottom: 1px solid var(--sh-border); }
  `]

  @provide({ context: sessionContext })
  session = new LabSession()

  @provide({ context: routerContext })
  router = new AppRouter()

  override connectedCallback (): void {
    super.connectedCallback()
    this.session.addEventListener('sh-session-change', () => { this.requestUpdate() })
    this.router.addEventListener('sh-route-change', () => { this.requestUpdate() })
    this.session.start().catch(() => {})
  }

  private renderPage (): unknown {
    const route = this.router.route
    switch (route.name) {
      case 'patients': return html`<sh-patients-view></sh-patients-view>`
      case 'patient': return html`<sh-acquisition-view .patientId=${route.patientId}></sh-acquisition-view>`
      case 'library': return html`<sh-library-view .tab=${route.tab}></sh-library-view>`
      case 'users': return this.session.isAdmin
        ? html`<sh-users-view></sh-users-view>`
        : html`<div class="center"><div class="card"><h2>Users</h2><p class="muted">Only an administrator manages users.</p></div></div>`
      case 'members': return this.session.isAdmin
        ? html`<sh-members-view></sh-members-view>`
        : html`<div class="center"><div class="card"><h2>Members</h2><p class="muted">Only an administrator manages the lab's members.</p></div></div>`
      case 'worklist': return this.session.canEditPatients
        ? html`<sh-worklist-view></sh-worklist-view>`
        : html`<div class="center"><div class="card"><h2>Worklist</h2><p class="muted">Only admin, medical and scientist users take patients from the hospital's worklist.</p><a href="/">Patients</a></div></div>`
      case 'pacs': return html`<sh-pacs-view></sh-pacs-view>`
      case 'audit': return this.session.isAdmin
        ? html`<sh-audit-view></sh-audit-view>`
        : html`<div class="center"><div class="card"><h2>Audit</h2><p class="muted">Only an administrator reads the lab's audit log. The history of a patient is on the patient's page.</p><a href="/">Patients</a></div></div>`
      case 'viewer':
        loadImageViewer()
        return html`<sh-image-viewer .resultId=${route.resultId} .blobs=${route.blobs}></sh-image-viewer>`
      case 'not-found': return html`<div class="center"><div class="card"><h2>Nothing here</h2><p class="muted">${route.path} is no page of ScanHub.</p><a href="/">Patients</a></div></div>`
    }
  }

  override render (): unknown {
    const s = this.session
    if (s.phase === 'starting') return html`<div class="center"><p class="muted">Starting ScanHub…</p></div>`
    if (s.phase === 'unpaired' || s.confirmation !== undefined) return html`<sh-pairing-view></sh-pairing-view>`
    if (s.phase === 'failed') {
      return html`<div class="center"><div class="card" role="alert">
        <sh-logo size="48"></sh-logo><h2>ScanHub could not start</h2>
        <p class="muted">${s.problem}</p>
        <button @click=${() => { location.reload() }}>Try again</button>
      </div></div>`
    }
    if (s.hasUsers === false && s.user === undefined) return html`<sh-first-user-view></sh-first-user-view>`
    if (s.user === undefined) return html`<sh-login-view></sh-login-view>`
    return html`
      <sh-nav-bar></sh-nav-bar>
      ${s.user.role === 'viewer' ? html`<div class="banner" role="status">You are logged in as a viewer: you can look at everything and change nothing.</div>` : ''}
      <main>${this.renderPage()}</main>`
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'sh-app': ShApp
  }
}
