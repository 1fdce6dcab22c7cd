// Pairing this device with the lab: the one-time code an admin shows (typed, or from the link or QR
// code, `#pair=CODE`), then the confirmation code both screens show, to compare before going on. A
// device removed from the lab comes back here, saying so.
import { css, html, nothing } from 'lit'
import { customElement, state } from 'lit/decorators.js'
import { SessionElement } from '../app/session-element.ts'
import { sharedStyles } from '../styles/shared.ts'
import '../components/sh-logo.ts'
import { takeHashParam } from '../services/pairing.ts'
import { authCardStyles } from './auth-card.ts'

@customElement('sh-pairing-view')
export class ShPairingView extends SessionElement {
  static override styles = [sharedStyles, authCardStyles, css`
    .card { width: min(420px, 100%); }
    #code { text-transform: uppercase; font-family: var(--sh-mono); font-size: 20px; letter-spacing: 0.12em; text-align: center; }
    .confirmation { font-family: var(--sh-mono); font-size: 44px; font-weight: 700; letter-spacing: 0.08em; text-align: center; margin: 4px 0; }
    .explain { margin: 0; color: var(--sh-text-muted); }
  `]

  @state() private error = ''
  @state() private busy = false
  /** what is in the code field (kept across renders, and filled from a link that did not work) */
  @state() private code = ''

  override connectedCallback (): void {
    super.connectedCallback()
    this.code = this.session.failedPairingCode
    // a link with a code pasted into the address bar of this page changes only its fragment
    window.addEventListener('hashchange', this.handleHashChange)
  }

  override disconnectedCallback (): void {
    window.removeEventListener('hashchange', this.handleHashChange)
    super.disconnectedCallback()
  }

  /** The code field first, and the Continue button once the confirmation code shows. */
  protected override updated (changed: Map<PropertyKey, unknown>): void {
    super.updated(changed)
    const mode = this.session.confirmation !== undefined ? 'confirm' : 'code'
    if (mode === this.focusedMode) return
    this.focusedMode = mode
    this.renderRoot.querySelector<HTMLElement>(mode === 'confirm' ? '#continue' : '#code')?.focus()
  }

  private focusedMode: 'code' | 'confirm' | undefined

  private readonly handleHashChange = (): void => {
    if (this.session.phase !== 'unpaired' || this.busy) return
    const code = takeHashParam('pair')
    if (code === undefined) return
    this.code = code
    this.submit().catch(() => {})
  }

  private async handleSubmit (event: SubmitEvent): Promise<void> {
    event.preventDefault()
    this.code = String(new FormData(event.target as HTMLFormElement).get('code') ?? '')
    await this.submit()
  }

  private async submit (): Promise<void> {
    if (this.code.trim() === '') {
      this.error = 'Type the code the admin\'s screen shows, like K7QD-M2XH.'
      return
    }
    this.busy = true
    this.error = ''
    try {
      await this.session.pair(this.code)
    } catch (err) {
      this.error = (err as Error).message
    } finally {
      this.busy = false
    }
  }

  private renderConfirmation (confirmation: string): unknown {
    return html`<div class="card" role="dialog" aria-modal="true" aria-labelledby="title" aria-describedby="compare">
      <div class="brand"><sh-logo size="56"></sh-logo><h1 id="title">Paired with ${this.session.labName !== '' ? this.session.labName : 'the lab'}</h1></div>
      <p class="explain" id="compare">Check that the admin's screen shows the same code:</p>
      <p class="confirmation" data-testid="confirmation-code">${confirmation}</p>
      <p class="hint">If the codes differ, something came between this device and the hub: do not go on, and tell the admin, who revokes the device their screen names.</p>
      <button class="primary" id="continue" autofocus @click=${() => { this.session.acknowledgePairing() }}>Continue</button>
    </div>`
  }

  override render (): unknown {
    const confirmation = this.session.confirmation
    if (confirmation !== undefined) return this.renderConfirmation(confirmation)
    const problem = this.session.pairingProblem
    return html`<div class="card">
      <div class="brand"><sh-logo size="56"></sh-logo><h1 id="title">Pair this device with the lab</h1></div>
      ${problem !== '' && problem !== this.error ? html`<p class="notice" role="alert">${problem}</p>` : nothing}
      <p class="explain" id="explain">An admin opens Members → Pair a device in ScanHub and shows a code.
        Type it here, or scan the QR code beside it with this device's camera. A code works once, for 5 minutes.</p>
      <form @submit=${this.handleSubmit} novalidate aria-labelledby="title">
        <div class="field">
          <label for="code">Pairing code</label>
          <input id="code" name="code" .value=${this.code} autofocus autocomplete="one-time-code" inputmode="text" autocapitalize="characters"
            spellcheck="false" maxlength="20" placeholder="K7QD-M2XH" aria-invalid=${this.error !== '' ? 'true' : 'false'} aria-describedby="explain code-error">
          ${this.error !== '' ? html`<span class="field-error" id="code-error" role="alert">${this.error}</span>` : nothing}
        </div>
        <button type="submit" class="primary" ?disabled=${this.busy}>${this.busy ? 'Pairing…' : 'Pair'}</button>
      </form>
    </div>`
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'sh-pairing-view': ShPairingView
  }
}
