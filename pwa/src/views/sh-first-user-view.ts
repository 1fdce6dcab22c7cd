// The lab's first user, an admin. The form cannot be dismissed: without a user nobody can change
// anything, so the app asks for one before anything else.
import { html } from 'lit'
import { customElement, state } from 'lit/decorators.js'
import { SessionElement } from '../app/session-element.ts'
import { sharedStyles } from '../styles/shared.ts'
import '../components/sh-logo.ts'
import { errorsFromMessage, fieldError, formError, invalid } from '../components/form-errors.ts'
import type { FieldErrors } from '../components/form-errors.ts'
import { authCardStyles } from './auth-card.ts'

const FIELDS = ['setupCode', 'username', 'firstName', 'lastName', 'email', 'password', 'confirm'] as const

@customElement('sh-first-user-view')
export class ShFirstUserView extends SessionElement {
  static override styles = [sharedStyles, authCardStyles]

  @state() private errors: FieldErrors = {}
  @state() private busy = false
  /** from the link `scanhub start` printed; asked for when the page was opened without it */
  @state() private setupCode = ''

  override connectedCallback (): void {
    super.connectedCallback()
    this.handleHashChange()
    // the link pasted into the address bar of this page changes only its fragment
    window.addEventListener('hashchange', this.handleHashChange)
  }

  override disconnectedCallback (): void {
    window.removeEventListener('hashchange', this.handleHashChange)
    super.disconnectedCallback()
  }

  private readonly handleHashChange = (): void => {
    this.setupCode = this.session.takeSetupCodeFromUrl() ?? this.setupCode
  }

  private async handleSubmit (event: SubmitEvent): Promise<void> {
    event.preventDefault()
    const data = new FormData(event.target as HTMLFormElement)
    const value = (k: string): string => String(data.get(k) ?? '')
    const errors: FieldErrors = {}
    const setupCode = this.setupCode !== '' ? this.setupCode : value('setupCode').trim()
    if (setupCode === '') errors.setupCode = 'the setup code is required: it is in the link scanhub start printed'
    if (value('username').trim() === '') errors.username = 'username is required'
    if (value('firstName').trim() === '') errors.firstName = 'first name is required'
    if (value('lastName').trim() === '') errors.lastName = 'last name is required'
    if ([...value('password')].length < 12) errors.password = 'password must be at least 12 characters long'
    else if (value('password') !== value('confirm')) errors.confirm = 'the two passwords differ'
    this.errors = errors
    if (Object.keys(errors).length > 0) return
    this.busy = true
    try {
      await this.session.createFirstUser({
        username: value('username').trim(),
        firstName: value('firstName').trim(),
        lastName: value('lastName').trim(),
        email: value('email').trim(),
        password: value('password')
      }, setupCode)
    } catch (err) {
      // a wrong code: ask for it
      if (/setup code/.test((err as Error).message)) this.setupCode = ''
      this.errors = errorsFromMessage((err as Error).message, FIELDS)
    } finally {
      this.busy = false
    }
  }

  private field (name: string, label: string, options: { type?: string, autocomplete?: string, required?: boolean } = {}): unknown {
    return html`<div class="field">
      <label for=${name}>${label}</label>
      <input id=${name} name=${name} type=${options.type ?? 'text'} autocomplete=${options.autocomplete ?? 'off'} ?required=${options.required ?? true}
        aria-invalid=${invalid(this.errors, name)} aria-describedby="${name}-error">
      ${fieldError(this.errors, name)}
    </div>`
  }

  override render (): unknown {
    return html`<div class="card" role="dialog" aria-modal="true" aria-labelledby="title">
      <div class="brand"><sh-logo size="56"></sh-logo><h1 id="title">Welcome to ScanHub</h1>
        <p>Create the lab's first user. It is an administrator, who can then add everyone else.</p></div>
      <form @submit=${this.handleSubmit} novalidate aria-label="First user">
        ${this.setupCode === ''
          ? html`<p class="hint">Open the link <code>scanhub start</code> printed on the hub's machine, or type the setup code from it
              (it is also in the file <code>setup-token</code> of the hub's data directory).</p>
            ${this.field('setupCode', 'Setup code', { autocomplete: 'one-time-code' })}`
          : ''}
        ${this.field('username', 'Username', { autocomplete: 'username' })}
        ${this.field('firstName', 'First name', { autocomplete: 'given-name' })}
        ${this.field('lastName', 'Last name', { autocomplete: 'family-name' })}
        ${this.field('email', 'E-mail (optional)', { type: 'email', autocomplete: 'email', required: false })}
        ${this.field('password', 'Password (at least 12 characters)', { type: 'password', autocomplete: 'new-password' })}
        ${this.field('confirm', 'Password again', { type: 'password', autocomplete: 'new-password' })}
        ${formError(this.errors)}
        <button type="submit" class="primary" ?disabled=${this.busy}>${this.busy ? 'Creating…' : 'Create admin and log in'}</button>
      </form>
    </div>`
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'sh-first-user-view': ShFirstUserView
  }
}
