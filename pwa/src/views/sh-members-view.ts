// The lab's members (admins only): every hub, scanner, reconstruction computer and paired browser, with
// its kind, its ceiling (the most a change from it may do), who added it and whether it is still in.
// Revoking one cuts it off from every peer of the lab; "Pair a device" shows a one-time code and QR code
// for a tablet or browser; "Invite a computer" makes the line a new peer starts with. These go to the
// hub's REST API, which signs the lab's member records, so this page needs the hub in reach.
import { css, html, nothing } from 'lit'
import { customElement, query, state } from 'lit/decorators.js'
import { ROLES } from '../../../protocol/lab/index.ts'
import type { Role } from '../../../protocol/lab/index.ts'
import { SessionElement } from '../app/session-element.ts'
import { pageStyles, sharedStyles } from '../styles/shared.ts'
import { icon } from '../styles/icons.ts'
import '../components/sh-confirm-dialog.ts'
import '../components/sh-qr-code.ts'
import type { ShConfirmDialog } from '../components/sh-confirm-dialog.ts'
import { HubUnreachableError } from '../services/api.ts'
import type { ComputerInvite, MemberView, PairingOffer, PairingProgress } from '../services/lab-session.ts'
import { formatDateTime } from './format.ts'

/** What each role may do, in one line (node/auth/write-policy.ts enforces it). */
export const ROLE_SUMMARIES: Record<Role, string> = {
  admin: 'everything: users, members, devices, settings',
  medical: 'patients, exams, workflows and tasks; runs and stops scans',
  scientist: 'as medical, plus sequences, templates and pipelines; deletes no patient',
  engineer: 'devices, sequences and calibration; reads patients',
  viewer: 'reads everything, changes nothing'
}

const COMPUTER_KINDS: Record<ComputerInvite['kind'], string> = {
  hub: 'keeps the lab\'s data and serves the app',
  scanner: 'drives a scanner (or the virtual one)',
  recon: 'reconstructs images'
}

const KIND_LABELS: Record<MemberView['kind'], string> = {
  hub: 'Hub', scanner: 'Scanner', recon: 'Reconstruction', browser: 'Browser', invite: 'Invite (not used yet)'
}

/** "4:05" */
function minutesAndSeconds (ms: number): string {
  const total = Math.max(0, Math.ceil(ms / 1000))
  return `${Math.floor(total / 60)}:${String(total % 60).padStart(2, '0')}`
}

@customElement('sh-members-view')
export class ShMembersView extends SessionElement {
  static override styles = [sharedStyles, pageStyles, css`
    header { display: flex; align-items: center; gap: 12px; flex-wrap: wrap; }
    .intro { margin: 0; color: var(--sh-text-muted); max-width: 72ch; }
    td.actions { white-space: nowrap; text-align: right; width: 1%; }
    .state-active { color: var(--sh-success, inherit); font-weight: 600; }
    .state-out { color: var(--sh-text-muted); }
    dialog { border: 1px solid var(--sh-border); border-radius: 10px; padding: 20px; background: var(--sh-surface); color: var(--sh-text); box-shadow: var(--sh-shadow); width: min(480px, 94vw); }
    dialog::backdrop { background: rgba(0, 0, 0, 0.45); }
    dialog form, .step { display: flex; flex-direction: column; gap: 12px; margin-top: 12px; }
    .code { font-family: var(--sh-mono); font-size: 40px; font-weight: 700; letter-spacing: 0.1em; text-align: center; margin: 0; }
    .qr { display: flex; justify-content: center; }
    .link { font-family: var(--sh-mono); font-size: 12px; word-break: break-all; text-align: center; color: var(--sh-text-muted); margin: 0; }
    .paired { background: var(--sh-info-soft); border-radius: var(--sh-radius); padding: 10px 12px; margin: 0; }
    .paired strong { font-family: var(--sh-mono); font-size: 18px; white-space: nowrap; }
    .hint { margin: 0; font-size: 13px; color: var(--sh-text-muted); }
    textarea { font-family: var(--sh-mono); font-size: 12px; width: 100%; min-height: 96px; resize: vertical; word-break: break-all; }
  `]

  @state() private members: MemberView[] = []
  @state() private loadError = ''
  @state() private rowError = ''
  /** the pairing dialog: choosing the ceiling, then the code and what became of it */
  @state() private offer: PairingOffer | undefined
  @state() private progress: PairingProgress | undefined
  @state() private pairError = ''
  @state() private pairBusy = false
  @state() private now = Date.now()
  @state() private invite: ComputerInvite | undefined
  @state() private inviteError = ''
  @state() private inviteBusy = false
  @state() private copied = false
  @query('sh-confirm-dialog') private confirm!: ShConfirmDialog
  @query('dialog#pair') private pairDialog!: HTMLDialogElement
  @query('dialog#invite') private inviteDialog!: HTMLDialogElement
  /** the button that opened a dialog, focused again when it closes */
  private opener: HTMLElement | undefined
  private pollTimer: ReturnType<typeof setInterval> | undefined
  private polling = false

  override connectedCallback (): void {
    super.connectedCallback()
    this.reload().catch(() => {})
  }

  override disconnectedCallback (): void {
    this.stopPolling()
    super.disconnectedCallback()
  }

  private async reload (): Promise<void> {
    try {
      this.members = await this.session.listMembers()
      this.loadError = ''
    } catch (err) {
      this.loadError = err instanceof HubUnreachableError ? 'Managing the lab\'s members needs the hub, which cannot be reached now.' : (err as Error).message
    }
  }

  /** Members worth listing: an invite's key once used or expired is no device. */
  private get shown (): MemberView[] {
    return this.members
      .filter((m) => m.kind !== 'invite' || m.active)
      .sort((a, b) => Number(b.active) - Number(a.active) || a.addedAt.localeCompare(b.addedAt))
  }

  /** The founder, the hub this page talks to and this very browser cannot be revoked from here. */
  private revocable (member: MemberView): boolean {
    const pairing = this.session.pairing
    return member.active && member.peerId !== pairing?.founder && member.peerId !== pairing?.hubPeerId && member.peerId !== this.session.peerId
  }

  private async revoke (member: MemberView): Promise<void> {
    const what = member.kind === 'invite' ? 'the unused invite' : `${KIND_LABELS[member.kind].toLowerCase()} “${member.name}”`
    const ok = await this.confirm.ask(
      `Revoke ${what}? Every peer of the lab cuts it off within seconds: it can no longer read or change anything, and whoever uses it is logged out. It cannot be undone; the device must be paired or invited again to come back.`,
      { heading: `Revoke ${member.name}?`, confirmLabel: 'Revoke' })
    if (!ok) return
    try {
      await this.session.revokeMember(member.peerId)
      this.rowError = ''
    } catch (err) {
      this.rowError = (err as Error).message
    }
    await this.reload()
  }

  // ---- pairing a device ----

  private openPair (event: Event): void {
    this.opener = event.currentTarget as HTMLElement
    this.offer = undefined
    this.progress = undefined
    this.pairError = ''
    this.pairDialog.showModal()
  }

  private async handleOffer (event: SubmitEvent): Promise<void> {
    event.preventDefault()
    const ceiling = String(new FormData(event.target as HTMLFormElement).get('ceiling') ?? 'medical') as Role
    this.pairBusy = true
    this.pairError = ''
    try {
      this.offer = await this.session.createPairing(ceiling)
      this.progress = undefined
      this.now = Date.now()
      this.startPolling()
      await this.updateComplete
      this.renderRoot.querySelector<HTMLElement>('#pair-code')?.focus()
    } catch (err) {
      this.pairError = err instanceof HubUnreachableError ? 'Pairing needs the hub, which cannot be reached now.' : (err as Error).message
    } finally {
      this.pairBusy = false
    }
  }

  /** Once a second while the dialog is open: the time left, and whether the device redeemed the code. */
  private startPolling (): void {
    this.stopPolling()
    this.pollTimer = setInterval(() => {
      this.now = Date.now()
      const offer = this.offer
      if (offer === undefined || this.polling || this.finished(this.progress)) return
      this.polling = true
      this.session.pairingProgress(offer.id).then((progress) => {
        if (this.offer?.id !== offer.id) return
        this.progress = progress
        if (this.finished(progress)) this.reload().catch(() => {})
      }, () => {}).finally(() => { this.polling = false })
    }, 1000)
  }

  /** Paired (with the device's name and confirmation code, which the hub may add a moment later) or expired. */
  private finished (progress: PairingProgress | undefined): boolean {
    return progress?.state === 'expired' || (progress?.state === 'paired' && progress.confirmation !== undefined)
  }

  private stopPolling (): void {
    if (this.pollTimer !== undefined) clearInterval(this.pollTimer)
    this.pollTimer = undefined
  }

  private readonly handlePairClosed = (): void => {
    this.stopPolling()
    this.offer = undefined
    this.progress = undefined
    this.opener?.focus()
    this.reload().catch(() => {})
  }

  private pairingLink (offer: PairingOffer): string {
    return `${location.origin}/#pair=${encodeURIComponent(offer.code)}`
  }

  private renderPairStep (): unknown {
    const offer = this.offer
    if (offer === undefined) {
      return html`<form @submit=${this.handleOffer} novalidate>
        <p class="hint" id="pair-explain">The device (a tablet, or a browser on another computer) gets a one-time code. Whoever logs in on it can do at most what this role allows.</p>
        <div class="field">
          <label for="pair-ceiling">The most this device may do</label>
          <select id="pair-ceiling" name="ceiling" autofocus aria-describedby="pair-explain">
            ${ROLES.map((r) => html`<option value=${r} ?selected=${r === 'medical'}>${r}: ${ROLE_SUMMARIES[r]}</option>`)}
          </select>
        </div>
        ${this.pairError !== '' ? html`<p class="form-error" role="alert">${this.pairError}</p>` : nothing}
        <div class="form-actions">
          <button type="button" @click=${() => { this.pairDialog.close() }}>Cancel</button>
          <button type="submit" class="primary" ?disabled=${this.pairBusy}>${this.pairBusy ? 'Making a code…' : 'Show a code'}</button>
        </div>
      </form>`
    }
    const progress = this.progress
    const left = Date.parse(offer.expiresAt) - this.now
    const paired = progress?.state === 'paired' && progress.confirmation !== undefined
    const expired = progress?.state === 'expired' || (progress?.state !== 'paired' && left <= 0)
    const link = this.pairingLink(offer)
    const loopback = /^(localhost|127\.|\[::1\])/.test(location.host)
    return html`<div class="step">
      <p class="hint">On the device, open ScanHub from the hub's address and type this code, or scan the QR code with its camera.</p>
      <p class="code" id="pair-code" tabindex="-1" data-testid="pairing-code">${offer.code}</p>
      <div class="qr"><sh-qr-code .text=${link} label="QR code of the pairing link"></sh-qr-code></div>
      <p class="link">${link}</p>
      ${loopback ? html`<p class="hint">This page is open on the hub's own machine (${location.host}): a tablet cannot open that address. Open ScanHub at the hub's address on the lab network to show a QR code a tablet can use.</p>` : nothing}
      <div role="status" aria-live="polite">
        ${paired
          ? html`<p class="paired" data-testid="pairing-result">Paired: ${progress.name ?? 'a device'}. Confirmation code: <strong>${progress.confirmation}</strong> — it must match the tablet's screen.</p>`
          : progress?.state === 'paired'
            ? html`<p class="hint">A device is pairing…</p>`
            : expired
              ? html`<p class="form-error">The code expired before a device used it.</p>`
              : html`<p class="hint">Ceiling ${offer.ceiling}. Waiting for the device… <span aria-hidden="true">(${minutesAndSeconds(left)} left)</span></p>`}
      </div>
      ${!expired && progress?.state !== 'paired' ? html`<p class="hint" aria-hidden="true">The code works once; it expires in ${minutesAndSeconds(left)}.</p>` : nothing}
      <div class="form-actions">
        ${expired ? html`<button type="button" @click=${() => { this.offer = undefined; this.progress = undefined }}>New code</button>` : nothing}
        <button type="button" class="primary" @click=${() => { this.pairDialog.close() }}>${paired ? 'Done' : 'Close'}</button>
      </div>
    </div>`
  }

  // ---- inviting a computer ----

  private openInvite (event: Event): void {
    this.opener = event.currentTarget as HTMLElement
    this.invite = undefined
    this.inviteError = ''
    this.copied = false
    this.inviteDialog.showModal()
  }

  private async handleInvite (event: SubmitEvent): Promise<void> {
    event.preventDefault()
    const data = new FormData(event.target as HTMLFormElement)
    const kind = String(data.get('kind') ?? 'hub') as ComputerInvite['kind']
    const ceiling = String(data.get('ceiling') ?? '')
    this.inviteBusy = true
    this.inviteError = ''
    try {
      this.invite = await this.session.inviteComputer(kind, ceiling === '' ? undefined : ceiling as Role)
      await this.updateComplete
      this.renderRoot.querySelector<HTMLTextAreaElement>('#invite-line')?.focus()
      await this.reload()
    } catch (err) {
      this.inviteError = err instanceof HubUnreachableError ? 'Inviting needs the hub, which cannot be reached now.' : (err as Error).message
    } finally {
      this.inviteBusy = false
    }
  }

  private async copyInvite (): Promise<void> {
    const line = this.renderRoot.querySelector<HTMLTextAreaElement>('#invite-line')
    if (line === null) return
    try {
      await navigator.clipboard.writeText(line.value)
    } catch {
      // No clipboard access (an http page on the LAN): select it for the user to copy.
      line.select()
      document.execCommand('copy')
    }
    this.copied = true
  }

  private renderInviteStep (): unknown {
    const invite = this.invite
    if (invite === undefined) {
      return html`<form @submit=${this.handleInvite} novalidate>
        <p class="hint">A computer joins the lab with a one-time invite line, started as <code>scanhub start --join …</code> in an empty data directory.</p>
        <div class="field">
          <label for="invite-kind">What the computer is</label>
          <select id="invite-kind" name="kind" autofocus>
            ${Object.entries(COMPUTER_KINDS).map(([kind, what]) => html`<option value=${kind}>${kind}: ${what}</option>`)}
          </select>
        </div>
        <div class="field">
          <label for="invite-ceiling">The most its changes may do</label>
          <select id="invite-ceiling" name="ceiling">
            <option value="" selected>the usual for its kind</option>
            ${ROLES.map((r) => html`<option value=${r}>${r}: ${ROLE_SUMMARIES[r]}</option>`)}
          </select>
        </div>
        ${this.inviteError !== '' ? html`<p class="form-error" role="alert">${this.inviteError}</p>` : nothing}
        <div class="form-actions">
          <button type="button" @click=${() => { this.inviteDialog.close() }}>Cancel</button>
          <button type="submit" class="primary" ?disabled=${this.inviteBusy}>${this.inviteBusy ? 'Making an invite…' : 'Create invite'}</button>
        </div>
      </form>`
    }
    const command = `scanhub start --roles ${invite.kind} --join '${invite.invite}'`
    return html`<div class="step">
      <div class="field">
        <label for="invite-line">Run this on the new ${invite.kind} computer (treat it like a password)</label>
        <textarea id="invite-line" readonly spellcheck="false" aria-describedby="invite-expiry">${command}</textarea>
      </div>
      <p class="hint" id="invite-expiry">A ${invite.kind} with ceiling ${invite.ceiling}. Works once, until ${formatDateTime(invite.expiresAt)}.</p>
      <div class="form-actions">
        <span role="status" class="hint">${this.copied ? 'Copied.' : ''}</span>
        <button type="button" @click=${() => { this.copyInvite().catch(() => {}) }}>Copy</button>
        <button type="button" class="primary" @click=${() => { this.inviteDialog.close() }}>Done</button>
      </div>
    </div>`
  }

  private renderState (member: MemberView): unknown {
    if (member.active) return html`<span class="state-active">${member.kind === 'invite' ? 'Waiting to be used' : 'Active'}</span>`
    // the hub's problem text names the revocation's time as stored; the table shows it as every date
    const text = member.revokedAt !== undefined && member.problem?.startsWith('revoked') === true
      ? `Revoked by ${member.revokedBy ?? 'an admin'}, ${formatDateTime(member.revokedAt)}`
      : member.problem ?? 'Not active'
    return html`<span class="state-out">${text}</span>`
  }

  override render (): unknown {
    const pairing = this.session.pairing
    return html`
      <header>
        <h1>Members</h1><span class="spacer"></span>
        <button @click=${(e: Event) => { this.openInvite(e) }}>${icon('plus')} Invite a computer</button>
        <button class="primary" @click=${(e: Event) => { this.openPair(e) }}>${icon('plus')} Pair a device</button>
      </header>
      <p class="intro">Only the lab's members can connect to its peers. Each has a ceiling: whatever it sends is judged as a user of that role would be, and the logged-in user's own role applies too. A revoked member is cut off by every peer of the lab.</p>
      ${this.loadError !== '' ? html`<p class="form-error" role="alert">${this.loadError} <button class="small" @click=${() => { this.reload().catch(() => {}) }}>Retry</button></p>` : nothing}
      ${this.rowError !== '' ? html`<p class="form-error" role="alert">${this.rowError}</p>` : nothing}
      <div class="table-wrap"><table class="table" aria-label="Members">
        <thead><tr><th>Name</th><th>Kind</th><th>Ceiling</th><th>Added by</th><th>Added</th><th>State</th><th><span class="visually-hidden">Actions</span></th></tr></thead>
        <tbody>
          ${this.shown.map((m) => html`<tr>
            <td><strong>${m.name}</strong>${m.peerId === this.session.peerId ? html` <span class="muted">(this device)</span>` : m.peerId === pairing?.founder ? html` <span class="muted">(founder)</span>` : nothing}
              <div class="mono muted" title=${m.peerId}>${m.peerId.slice(-10)}</div></td>
            <td>${KIND_LABELS[m.kind] ?? m.kind}</td>
            <td>${m.ceiling}</td>
            <td>${m.addedBy}</td>
            <td>${formatDateTime(m.addedAt) || '—'}</td>
            <td>${this.renderState(m)}</td>
            <td class="actions">${this.revocable(m)
              ? html`<button class="small danger" aria-label="Revoke ${m.name}" @click=${() => { this.revoke(m).catch(() => {}) }}>${icon('ban')} Revoke</button>`
              : nothing}</td>
          </tr>`)}
        </tbody>
      </table></div>
      <dialog id="pair" aria-labelledby="pair-title" @close=${this.handlePairClosed}>
        <h2 id="pair-title">Pair a device</h2>
        ${this.renderPairStep()}
      </dialog>
      <dialog id="invite" aria-labelledby="invite-title" @close=${() => { this.invite = undefined; this.opener?.focus() }}>
        <h2 id="invite-title">Invite a computer</h2>
        ${this.renderInviteStep()}
      </dialog>
      <sh-confirm-dialog></sh-confirm-dialog>`
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'sh-members-view': ShMembersView
  }
}
