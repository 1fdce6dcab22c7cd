// Users (admins only): username, names, e-mail, role, last activity, last login; create, change
// role, set password, delete. These go to the hub's REST API, which hashes passwords and refuses to
// remove or demote the last admin, so this page needs the hub in reach. The new-user form checks every
// field at once and shows each error under its field before anything is sent.
import { css, html, nothing } from 'lit'
import { customElement, query, state } from 'lit/decorators.js'
import { ROLES, validateUserInput, validateUserPatch } from '../../../protocol/lab/index.ts'
import type { Role } from '../../../protocol/lab/index.ts'
import { SessionElement } from '../app/session-element.ts'
import { pageStyles, sharedStyles } from '../styles/shared.ts'
import { icon } from '../styles/icons.ts'
import '../components/sh-confirm-dialog.ts'
import type { ShConfirmDialog } from '../components/sh-confirm-dialog.ts'
import { errorsFromMessage, fieldError, fieldErrors, focusFirstField, focusFirstInvalid, formError, invalid } from '../components/form-errors.ts'
import type { FieldErrors, FormField } from '../components/form-errors.ts'
import type { PublicUser } from '../services/api.ts'
import { HubUnreachableError } from '../services/api.ts'
import { formatDateTime } from './format.ts'

const FIELDS: readonly FormField[] = [
  { name: 'username', label: 'Username', required: true },
  { name: 'firstName', label: 'First name', required: true },
  { name: 'lastName', label: 'Last name', required: true },
  { name: 'email', label: 'E-mail' },
  { name: 'role', label: 'Role', required: true },
  { name: 'password', label: 'Password', required: true }
]
const LABEL = Object.fromEntries(FIELDS.map((f) => [f.name, f.label]))

/** What the lab model says of one field of a new user; a password needs at least 12 characters, as the hub asks. */
function checkField (name: string, value: string): string | undefined {
  if (name === 'password') return [...value].length < 12 ? 'password must be at least 12 characters long' : undefined
  if (name === 'username') {
    // a username is given once, so no patch checks it: a user made of it and otherwise valid fields does
    const made = validateUserInput({ username: value, firstName: 'x', lastName: 'x', email: '', role: 'viewer', passwordHash: 'x' })
    return made.ok ? undefined : made.error
  }
  const checked = validateUserPatch({ [name]: value.trim() })
  return checked.ok ? undefined : checked.error
}

@customElement('sh-users-view')
export class ShUsersView extends SessionElement {
  static override styles = [sharedStyles, pageStyles, css`
    header { display: flex; align-items: center; gap: 12px; }
    .create { padding: 16px; }
    .create h2 { margin-bottom: 12px; }
    td.actions { white-space: nowrap; text-align: right; width: 1%; }
    td select { width: auto; }
    dialog { border: 1px solid var(--sh-border); border-radius: 10px; padding: 20px; background: var(--sh-surface); color: var(--sh-text); box-shadow: var(--sh-shadow); width: min(380px, 92vw); }
    dialog::backdrop { background: rgba(0, 0, 0, 0.45); }
    dialog form { display: flex; flex-direction: column; gap: 12px; margin-top: 12px; }
  `]

  @state() private users: PublicUser[] = []
  @state() private loadError = ''
  @state() private creating = false
  @state() private errors: FieldErrors = {}
  @state() private rowError = ''
  @state() private passwordFor: string | undefined
  @state() private passwordErrors: FieldErrors = {}
  @query('sh-confirm-dialog') private confirm!: ShConfirmDialog
  @query('dialog#password') private passwordDialog!: HTMLDialogElement

  override connectedCallback (): void {
    super.connectedCallback()
    this.reload().catch(() => {})
  }

  private async reload (): Promise<void> {
    try {
      this.users = await this.session.listUsers()
      this.loadError = ''
    } catch (err) {
      this.loadError = err instanceof HubUnreachableError ? 'Managing users needs the hub, which cannot be reached now.' : (err as Error).message
    }
  }

  private async handleCreate (event: SubmitEvent): Promise<void> {
    event.preventDefault()
    const form = event.target as HTMLFormElement
    const data = new FormData(form)
    const value = (k: string): string => String(data.get(k) ?? '').trim()
    const errors = fieldErrors(FIELDS, Object.fromEntries(FIELDS.map((f) => [f.name, String(data.get(f.name) ?? '')])), checkField)
    if (Object.keys(errors).length > 0) {
      this.errors = errors
      this.updateComplete.then(() => { focusFirstInvalid(form) }).catch(() => {})
      return
    }
    try {
      await this.session.createUser({
        username: value('username'),
        firstName: value('firstName'),
        lastName: value('lastName'),
        email: value('email'),
        role: value('role') as Role,
        password: String(data.get('password') ?? '')
      })
      this.errors = {}
      this.creating = false
      await this.reload()
    } catch (err) {
      this.errors = errorsFromMessage((err as Error).message, FIELDS)
      this.updateComplete.then(() => { focusFirstInvalid(form) }).catch(() => {})
    }
  }

  private openCreate (): void {
    this.creating = true
    this.updateComplete.then(() => { focusFirstField(this.renderRoot.querySelector('form.create')) }).catch(() => {})
  }

  private readonly closeCreate = (): void => {
    this.creating = false
    this.errors = {}
    this.updateComplete.then(() => { this.renderRoot.querySelector<HTMLElement>('button.new-user')?.focus() }).catch(() => {})
  }

  private async changeRole (user: PublicUser, role: Role): Promise<void> {
    try {
      await this.session.updateUser(user.username, { role })
      this.rowError = ''
    } catch (err) {
      this.rowError = (err as Error).message
    }
    await this.reload()
  }

  private async removeUser (user: PublicUser): Promise<void> {
    if (!(await this.confirm.ask(`Delete the user ${user.username} (${user.firstName} ${user.lastName})? Their changes stay in the audit log.`))) return
    try {
      await this.session.removeUser(user.username)
      this.rowError = ''
    } catch (err) {
      this.rowError = (err as Error).message
    }
    await this.reload()
  }

  private openPassword (user: PublicUser): void {
    this.passwordFor = user.username
    this.passwordErrors = {}
    this.passwordDialog.querySelector('form')?.reset()
    this.passwordDialog.showModal()
  }

  private async handlePassword (event: SubmitEvent): Promise<void> {
    event.preventDefault()
    const password = String(new FormData(event.target as HTMLFormElement).get('password') ?? '')
    if (this.passwordFor === undefined) return
    try {
      await this.session.updateUser(this.passwordFor, { password })
      this.passwordDialog.close()
    } catch (err) {
      this.passwordErrors = { password: (err as Error).message }
    }
  }

  private renderCreate (): unknown {
    const e = this.errors
    const required = (name: string): boolean => FIELDS.some((f) => f.name === name && f.required === true)
    const field = (name: string, label: string, type = 'text', autocomplete = 'off'): unknown => html`<div class="field">
      <label for="u-${name}" class=${required(name) ? 'required' : ''}>${label}</label>
      <input id="u-${name}" name=${name} type=${type} autocomplete=${autocomplete} aria-required=${required(name) ? 'true' : 'false'}
        aria-invalid=${invalid(e, name)} aria-describedby=${e[name] !== undefined ? `${name}-error` : nothing}>
      ${fieldError(e, name)}
    </div>`
    return html`<form class="card create" @submit=${this.handleCreate} novalidate aria-labelledby="new-user"
      @keydown=${(ev: KeyboardEvent) => { if (ev.key === 'Escape') this.closeCreate() }}>
      <h2 id="new-user">New user</h2>
      <p class="required-note">Fields marked <span aria-hidden="true">*</span> are required.</p>
      <div class="form-grid">
        ${field('username', LABEL.username)}
        ${field('firstName', LABEL.firstName)}
        ${field('lastName', LABEL.lastName)}
        ${field('email', LABEL.email, 'email')}
        <div class="field">
          <label for="u-role" class="required">${LABEL.role}</label>
          <select id="u-role" name="role" aria-required="true" aria-invalid=${invalid(e, 'role')}>${ROLES.map((r) => html`<option value=${r} ?selected=${r === 'medical'}>${r}</option>`)}</select>
          ${fieldError(e, 'role')}
        </div>
        ${field('password', 'Password (12+ characters)', 'password', 'new-password')}
      </div>
      ${formError(e)}
      <div class="form-actions">
        <button type="button" @click=${this.closeCreate}>Cancel</button>
        <button type="submit" class="primary">Create user</button>
      </div>
    </form>`
  }

  override render (): unknown {
    const me = this.session.user?.username
    return html`
      <header>
        <h1>Users</h1><span class="spacer"></span>
        <button class="primary new-user" ?disabled=${this.creating} @click=${this.openCreate}>${icon('plus')} New user</button>
      </header>
      ${this.loadError !== '' ? html`<p class="form-error" role="alert">${this.loadError} <button class="small" @click=${() => { this.reload().catch(() => {}) }}>Retry</button></p>` : nothing}
      ${this.creating ? this.renderCreate() : nothing}
      ${this.rowError !== '' ? html`<p class="form-error" role="alert">${this.rowError}</p>` : nothing}
      <div class="table-wrap"><table class="table" aria-label="Users">
        <thead><tr><th>Username</th><th>Name</th><th>E-mail</th><th>Role</th><th>Last activity</th><th>Last login</th><th><span class="visually-hidden">Actions</span></th></tr></thead>
        <tbody>
          ${this.users.map((u) => html`<tr>
            <td><strong>${u.username}</strong>${u.username === me ? html` <span class="muted">(you)</span>` : nothing}</td>
            <td>${u.firstName} ${u.lastName}</td>
            <td>${u.email}</td>
            <td><select aria-label="Role of ${u.username}" @change=${(e: Event) => { this.changeRole(u, (e.target as HTMLSelectElement).value as Role).catch(() => {}) }}>
              ${ROLES.map((r) => html`<option value=${r} ?selected=${u.role === r}>${r}</option>`)}
            </select></td>
            <td>${formatDateTime(u.lastActivityAt) || '—'}</td>
            <td>${formatDateTime(u.lastLoginAt) || '—'}</td>
            <td class="actions">
              <button class="small ghost" @click=${() => { this.openPassword(u) }}>${icon('key')} Set password</button>
              <button class="icon small ghost" aria-label="Delete ${u.username}" @click=${() => { this.removeUser(u).catch(() => {}) }}>${icon('trash')}</button>
            </td>
          </tr>`)}
        </tbody>
      </table></div>
      <dialog id="password" aria-labelledby="pw-title">
        <h2 id="pw-title">Set the password of ${this.passwordFor ?? ''}</h2>
        <form @submit=${this.handlePassword} novalidate>
          <div class="field">
            <label for="pw-new">New password (at least 12 characters)</label>
            <input id="pw-new" name="password" type="password" autocomplete="new-password" aria-invalid=${invalid(this.passwordErrors, 'password')} aria-describedby="password-error">
            ${fieldError(this.passwordErrors, 'password')}
          </div>
          <div class="form-actions">
            <button type="button" @click=${() => { this.passwordDialog.close() }}>Cancel</button>
            <button type="submit" class="primary">Set password</button>
          </div>
        </form>
      </dialog>
      <sh-confirm-dialog></sh-confirm-dialog>`
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'sh-users-view': ShUsersView
  }
}
