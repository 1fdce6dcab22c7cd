// Login: centred logo, "ScanHub", a narrow username/password form.
import { html } from 'lit'
import { customElement, state } from 'lit/decorators.js'
import { SessionElement } from '../app/session-element.ts'
import { sharedStyles } from '../styles/shared.ts'
import { HubUnreachableError } from '../services/api.ts'
import '../components/sh-logo.ts'
import { authCardStyles } from './auth-card.ts'

@customElement('sh-login-view')
export class ShLoginView extends SessionElement {
  static override styles = [sharedStyles, authCardStyles]

  @state() private error = ''
  @state() private busy = false

  private async handleSubmit (event: SubmitEvent): Promise<void> {
    event.preventDefault()
    const data = new FormData(event.target as HTMLFormElement)
    const username = String(data.get('username') ?? '').trim()
    const password = String(data.get('password') ?? '')
    if (username === '' || password === '') {
      this.error = 'Enter your username and password.'
      return
    }
    this.busy = true
    this.error = ''
    try {
      await this.session.login(username, password)
    } catch (err) {
      this.error = err instanceof HubUnreachableError ? 'The hub cannot be reached: logging in needs it. Check that it runs, then try again.' : (err as Error).message
    } finally {
      this.busy = false
    }
  }

  override render (): unknown {
    return html`<div class="card">
      <div class="brand"><sh-logo size="56"></sh-logo><h1>ScanHub</h1></div>
      ${this.session.notice !== '' ? html`<p class="notice" role="status">${this.session.notice}</p>` : ''}
      <form @submit=${this.handleSubmit} novalidate aria-label="Log in">
        <div class="field">
          <label for="username">Username</label>
          <input id="username" name="username" autocomplete="username" autocapitalize="none" spellcheck="false" required autofocus>
        </div>
        <div class="field">
          <label for="password">Password</label>
          <input id="password" name="password" type="password" autocomplete="current-password" required aria-describedby="login-error">
        </div>
        ${this.error !== '' ? html`<p class="form-error" id="login-error" role="alert">${this.error}</p>` : ''}
        <button type="submit" class="primary" ?disabled=${this.busy}>${this.busy ? 'Logging in…' : 'Log in'}</button>
      </form>
      <p class="lab">${this.session.labName}</p>
    </div>`
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'sh-login-view': ShLoginView
  }
}
