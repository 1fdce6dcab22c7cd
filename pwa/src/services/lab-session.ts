// The app's one service: this browser as a peer of its lab. It pairs with the lab (a one-time code an
// admin shows, or the link `scanhub start` prints), remembers what pairing gave it (the lab key among
// it), opens the lab's documents from IndexedDB, keeps them in sync with the hub over libp2p, announces
// presence, and holds the user's session. Views read the Lab model and write through `write()`, on the
// browser's own documents: changes work offline and reach the hub when it is back. A device an admin
// removes from the lab forgets the lab and its data as soon as it hears of it.
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import type { PrivateKey } from '@libp2p/interface'
import { Awareness } from 'y-protocols/awareness'
import { swarmKeyFromHex } from '../../../protocol/lab-key.ts'
import { normalisePairingCode, pairingConfirmation } from '../../../protocol/pairing.ts'
import { Lab } from '../../../protocol/lab/index.ts'
import type { Actor, Destination, DestinationInput, DestinationPatch, Device, Role } from '../../../protocol/lab/index.ts'
import type { MemberKind } from '../../../protocol/lab/members.ts'
import type { AuditRecord } from '../../../protocol/lab/audit.ts'
import { labPeerNames } from '../../../protocol/lab/audit-wording.ts'
import type { AuditNames } from '../../../protocol/lab/audit-wording.ts'
import { listPeerRecords } from '../../../protocol/peers.ts'
import type { PeerPresence, PeerRole } from '../../../protocol/peers.ts'
import type { ExportView } from '../../../protocol/pacs-export.ts'
import { BrowserPeer } from '../net/browser-peer.ts'
import type { ConnectionStatus } from '../net/browser-peer.ts'
import { SyncClient } from '../net/sync-client.ts'
import { SyncLedger } from '../net/sync-ledger.ts'
import { IndexedDbDocSource } from '../storage/idb-doc-source.ts'
import { KEYS, readJson, remove, writeJson } from '../storage/local-store.ts'
import { ApiError, HubUnreachableError, request } from './api.ts'
import type { BootstrapInfo, LoginResult, PublicUser } from './api.ts'
import { fetchBlob } from './blob-cache.ts'
import { forgetPeerKey, loadOrCreatePeerKey } from './identity.ts'
import { deviceName, pairingErrorMessage, takeHashParam } from './pairing.ts'
import type { PairingAnswer, StoredPairing } from './pairing.ts'

export type { ExportView }

export type AppPhase = 'starting' | 'unpaired' | 'ready' | 'failed'

/** A peer of the lab as the status menus show it. */
export interface PeerView {
  peerId: string
  name: string
  roles: PeerRole[]
  status: 'ONLINE' | 'BUSY' | 'ERROR' | 'OFFLINE'
  unsynced?: number
  progress?: PeerPresence['progress']
  self: boolean
  /** where the peer listens (host:port), from its record in the lab document */
  address?: string
  /** when this page last heard from the peer (ms since the epoch); undefined if never */
  lastSeen?: number
}

/** `/ip4/10.0.0.5/tcp/7001/p2p/…` → `10.0.0.5:7001` */
function hostPort (addr: string | undefined): string | undefined {
  const m = addr === undefined ? null : /^\/ip[46]\/([^/]+)\/tcp\/(\d+)/.exec(addr)
  return m === null ? undefined : `${m[1]}:${m[2]}`
}

export type DeviceStatus = 'ONLINE' | 'BUSY' | 'ERROR' | 'OFFLINE'

/** The user may not make this change (a viewer, or nobody logged in). */
export class NotAllowedError extends Error {
  override name = 'NotAllowedError'
}

/** A scheduled procedure from the hospital's worklist (GET /api/v1/worklist); what the provider left empty is absent and named in missing. */
export interface WorklistEntryView {
  patientId?: string
  /** family^given */
  patientName?: string
  /** YYYY-MM-DD */
  birthDate?: string
  sex?: string
  accessionNumber?: string
  requestedProcedureId?: string
  requestedProcedureDescription?: string
  studyInstanceUid?: string
  /** YYYY-MM-DDTHH:MM[:SS], the provider's local time */
  scheduledStart?: string
  modality?: string
  stationAeTitle?: string
  scheduledProcedureStepId?: string
  missing: string[]
  problems: string[]
}

export interface WorklistAnswerView {
  provider: { id: string, name: string, aeTitle: string, host: string, port: number }
  entries: WorklistEntryView[]
  truncated: boolean
}

/** A PACS destination as the hub answers it (GET /api/v1/destinations): a DICOMweb password is never answered, only whether one is set. */
export type DestinationView = Extract<Destination, { kind: 'dimse' }> | (Omit<Extract<Destination, { kind: 'dicomweb' }>, 'password'> & { hasPassword: boolean })

/** "Test connection" (POST /api/v1/destinations/:id/echo): how long the answer took, or why there was none. */
export type EchoResult = { ok: true, ms: number } | { ok: false, error: string }

/** A member of the lab as the hub lists it (GET /api/v1/members). */
export interface MemberView {
  peerId: string
  name: string
  kind: MemberKind
  ceiling: Role
  addedBy: string
  addedAt: string
  active: boolean
  /** why it is not active */
  problem?: string
  revokedBy?: string
  revokedAt?: string
}

/** A one-time pairing code an admin shows (POST /api/v1/pairings), and what became of it (GET). */
export interface PairingOffer {
  id: string
  code: string
  expiresAt: string
  ceiling: Role
}

export interface PairingProgress {
  id: string
  state: 'waiting' | 'paired' | 'expired'
  expiresAt: string
  ceiling: Role
  peerId?: string
  name?: string
  confirmation?: string
}

/** An invite for a computer: `scanhub start --join <invite>`. */
export interface ComputerInvite {
  invite: string
  expiresAt: string
  kind: 'hub' | 'scanner' | 'recon'
  ceiling: Role
}

interface StoredSession {
  token: string
  user: PublicUser
  expiresAt: string
}

const KEEPALIVE_MS = 60_000

export class LabSession extends EventTarget {
  phase: AppPhase = 'starting'
  /** why the app cannot start, or cannot join the lab */
  problem = ''
  /** what pairing gave this browser: its lab, the lab key, the hub */
  pairing: StoredPairing | undefined
  /** the code both screens show right after pairing, until the user goes on */
  confirmation: string | undefined
  /** why the pairing screen shows: a code from the address that did not work, or this device was removed */
  pairingProblem = ''
  /** a pairing code from the address that did not work, to correct in the form */
  failedPairingCode = ''
  lab: Lab | undefined
  user: PublicUser | undefined
  /** whether the lab has users yet (undefined: not known, the hub was never reached) */
  hasUsers: boolean | undefined
  /** a message about the session for the login page (e.g. it expired) */
  notice = ''
  peerId = ''
  private token: string | undefined
  /** when each peer's presence was last seen by this page */
  private readonly lastSeen = new Map<string, number>()
  private docs: IndexedDbDocSource | undefined
  private awareness: Awareness | undefined
  private ledger = new SyncLedger()
  private sync: SyncClient | undefined
  private peer: BrowserPeer | undefined
  private ledgerTimer: ReturnType<typeof setTimeout> | undefined
  private lastActivity = 0
  private lastKeepalive = 0
  private lastRestart = 0
  private checkingHub = false
  private watchingActivity = false
  /** where the hub listens for this page (from pairing, refreshed from the hub's bootstrap) */
  private hubAddrs: string[] = []

  /**
   * Opens the lab this browser paired with, or pairs it first with a code from the address
   * (`#pair=CODE`), or asks for a code; the hub is reached in the background.
   */
  async start (): Promise<void> {
    try {
      // Before pairing existed the lab key was kept under this name; a browser that has it has not paired.
      remove(KEYS.bootstrap)
      let pairing = this.storedPairing()
      const code = takeHashParam('pair')
      if (code !== undefined && !(await this.pairedWithThisHub(pairing))) {
        try {
          pairing = await this.redeem(code)
        } catch (err) {
          this.pairingProblem = pairingErrorMessage(err)
          this.failedPairingCode = code
          pairing = undefined
        }
      }
      if (pairing === undefined) {
        this.phase = 'unpaired'
        this.changed()
        return
      }
      await this.openLab(pairing)
    } catch (err) {
      this.phase = 'failed'
      this.problem = (err as Error).message
      this.changed()
    }
  }

  get labName (): string {
    return this.pairing?.labName ?? ''
  }

  /**
   * Pairs this browser with the lab of the hub that served the page, using a one-time code an admin
   * shows, then joins the lab. Throws with a message for the user when the code does not work.
   */
  async pair (code: string): Promise<void> {
    let pairing: StoredPairing
    try {
      pairing = await this.redeem(code)
    } catch (err) {
      throw new Error(pairingErrorMessage(err))
    }
    this.pairingProblem = ''
    this.failedPairingCode = ''
    await this.openLab(pairing)
  }

  /** The user compared the confirmation code with the admin's screen and goes on to the app. */
  acknowledgePairing (): void {
    this.confirmation = undefined
    this.changed()
  }

  /** Makes this browser a member of the lab with a pairing code; keeps what the hub answers. */
  private async redeem (code: string): Promise<StoredPairing> {
    const key = await loadOrCreatePeerKey()
    const peerId = peerIdFromPrivateKey(key).toString()
    const answer = await request<PairingAnswer>('/api/v1/pair', {
      method: 'POST',
      body: { code: normalisePairingCode(code), peerId, name: deviceName(navigator.userAgent, navigator.maxTouchPoints) }
    })
    const pairing: StoredPairing = { ...answer, peerId, pairedAt: new Date().toISOString() }
    writeJson(KEYS.pairing, pairing)
    this.confirmation = await pairingConfirmation(answer.hubPeerId, peerId)
    return pairing
  }

  /** The pairing this browser keeps, if it was made with its current key. */
  private storedPairing (): StoredPairing | undefined {
    const stored = readJson<StoredPairing>(KEYS.pairing)
    if (typeof stored?.labId !== 'string' || typeof stored.swarmKeyHex !== 'string' || typeof stored.peerId !== 'string') return undefined
    return stored
  }

  /**
   * Whether a pairing code in the address is for the lab this browser is in already (the link
   * `scanhub start` printed, opened again): then it is not spent. A hub out of reach cannot pair anyway.
   */
  private async pairedWithThisHub (pairing: StoredPairing | undefined): Promise<boolean> {
    if (pairing === undefined) return false
    try {
      const hub = await request<BootstrapInfo>('/api/v1/bootstrap', { timeoutMs: 5000 })
      return hub.labId === pairing.labId
    } catch {
      return true
    }
  }

  /** Opens the lab's documents, starts syncing them with the hub and checks that this device is still a member. */
  private async openLab (pairing: StoredPairing): Promise<void> {
    const key: PrivateKey = await loadOrCreatePeerKey()
    this.peerId = peerIdFromPrivateKey(key).toString()
    if (this.peerId !== pairing.peerId) {
      // The key changed (storage cleared in part): the hub knows this browser by another one.
      remove(KEYS.pairing)
      this.phase = 'unpaired'
      this.changed()
      return
    }
    this.pairing = pairing
    this.hubAddrs = pairing.wsAddrs
    const namespace = `scanhub:${pairing.labId}`
    this.docs = await IndexedDbDocSource.open(namespace)
    this.lab = new Lab(this.docs)
    this.lab.onChange((docId) => { this.dispatchEvent(new CustomEvent('sh-lab-change', { detail: docId })) })
    this.ledger = SyncLedger.fromJSON(readJson(KEYS.ledger(namespace)))
    const stored = readJson<StoredSession>(KEYS.session)
    if (stored?.token !== undefined && stored.user !== undefined) {
      this.token = stored.token
      this.user = stored.user
    }
    this.hasUsers = readJson<{ hasUsers: boolean }>(KEYS.authState)?.hasUsers

    this.awareness = new Awareness(this.docs.get('lab'))
    this.awareness.on('change', () => { this.changed() })
    this.publishPresence()
    this.sync = new SyncClient({ docs: this.docs, awareness: this.awareness, ledger: this.ledger }, {
      isStoredOrigin: (origin) => this.docs?.isStoredOrigin(origin) ?? false
    })
    this.sync.addEventListener('sh-sync-change', this.handleSyncChange)
    this.sync.addEventListener('sh-sync-refused', this.handleRefused)
    this.sync.start()
    const peer = new BrowserPeer({
      privateKey: key,
      swarmKey: swarmKeyFromHex(pairing.swarmKeyHex),
      hubAddrs: () => this.hubAddrs,
      onUnreachable: () => { this.checkHub() },
      onSyncStream: async (stream, connection) => { await this.sync?.run(stream, connection.remotePeer.toString()) }
    })
    this.peer = peer
    peer.addEventListener('sh-peer-status', () => {
      if (peer.status === 'online') this.refreshAuth().catch(() => {})
      // A hub that answers HTTP but not this peer may have removed it from the lab.
      if (peer.status === 'offline') this.checkHub()
      this.changed()
    })
    this.phase = 'ready'
    this.changed()
    this.watchActivity()
    // The user's session is checked before the sync stream opens, so that the hub judges it with the
    // login in place; membership at the same time, so that a removed device does not dial at all.
    await Promise.all([this.refreshAuth().catch(() => {}), this.refreshHub().catch(() => {})])
    if (this.peer !== peer) return
    await peer.start()
  }

  get connection (): ConnectionStatus {
    return this.peer?.status ?? 'offline'
  }

  get role (): Role | undefined {
    return this.user?.role
  }

  /** Whether the user may change the lab's data (anyone logged in but a viewer). */
  get canEdit (): boolean {
    return this.user !== undefined && this.user.role !== 'viewer'
  }

  get isAdmin (): boolean {
    return this.user?.role === 'admin'
  }

  /** Device parameters are for admins and engineers. */
  get canEditDevices (): boolean {
    return this.user?.role === 'admin' || this.user?.role === 'engineer'
  }

  /** The session's Authorization header, for requests that stream with progress (exam downloads, file imports). */
  authHeaders (): Record<string, string> {
    return this.token === undefined ? {} : { authorization: `Bearer ${this.token}` }
  }

  /** Patients, exams, workflows, tasks, running and stopping them: what every peer lets these roles change (node/auth/write-policy.ts). */
  get canEditPatients (): boolean {
    return this.user?.role === 'admin' || this.user?.role === 'medical' || this.user?.role === 'scientist'
  }

  /** PACS destinations: admin, engineer (node/auth/write-policy.ts); everyone reads them. */
  get canEditDestinations (): boolean {
    return this.user?.role === 'admin' || this.user?.role === 'engineer'
  }

  /** Testing a destination and sending images to it: anyone logged in but a viewer (node/http/pacs-routes.ts). */
  get canSendToPacs (): boolean {
    return this.canEdit
  }

  /** The sequence library: admin, scientist, engineer. */
  get canEditSequences (): boolean {
    return this.user?.role === 'admin' || this.user?.role === 'scientist' || this.user?.role === 'engineer'
  }

  /** Exam, workflow and task templates: admin, scientist. */
  get canEditTemplates (): boolean {
    return this.user?.role === 'admin' || this.user?.role === 'scientist'
  }

  /** Local changes the hub has not confirmed yet. */
  get unsynced (): number {
    return this.ledger.unsynced()
  }

  /** Whether the hub refused a change on the current stream (it judged this browser read-only). */
  get refusedByHub (): boolean {
    return this.sync?.refused ?? false
  }

  actor (): Actor {
    if (this.user === undefined) throw new NotAllowedError('log in to make changes')
    return { name: this.user.username, peerId: this.peerId }
  }

  /** Runs a change on the browser's documents as the logged-in user. */
  write<T> (fn: (lab: Lab, actor: Actor) => T): T {
    if (this.lab === undefined) throw new NotAllowedError('the lab is not open yet')
    if (!this.canEdit) throw new NotAllowedError(this.user === undefined ? 'log in to make changes' : 'viewers cannot change anything')
    return fn(this.lab, this.actor())
  }

  /** Every peer the lab knows: present ones from presence, the rest from the lab document, offline. */
  peers (): PeerView[] {
    const out = new Map<string, PeerView>()
    const own = this.awareness?.clientID
    const now = Date.now()
    for (const [clientId, state] of this.awareness?.getStates() ?? []) {
      const p = state as Partial<PeerPresence>
      if (typeof p?.peerId !== 'string') continue
      const self = clientId === own
      const existing = out.get(p.peerId)
      if (existing !== undefined && !self) continue
      const heard = this.awareness?.meta.get(clientId)?.lastUpdated
      this.lastSeen.set(p.peerId, self ? now : Math.min(now, heard ?? now))
      out.set(p.peerId, {
        peerId: p.peerId,
        name: String(p.name ?? p.peerId),
        roles: Array.isArray(p.roles) ? p.roles : [],
        status: p.status ?? 'ONLINE',
        unsynced: p.unsynced,
        progress: p.progress,
        self
      })
    }
    if (this.lab !== undefined && this.docs !== undefined) {
      for (const record of listPeerRecords(this.docs.get('lab'))) {
        const known = out.get(record.peerId)
        if (known !== undefined) known.address = hostPort(record.addrs[0])
        else out.set(record.peerId, { peerId: record.peerId, name: record.name, roles: record.roles, status: 'OFFLINE', self: false, address: hostPort(record.addrs[0]) })
      }
    }
    for (const view of out.values()) view.lastSeen = this.lastSeen.get(view.peerId)
    return [...out.values()].sort((a, b) => Number(b.self) - Number(a.self) || a.name.localeCompare(b.name))
  }

  deviceStatus (device: Device): DeviceStatus {
    const peer = this.peers().find((p) => p.peerId === device.peerId && !p.self)
    return peer?.status ?? 'OFFLINE'
  }

  // ---- users and sessions ----

  async refreshAuth (): Promise<void> {
    try {
      const state = await request<{ hasUsers: boolean }>('/api/v1/auth/state', { timeoutMs: 5000 })
      this.hasUsers = state.hasUsers
      writeJson(KEYS.authState, state)
    } catch (err) {
      if (err instanceof HubUnreachableError) return
      throw err
    }
    if (this.token !== undefined) {
      try {
        const me = await request<{ user: PublicUser, expiresAt: string }>('/api/v1/auth/me', { token: this.token, timeoutMs: 5000 })
        this.setSession({ token: this.token, user: me.user, expiresAt: me.expiresAt })
      } catch (err) {
        if (err instanceof ApiError && err.status === 401) await this.sessionEnded('Your session ended. Log in again; changes you made on this device are kept and sync after you log in.')
      }
    }
    this.changed()
  }

  /**
   * The setup code of a lab without users, from the link `scanhub start` prints (`#setup=CODE`). It is
   * taken out of the address bar at once, so that it is not bookmarked or shared with the page's URL.
   */
  takeSetupCodeFromUrl (): string | undefined {
    return takeHashParam('setup')
  }

  async createFirstUser (input: { username: string, firstName: string, lastName: string, email: string, password: string }, setupCode: string): Promise<void> {
    await request<PublicUser>('/api/v1/auth/first-user', { method: 'POST', body: input, headers: { 'x-setup-token': setupCode } })
    this.hasUsers = true
    writeJson(KEYS.authState, { hasUsers: true })
    await this.login(input.username, input.password)
  }

  async login (username: string, password: string): Promise<void> {
    const result = await request<LoginResult>('/api/v1/auth/login', { method: 'POST', body: { username, password, browserPeerId: this.peerId } })
    this.notice = ''
    this.setSession(result)
    // The stream open now was judged without this login: reopen it so that the hub lets us write.
    this.peer?.restartSync()
  }

  async logout (): Promise<void> {
    const token = this.token
    this.endSession('')
    if (token !== undefined) await request('/api/v1/auth/logout', { method: 'POST', token }).catch(() => {})
    this.peer?.restartSync()
  }

  async changePassword (currentPassword: string, newPassword: string): Promise<void> {
    await request('/api/v1/auth/password', { method: 'POST', token: this.token, body: { currentPassword, newPassword } })
  }

  async listUsers (): Promise<PublicUser[]> {
    return await request<PublicUser[]>('/api/v1/users', { token: this.token })
  }

  async createUser (input: { username: string, firstName: string, lastName: string, email: string, role: Role, password: string }): Promise<PublicUser> {
    return await request<PublicUser>('/api/v1/users', { method: 'POST', token: this.token, body: input })
  }

  async updateUser (username: string, changes: { firstName?: string, lastName?: string, email?: string, role?: Role, password?: string }): Promise<PublicUser> {
    const user = await request<PublicUser>(`/api/v1/users/${encodeURIComponent(username)}`, { method: 'PATCH', token: this.token, body: changes })
    if (username === this.user?.username) await this.refreshAuth()
    return user
  }

  async removeUser (username: string): Promise<void> {
    await request(`/api/v1/users/${encodeURIComponent(username)}`, { method: 'DELETE', token: this.token })
  }

  // ---- the lab's members (admins) ----

  async listMembers (): Promise<MemberView[]> {
    return await request<MemberView[]>('/api/v1/members', { token: this.token })
  }

  async revokeMember (peerId: string): Promise<MemberView> {
    return await request<MemberView>(`/api/v1/members/${encodeURIComponent(peerId)}/revoke`, { method: 'POST', token: this.token })
  }

  /** A one-time code (5 minutes) that pairs a browser with this ceiling. */
  async createPairing (ceiling: Role): Promise<PairingOffer> {
    return await request<PairingOffer>('/api/v1/pairings', { method: 'POST', token: this.token, body: { ceiling } })
  }

  async pairingProgress (id: string): Promise<PairingProgress> {
    return await request<PairingProgress>(`/api/v1/pairings/${encodeURIComponent(id)}`, { token: this.token, timeoutMs: 5000 })
  }

  /** An invite line for a computer; without a ceiling, the hub gives the usual one for its kind. */
  async inviteComputer (kind: ComputerInvite['kind'], ceiling?: Role): Promise<ComputerInvite> {
    return await request<ComputerInvite>('/api/v1/members/invites', { method: 'POST', token: this.token, body: ceiling === undefined ? { kind } : { kind, ceiling } })
  }

  /** Uploads a Pulseq file to the hub's sequence library; the hub's parser message on refusal. */
  async uploadSequence (name: string, file: Blob): Promise<void> {
    let response: Response
    try {
      response = await fetch(`/api/v1/sequences?name=${encodeURIComponent(name)}`, {
        method: 'POST',
        headers: this.token === undefined ? {} : { authorization: `Bearer ${this.token}` },
        body: file,
        signal: AbortSignal.timeout(120_000)
      })
    } catch (err) {
      throw new HubUnreachableError(`uploading needs the hub, which cannot be reached: ${(err as Error).message}`)
    }
    if (!response.ok) {
      const body = await response.json().catch(() => ({})) as { error?: string }
      throw new ApiError(response.status, body.error ?? `the hub answered ${response.status}`)
    }
  }

  /** RF, gradients, ADC and k-space of a sequence, for its plot (computed by the hub from the file). */
  async sequenceWaveforms<T> (sequenceId: string): Promise<T> {
    return await request<T>(`/api/v1/sequences/${encodeURIComponent(sequenceId)}/waveforms`, { token: this.token, timeoutMs: 60_000 })
  }

  /**
   * Deletes an uploaded sequence through the hub, which holds every task of the lab and refuses (409,
   * naming them) while a task or template uses it.
   */
  async deleteSequence (id: string): Promise<void> {
    try {
      await request<undefined>(`/api/v1/sequences/${encodeURIComponent(id)}`, { method: 'DELETE', token: this.token })
    } catch (err) {
      if (err instanceof HubUnreachableError) throw new HubUnreachableError('deleting a sequence needs the hub, which checks that no task uses it, and it cannot be reached now')
      throw err
    }
  }

  // ---- the audit log ----

  /** Names for the audit log in words: users by username, devices by peer id, entities by id. */
  auditNames (): AuditNames {
    const peers = this.docs === undefined ? new Map<string, string>() : labPeerNames(this.docs.get('lab'))
    // a device by the name it joined the lab with; presence (which may name the user) only for the others
    for (const peer of this.peers()) if (!peers.has(peer.peerId) && peer.name !== peer.peerId) peers.set(peer.peerId, peer.name)
    // two tablets of one make share a name: the end of their peer ids tells them apart
    const count = new Map<string, number>()
    for (const name of peers.values()) count.set(name, (count.get(name) ?? 0) + 1)
    for (const [peerId, name] of peers) if ((count.get(name) ?? 0) > 1) peers.set(peerId, `${name} (…${peerId.slice(-4)})`)
    const lab = this.lab
    return {
      user: (username) => {
        const user = lab?.users.get(username)
        const name = user === undefined ? '' : `${user.firstName} ${user.lastName}`.trim()
        return name !== '' ? name : undefined
      },
      peer: (peerId) => peers.get(peerId),
      entity: (entity, id) => {
        if (lab === undefined) return undefined
        const found = entity === 'exam' ? lab.exams.get(id) : entity === 'workflow' ? lab.workflows.get(id) : entity === 'task' ? lab.tasks.get(id) : entity === 'sequence' ? lab.sequences.get(id) : undefined
        return found?.name
      }
    }
  }

  /**
   * The whole audit log: the hub's, which holds every document; this device's own copy when the hub
   * cannot be reached (patients never opened here are then missing from it).
   */
  async auditLog (): Promise<{ records: AuditRecord[], fromHub: boolean }> {
    try {
      return { records: await request<AuditRecord[]>('/api/v1/audit', { token: this.token, timeoutMs: 20_000 }), fromHub: true }
    } catch (err) {
      if (!(err instanceof HubUnreachableError)) throw err
      return { records: this.lab?.audit() ?? [], fromHub: false }
    }
  }

  async fetchBlob (sha256: string): Promise<ArrayBuffer> {
    return await fetchBlob(sha256, this.token)
  }

  // ---- the hospital's modality worklist (the hub asks it; admin, medical, scientist) ----

  /** date: YYYYMMDD or YYYYMMDD-YYYYMMDD; modality and station empty for any. */
  async queryWorklist (query: { date: string, modality: string, station: string, destinationId?: string }): Promise<WorklistAnswerView> {
    const params = new URLSearchParams({ date: query.date, modality: query.modality, station: query.station })
    if (query.destinationId !== undefined && query.destinationId !== '') params.set('destinationId', query.destinationId)
    return await request<WorklistAnswerView>(`/api/v1/worklist?${params.toString()}`, { token: this.token, timeoutMs: 60_000 })
  }

  /** Creates or updates the entry's patient and exam on the hub; they reach this page by sync. */
  async pickWorklistEntry (entry: WorklistEntryView): Promise<{ patientId: string, examId: string }> {
    return await request<{ patientId: string, examId: string }>('/api/v1/worklist/pick', { method: 'POST', token: this.token, body: { entry }, timeoutMs: 30_000 })
  }

  // ---- sending images to a PACS (the hub keeps the destinations in the lab document and sends from its queue) ----

  /** The lab's destinations, from the synced lab document: shown offline too, without their passwords. */
  destinations (): DestinationView[] {
    return (this.lab?.destinations.list() ?? []).map((d) => {
      if (d.kind !== 'dicomweb') return d
      const { password, ...rest } = d
      return { ...rest, hasPassword: password !== undefined && password !== '' }
    })
  }

  /** Added through the hub, which checks the fields as the lab model does and reaches this page by sync. */
  async createDestination (input: DestinationInput): Promise<DestinationView> {
    return await request<DestinationView>('/api/v1/destinations', { method: 'POST', token: this.token, body: input })
  }

  /** Fields of the destination's kind; null clears an optional one. */
  async updateDestination (id: string, patch: DestinationPatch): Promise<DestinationView> {
    return await request<DestinationView>(`/api/v1/destinations/${encodeURIComponent(id)}`, { method: 'PATCH', token: this.token, body: patch })
  }

  async removeDestination (id: string): Promise<void> {
    await request(`/api/v1/destinations/${encodeURIComponent(id)}`, { method: 'DELETE', token: this.token })
  }

  /** A C-ECHO, or a QIDO-RS query of a DICOMweb server, from the hub. */
  async testDestination (id: string): Promise<EchoResult> {
    return await request<EchoResult>(`/api/v1/destinations/${encodeURIComponent(id)}/echo`, { method: 'POST', token: this.token, timeoutMs: 60_000 })
  }

  /** Queues the DICOM images of an exam (all its tasks) or of one task on the hub; answered at once, sent after. */
  async createExport (what: { destinationId: string, examId: string } | { destinationId: string, taskId: string }): Promise<ExportView> {
    return await request<ExportView>('/api/v1/exports', { method: 'POST', token: this.token, body: what })
  }

  /** The hub's exports, newest first. */
  async listExports (): Promise<ExportView[]> {
    return await request<ExportView[]>('/api/v1/exports', { token: this.token, timeoutMs: 5000 })
  }

  async getExport (id: string): Promise<ExportView> {
    return await request<ExportView>(`/api/v1/exports/${encodeURIComponent(id)}`, { token: this.token, timeoutMs: 5000 })
  }

  /** Dial the hub now (the user pressed "retry"). */
  reconnect (): void {
    this.peer?.reconnectNow()
  }

  // ---- internals ----

  /**
   * Whenever the hub cannot be dialled, ask the page's own origin (one question at a time) what
   * happened: it may have come back on other ports, or this device may have been removed from the lab.
   */
  private checkHub (): void {
    if (this.checkingHub) return
    this.checkingHub = true
    this.refreshHub().catch(() => {}).finally(() => { this.checkingHub = false })
  }

  /** The hub's current addresses, and whether this device is still a member; throws when the hub does not answer. */
  private async refreshHub (): Promise<void> {
    const pairing = this.pairing
    if (pairing === undefined) return
    const fresh = await request<BootstrapInfo>('/api/v1/bootstrap', { timeoutMs: 5000 })
    if (fresh.labId !== pairing.labId || this.pairing !== pairing) return
    if (!(await this.stillMember())) return
    if (JSON.stringify(fresh.wsAddrs) !== JSON.stringify(this.hubAddrs)) {
      this.hubAddrs = fresh.wsAddrs
      this.pairing = { ...pairing, wsAddrs: fresh.wsAddrs }
      writeJson(KEYS.pairing, this.pairing)
      this.peer?.reconnectNow()
    }
  }

  /**
   * Asks the hub whether this device is still an active member; when it is not, forgets the lab.
   * A hub that cannot say (out of reach, an older hub) leaves everything as it is.
   */
  private async stillMember (): Promise<boolean> {
    if (this.pairing === undefined) return false
    let self: { active: boolean, problem?: string }
    try {
      self = await request<{ active: boolean, problem?: string }>(`/api/v1/members/self?peerId=${encodeURIComponent(this.peerId)}`, { timeoutMs: 5000 })
    } catch {
      return true
    }
    if (self.active !== false) return true
    await this.forgetLab(self.problem ?? 'revoked')
    return false
  }

  /**
   * This device was removed from the lab: log out, stop syncing, and forget the lab's key, its
   * documents and this browser's key (a revoked key stays revoked: pairing again makes a new one).
   */
  private async forgetLab (problem: string): Promise<void> {
    const { peer, sync, docs, awareness } = this
    this.peer = undefined
    this.sync = undefined
    this.docs = undefined
    this.awareness = undefined
    this.lab = undefined
    this.pairing = undefined
    this.hubAddrs = []
    this.confirmation = undefined
    this.token = undefined
    this.user = undefined
    remove(KEYS.session)
    remove(KEYS.pairing)
    await forgetPeerKey().catch(() => {})
    // the hub's words name times as stored (ISO); the page shows them as the user's clock does
    const said = problem.replace(/\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z/g, (iso) => new Date(iso).toLocaleString())
    this.pairingProblem = `This device was removed from the lab (${said}). Pair it again to use ScanHub.`
    this.phase = 'unpaired'
    this.changed()
    sync?.stop()
    await peer?.stop().catch(() => {})
    awareness?.destroy()
    if (docs !== undefined) {
      remove(KEYS.ledger(docs.namespace))
      await docs.erase().catch(() => {})
    }
    this.ledger = new SyncLedger()
  }

  /** The hub no longer knows the user's session: removed from the lab, or just logged out. */
  private async sessionEnded (notice: string): Promise<void> {
    if (await this.stillMember()) this.endSession(notice)
  }

  private setSession (session: StoredSession): void {
    const roleChanged = this.user !== undefined && this.user.role !== session.user.role
    this.token = session.token
    this.user = session.user
    writeJson(KEYS.session, session)
    this.publishPresence()
    if (roleChanged) this.peer?.restartSync()
    this.changed()
  }

  private endSession (notice: string): void {
    this.token = undefined
    this.user = undefined
    this.notice = notice
    remove(KEYS.session)
    this.publishPresence()
    this.changed()
  }

  private publishPresence (): void {
    if (this.awareness === undefined) return
    const name = this.user === undefined ? 'Browser' : `${this.user.firstName} ${this.user.lastName} (browser)`
    const presence: PeerPresence = { peerId: this.peerId, name, roles: ['browser'], status: 'ONLINE', unsynced: this.ledger.unsynced() }
    const current = this.awareness.getLocalState() as PeerPresence | null
    if (current !== null && JSON.stringify(current) === JSON.stringify(presence)) return
    this.awareness.setLocalState(presence)
  }

  private readonly handleSyncChange = (): void => {
    this.publishPresence()
    if (this.ledgerTimer === undefined && this.docs !== undefined) {
      const namespace = this.docs.namespace
      this.ledgerTimer = setTimeout(() => {
        this.ledgerTimer = undefined
        writeJson(KEYS.ledger(namespace), this.ledger.toJSON())
      }, 300)
    }
    this.changed()
  }

  private readonly handleRefused = (): void => {
    if (!this.canEdit) return
    // We believe we may write, the hub does not: the session may have ended, or the stream predates the login.
    request<{ user: PublicUser, expiresAt: string }>('/api/v1/auth/me', { token: this.token }).then((me) => {
      if (this.token !== undefined) this.setSession({ token: this.token, user: me.user, expiresAt: me.expiresAt })
      if (me.user.role !== 'viewer' && Date.now() - this.lastRestart > 5000) {
        this.lastRestart = Date.now()
        this.peer?.restartSync()
      }
    }, (err: Error) => {
      if (err instanceof ApiError && err.status === 401) {
        this.sessionEnded('Your session ended. Log in again; changes you made on this device are kept and sync after you log in.').catch(() => {})
      }
    })
  }

  /** Keeps the hub's session alive while someone is using the app, and only then. */
  private watchActivity (): void {
    if (this.watchingActivity) return
    this.watchingActivity = true
    const mark = (): void => { this.lastActivity = Date.now() }
    for (const type of ['pointerdown', 'keydown', 'wheel']) window.addEventListener(type, mark, { passive: true, capture: true })
    setInterval(() => {
      if (this.token === undefined || this.lastActivity <= this.lastKeepalive) return
      this.lastKeepalive = Date.now()
      request('/api/v1/auth/me', { token: this.token, timeoutMs: 5000 }).catch((err: Error) => {
        if (err instanceof ApiError && err.status === 401) this.sessionEnded('Your session ended after a while without use. Log in again.').catch(() => {})
      })
    }, KEEPALIVE_MS)
    window.addEventListener('pagehide', () => {
      if (this.docs !== undefined) writeJson(KEYS.ledger(this.docs.namespace), this.ledger.toJSON())
    })
  }

  private changed (): void {
    this.dispatchEvent(new Event('sh-session-change'))
  }
}
