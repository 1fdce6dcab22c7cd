// The account menu: who is logged in (and as what), set password, log out.
import { css, html } from 'lit'
import { customElement, query, state } from 'lit/decorators.js'
import { SessionElement } from '../app/session-element.ts'
import { sharedStyles } from '../styles/shared.ts'
import { icon } from '../styles/icons.ts'
import { DocumentClickController, popoverStyles } from './popover.ts'
import { errorsFromMessage, fieldError, formError, invalid } from './form-errors.ts'
import type { FieldErrors } from './form-errors.ts'

@customElement('sh-account-menu')
export class ShAccountMenu extends SessionElement {
  static override styles = [sharedStyles, popoverStyles, css`
    .who { padding: 6px; border-bottom: 1px solid var(--sh-border); margin-bottom: 4px; }
    .role { font-size: 12px; color: var(--sh-text-muted); }
    dialog { border: 1px solid var(--sh-border); border-radius: 10px; padding: 20px; background: var(--sh-surface); color: var(--sh-text); box-shadow: var(--sh-shadow); width: min(380px, 92vw); }
    dialog::backdrop { background: rgba(0, 0, 0, 0.45); }
    form { display: flex; flex-direction: column; gap: 12px; margin-top: 12px; }
    /* on a phone the bar has room for the icon only; the button's label still names the user */
    @media (max-width: 600px) { .username { display: none; } }
  `]

  @state() private open = false
  @state() private errors: FieldErrors = {}
  @state() private saved = false
  @query('dialog') private dialog!: HTMLDialogElement
  @query('button[aria-haspopup]') private menuButton!: HTMLButtonElement

  // closes the menu on a click elsewhere, or on Escape
  private readonly outsideClicks = new DocumentClickController(this, (event: Event): void => {
    if (this.open && !event.composedPath().includes(this)) this.open = false
  }, () => { this.close() })

  /** Closes the menu; the focus goes back to its button when it was inside the menu. */
  private close (): void {
    if (!this.open) return
    this.open = false
    if (this.renderRoot.querySelector('.panel')?.contains((this.renderRoot as ShadowRoot).activeElement) === true) this.menuButton.focus()
  }

  private toggleMenu (): void {
    this.open = !this.open
    if (this.open) this.updateComplete.then(() => { this.renderRoot.querySelector<HTMLElement>('[role="menuitem"]')?.focus() }).catch(() => {})
  }

  private openPasswordDialog (): void {
    this.open = false
    this.errors = {}
    this.saved = false
    this.dialog.querySelector('form')?.reset()
    this.dialog.showModal()
  }

  private async handlePassword (event: SubmitEvent): Promise<void> {
    event.preventDefault()
    const data = new FormData(event.target as HTMLFormElement)
    const current = String(data.get('currentPassword') ?? '')
    const next = String(data.get('newPassword') ?? '')
    if (next !== String(data.get('confirm') ?? '')) {
      this.errors = { confirm: 'the two new passwords differ' }
      return
    }
    try {
      await this.session.changePassword(current, next)
      this.saved = true
      this.errors = {}
      setTimeout(() => { this.dialog.close() }, 800)
    } catch (err) {
      const message = (err as Error).message
      this.errors = message.startsWith('the current password') ? { currentPassword: message } : message.startsWith('password') ? { newPassword: message } : errorsFromMessage(message, [])
    }
  }

  override render (): unknown {
    const user = this.session.user
    if (user === undefined) return ''
    return html`<div class="pop ${this.open ? 'open' : ''}">
      <button class="ghost" aria-haspopup="menu" aria-expanded=${String(this.open)} aria-label="Account of ${user.username}" title="Account of ${user.username}" data-testid="account-menu" @click=${this.toggleMenu}>
        ${icon('user')}<span class="username">${user.username}</span>${icon('chevronDown')}
      </button>
      <div class="panel" role="menu">
        <div class="who"><strong>${user.firstName} ${user.lastName}</strong><div class="role">${user.role}${user.role === 'viewer' ? ' · read only' : ''}</div></div>
        <button class="menu-item" role="menuitem" @click=${this.openPasswordDialog}>${icon('key')} Set password</button>
        <button class="menu-item" role="menuitem" data-testid="logout" @click=${() => { this.open = false; this.session.logout().catch(() => {}) }}>${icon('logout')} Log out</button>
      </div>
    </div>
    <dialog aria-labelledby="pw-title">
      <h2 id="pw-title">Set password</h2>
      <form @submit=${this.handlePassword} novalidate>
        <div class="field">
          <label for="pw-current">Current password</label>
          <input id="pw-current" name="currentPassword" type="password" autocomplete="current-password" required aria-invalid=${invalid(this.errors, 'currentPassword')} aria-describedby="currentPassword-error">
          ${fieldError(this.errors, 'currentPassword')}
        </div>
        <div class="field">
          <label for="pw-new">New password (at least 12 characters)</label>
          <input id="pw-new" name="newPassword" type="password" autocomplete="new-password" minlength="12" required aria-invalid=${invalid(this.errors, 'newPassword')} aria-describedby="newPassword-error">
          ${fieldError(this.errors, 'newPassword')}
        </div>
        <div class="field">
          <label for="pw-confirm">New password again</label>
          <input id="pw-confirm" name="confirm" type="password" autocomplete="new-password" required aria-invalid=${invalid(this.errors, 'confirm')} aria-describedby="confirm-error">
          ${fieldError(this.errors, 'confirm')}
        </div>
        ${formError(this.errors)}
        ${this.saved ? html`<p class="notice" role="status">Password changed.</p>` : ''}
        <div class="form-actions">
          <button type="button" @click=${() => { this.dialog.close() }}>Cancel</button>
          <button type="submit" class="primary">Save password</button>
        </div>
      </form>
    </dialog>`
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'sh-account-menu': ShAccountMenu
  }
}
