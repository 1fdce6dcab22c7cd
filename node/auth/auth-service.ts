// The lab's users on this hub: the first user, logins, sessions, password changes and the admin's
// user management. Users (with their scrypt hashes) live in the lab document, so every hub can log
// anyone in; sessions live in this hub's memory.
//
// A session binds a browser's libp2p peer id to its user. The sync service asks `isReadOnly` when a
// browser opens its sync stream: without a session, or as a viewer, the browser's changes are
// refused by this peer, whatever its UI shows. When a session ends, the browser is hung up, so that
// the stream it reopens is judged again.
import { peerIdFromString } from '@libp2p/peer-id'
import { LabNotFoundError, LabValidationError, ROLES } from '../../protocol/lab/index.ts'
import type { Actor, Lab, PublicUser, Role, User } from '../../protocol/lab/index.ts'
import { checkPasswordPolicy, hashPassword, verifyPassword } from './password.ts'
import { auditRewrite, refusalFor, refusalForDevicePeer, UpdatePreview } from './write-policy.ts'
import type { MemberState } from '../../protocol/lab/members.ts'
import { SessionStore, type Session, type SessionEndReason } from './sessions.ts'
import type { Connection, Libp2p } from '@libp2p/interface'
import type * as Y from 'yjs'

/** Wrong credentials, or no valid session: answer 401. */
export class AuthError extends Error {
  override name = 'AuthError'
}

/** Logged in, but not allowed (not an admin; not from this machine): answer 403. */
export class AuthForbiddenError extends Error {
  override name = 'AuthForbiddenError'
}

/** The change contradicts the lab's users (users exist already, last admin, name taken): answer 409. */
export class AuthConflictError extends Error {
  override name = 'AuthConflictError'
}

/** Too many failed logins for this user just now: answer 429. */
export class AuthThrottledError extends Error {
  override name = 'AuthThrottledError'
  readonly retryAfterSeconds: number
  constructor (retryAfterSeconds: number) {
    super(`too many failed logins: try again in ${retryAfterSeconds} s`)
    this.retryAfterSeconds = retryAfterSeconds
  }
}

export interface NewUser {
  username: string
  firstName: string
  lastName: string
  email?: string
  role: Role
  password: string
}

export interface UserChanges {
  firstName?: string
  lastName?: string
  email?: string
  role?: Role
  password?: string
}

export interface LoginResult {
  token: string
  user: PublicUser
  /** ISO time the session ends if unused */
  expiresAt: string
}

export interface AuthServiceComponents {
  lab: Lab
  /** resolves once the lab's documents are on disk */
  flush: () => Promise<void>
  libp2p: Pick<Libp2p, 'peerId' | 'getConnections' | 'hangUp'>
  /**
   * The lab's members as this peer judges them (node/lab/membership.ts): each remote peer's kind and
   * ceiling decide what it may change. Without it (unit tests of sessions), a peer on the WebSocket
   * listener is judged as a browser and any other as a lab peer.
   */
  members?: { get: (peerId: string) => MemberState | undefined }
}

export interface AuthServiceInit {
  /** sessions end after this long unused (default 30 min) */
  idleMs?: number
  /** how often ended sessions are looked for (default 15 s) */
  sweepIntervalMs?: number
  now?: () => number
  log?: (message: string) => void
}

/** Failed logins of one user before each further one waits. */
const FREE_FAILURES = 5
const MAX_LOCK_MS = 60_000

export class AuthService {
  private readonly components: AuthServiceComponents
  private readonly sessions: SessionStore
  private readonly now: () => number
  private readonly log: (message: string) => void
  private readonly sweepIntervalMs: number
  private readonly failures = new Map<string, { count: number, until: number }>()
  private sweeper: ReturnType<typeof setInterval> | undefined
  private offChange: (() => void) | undefined

  constructor (components: AuthServiceComponents, init: AuthServiceInit = {}) {
    this.components = components
    this.now = init.now ?? Date.now
    this.log = init.log ?? (() => {})
    this.sweepIntervalMs = init.sweepIntervalMs ?? 15_000
    this.sessions = new SessionStore({ idleMs: init.idleMs, now: this.now, onEnd: (s, reason) => { this.handleEnd(s, reason) } })
  }

  start (): void {
    if (this.sweeper !== undefined) return
    this.sweeper = setInterval(() => { this.sessions.sweep() }, this.sweepIntervalMs)
    this.sweeper.unref?.()
    // A user removed or given another role on any peer of the lab loses the sessions opened before.
    this.offChange = this.components.lab.onChange((docId) => { if (docId === 'lab') this.revalidate() })
  }

  stop (): void {
    if (this.sweeper !== undefined) clearInterval(this.sweeper)
    this.sweeper = undefined
    this.offChange?.()
    this.offChange = undefined
    this.sessions.clear()
  }

  hasUsers (): boolean {
    return this.components.lab.users.list().length > 0
  }

  /** The lab's first user, an admin; refused once the lab has any user. */
  async createFirstUser (input: Omit<NewUser, 'role'>): Promise<PublicUser> {
    if (this.hasUsers()) throw new AuthConflictError('the lab has users already: ask an admin for an account')
    const hash = await hashPassword(input.password)
    // Checked again after hashing: another request may have won the race meanwhile.
    if (this.hasUsers()) throw new AuthConflictError('the lab has users already: ask an admin for an account')
    const user = this.components.lab.users.create({ ...userFields({ ...input, role: 'admin' }), passwordHash: hash }, this.actor(input.username))
    await this.components.flush()
    this.log(`auth: first user created (admin ${user.username})`)
    return this.present(user)
  }

  /**
   * Checks the password and opens a session. `browserPeerId` is the libp2p peer id of the browser
   * that logs in: its sync stream may then write (unless the user is a viewer).
   */
  async login (username: unknown, password: unknown, browserPeerId?: unknown): Promise<LoginResult> {
    if (typeof username !== 'string' || typeof password !== 'string') throw new AuthError('give a username and a password')
    if (browserPeerId !== undefined && !isPeerId(browserPeerId)) throw new LabValidationError('browserPeerId must be a libp2p peer id')
    const name = username.trim().toLowerCase()
    this.checkThrottle(name)
    const user = this.components.lab.users.get(name)
    const ok = await verifyPassword(password, user?.passwordHash)
    if (!ok || user === undefined) {
      this.recordFailure(name)
      throw new AuthError('wrong username or password')
    }
    this.failures.delete(name)
    const session = this.sessions.create(user.username, user.role, browserPeerId as string | undefined)
    const updated = this.components.lab.users.update(user.username, { lastLoginAt: new Date(this.now()).toISOString() }, this.actor(user.username))
    await this.components.flush()
    this.log(`auth: ${user.username} logged in${session.peerId !== undefined ? ` from browser ${session.peerId}` : ''}`)
    return { token: session.token, user: this.present(updated), expiresAt: this.expiry(session) }
  }

  logout (token: string): void {
    this.sessions.end(token, 'logout')
  }

  /** The session of a bearer token and its user; throws AuthError when there is none. */
  authenticate (token: string | undefined): { session: Session, user: User, expiresAt: string } {
    const session = token === undefined ? undefined : this.sessions.use(token)
    if (session === undefined) throw new AuthError('not logged in, or the session ended: log in again')
    const user = this.components.lab.users.get(session.username)
    if (user === undefined) {
      this.sessions.end(session.token, 'user-changed')
      throw new AuthError('this user no longer exists')
    }
    return { session, user, expiresAt: this.expiry(session) }
  }

  /** As authenticate, and the user must be an admin. */
  authenticateAdmin (token: string | undefined): { session: Session, user: User } {
    const found = this.authenticate(token)
    if (found.user.role !== 'admin') throw new AuthForbiddenError('only an admin may manage users')
    return found
  }

  me (token: string | undefined): { user: PublicUser, expiresAt: string } {
    const { user, expiresAt } = this.authenticate(token)
    return { user: this.present(user), expiresAt }
  }

  async changeOwnPassword (token: string | undefined, currentPassword: unknown, newPassword: unknown): Promise<void> {
    const { user } = this.authenticate(token)
    if (typeof currentPassword !== 'string' || !(await verifyPassword(currentPassword, user.passwordHash))) {
      throw new AuthError('the current password is wrong')
    }
    checkPasswordPolicy(newPassword)
    this.components.lab.users.update(user.username, { passwordHash: await hashPassword(newPassword) }, this.actor(user.username))
    await this.components.flush()
  }

  /**
   * Whether a remote peer's changes are refused outright: a peer that is no active member, an invite's
   * key, a member whose ceiling is viewer, and a browser while no user who may write is logged in
   * from it. Asked when a sync session opens; checkUpdate judges each change.
   */
  isReadOnly (peerId: string): boolean {
    const member = this.components.members?.get(peerId)
    if (this.components.members !== undefined) {
      if (member === undefined || !member.active || member.record.kind === 'invite' || member.record.ceiling === 'viewer') return true
      if (member.record.kind !== 'browser') return false
    } else if (!this.isBrowserPeer(peerId)) {
      return false
    }
    const session = this.sessions.useByPeer(peerId)
    if (session === undefined) return true
    const user = this.components.lab.users.get(session.username)
    return user === undefined || user.role === 'viewer'
  }

  /**
   * Why an update a remote peer sent may not be applied, or undefined if it may. Nobody may rewrite
   * the audit log. A hub may do what its ceiling allows; a scanner or recon peer only what it writes
   * itself (write-policy.ts refusalForDevicePeer); a browser what both its ceiling and its logged-in
   * user's role allow. Asked by the sync service before it applies, or relays, each update.
   */
  checkUpdate (peerId: string, docId: string, doc: Y.Doc, update: Uint8Array): string | undefined {
    // one copy of the document with the update applied serves every check
    const preview = new UpdatePreview(doc, update)
    try {
      const rewrite = auditRewrite(preview)
      if (rewrite !== undefined) return rewrite
      const members = this.components.members
      const member = members?.get(peerId)
      if (members !== undefined) {
        if (member === undefined || !member.active) return 'the sending peer is not an active member of the lab'
        const { kind, ceiling } = member.record
        if (kind === 'invite') return 'an invite\'s key may only join the lab'
        if (kind === 'scanner' || kind === 'recon') return refusalForDevicePeer(kind, peerId, docId, preview)
        if (kind === 'hub') return ceiling === 'admin' ? undefined : refusalFor(ceiling, docId, preview, peerId)
      } else if (!this.isBrowserPeer(peerId)) {
        return undefined
      }
      const session = this.sessions.useByPeer(peerId)
      const user = session === undefined ? undefined : this.components.lab.users.get(session.username)
      if (user === undefined) return 'log in to make changes'
      const byUser = refusalFor(user.role, docId, preview)
      if (byUser !== undefined || member === undefined) return byUser
      const byDevice = refusalFor(member.record.ceiling, docId, preview)
      return byDevice === undefined ? undefined : `this device's ceiling is ${member.record.ceiling}: ${byDevice}`
    } finally {
      preview.dispose()
    }
  }

  /** Ends the sessions bound to a browser (it was revoked): its user must log in again, on a paired device. */
  endPeerSessions (peerId: string): void {
    for (const session of this.sessions.list()) {
      if (session.peerId === peerId) this.sessions.end(session.token, 'user-changed')
    }
  }

  /** Whether a request to the existing read routes (blobs, lists) carries a live session. */
  authorisesRead (method: string, authorization: string | undefined): boolean {
    if (method !== 'GET' && method !== 'HEAD') return false
    const token = bearerToken(authorization)
    return token !== undefined && this.sessions.use(token) !== undefined
  }

  /**
   * Whether a request carries a live session of a user who may add to the sequence library (admin,
   * scientist, engineer: as write-policy.ts lets them change sequences): uploads go through the hub,
   * which parses the file and keeps it as a blob.
   */
  authorisesSequenceUpload (authorization: string | undefined): boolean {
    const token = bearerToken(authorization)
    const session = token === undefined ? undefined : this.sessions.use(token)
    if (session === undefined) return false
    const user = this.components.lab.users.get(session.username)
    return user !== undefined && (user.role === 'admin' || user.role === 'scientist' || user.role === 'engineer')
  }

  listUsers (): PublicUser[] {
    return this.components.lab.users.list().map((u) => this.present(u))
  }

  async createUser (input: NewUser, by: string): Promise<PublicUser> {
    checkPasswordPolicy(input.password)
    const fields = userFields(input)
    if (this.components.lab.users.get(fields.username) !== undefined) throw new AuthConflictError(`user ${fields.username} exists already`)
    const hash = await hashPassword(input.password)
    const user = this.components.lab.users.create({ ...fields, passwordHash: hash }, this.actor(by))
    await this.components.flush()
    return this.present(user)
  }

  async updateUser (username: string, changes: UserChanges, by: string): Promise<PublicUser> {
    const current = this.components.lab.users.get(username)
    if (current === undefined) throw new LabNotFoundError('user', username)
    if (changes.role !== undefined && !(ROLES as readonly string[]).includes(changes.role)) {
      throw new LabValidationError(`role must be one of ${ROLES.join(', ')}`)
    }
    if (current.role === 'admin' && changes.role !== undefined && changes.role !== 'admin' && this.adminCount() <= 1) {
      throw new AuthConflictError('the last admin cannot be demoted: make another user admin first')
    }
    const patch: Record<string, unknown> = {}
    for (const key of ['firstName', 'lastName', 'email', 'role'] as const) {
      if (changes[key] !== undefined) patch[key] = changes[key]
    }
    if (changes.password !== undefined) {
      checkPasswordPolicy(changes.password)
      patch.passwordHash = await hashPassword(changes.password)
    }
    const user = this.components.lab.users.update(username, patch, this.actor(by))
    await this.components.flush()
    if (patch.role !== undefined && patch.role !== current.role) this.sessions.endUser(username, 'user-changed')
    else if (patch.passwordHash !== undefined && username !== by) this.sessions.endUser(username, 'user-changed')
    return this.present(user)
  }

  async removeUser (username: string, by: string): Promise<void> {
    const current = this.components.lab.users.get(username)
    if (current === undefined) throw new LabNotFoundError('user', username)
    if (current.role === 'admin' && this.adminCount() <= 1) throw new AuthConflictError('the last admin cannot be removed')
    this.components.lab.users.remove(username, this.actor(by))
    await this.components.flush()
    this.sessions.endUser(username, 'user-changed')
  }

  present (user: User): PublicUser {
    const { passwordHash: _hash, ...rest } = user
    const activity = this.sessions.lastActivity(user.username)
    return activity === undefined ? rest : { ...rest, lastActivityAt: new Date(activity).toISOString() }
  }

  private adminCount (): number {
    return this.components.lab.users.list().filter((u) => u.role === 'admin').length
  }

  private actor (username: string): Actor {
    return { name: username, peerId: this.components.libp2p.peerId.toString() }
  }

  private expiry (session: Session): string {
    return new Date(this.sessions.expiresAt(session)).toISOString()
  }

  private isBrowserPeer (peerId: string): boolean {
    let connections: Connection[]
    try {
      connections = this.components.libp2p.getConnections(peerIdFromString(peerId))
    } catch {
      return true
    }
    // No connection left to look at: judge it as a browser, the side that cannot write unasked.
    return connections.length === 0 || connections.some(viaWebSocket)
  }

  private revalidate (): void {
    for (const session of this.sessions.list()) {
      const user = this.components.lab.users.get(session.username)
      if (user === undefined || user.role !== session.role) this.sessions.end(session.token, 'user-changed')
    }
  }

  private handleEnd (session: Session, reason: SessionEndReason): void {
    this.log(`auth: session of ${session.username} ended (${reason})`)
    const peerId = session.peerId
    if (peerId === undefined || reason === 'replaced') return
    // Its sync stream was opened with write access: hang up, so that the one it reopens is read-only.
    this.components.libp2p.hangUp(peerIdFromString(peerId)).catch((err: Error) => {
      this.log(`auth: could not hang up ${peerId}: ${err.message}`)
    })
  }

  private checkThrottle (username: string): void {
    const entry = this.failures.get(username)
    if (entry === undefined) return
    const wait = entry.until - this.now()
    if (wait > 0) throw new AuthThrottledError(Math.ceil(wait / 1000))
  }

  private recordFailure (username: string): void {
    const entry = this.failures.get(username) ?? { count: 0, until: 0 }
    entry.count++
    if (entry.count > FREE_FAILURES) entry.until = this.now() + Math.min(MAX_LOCK_MS, 1000 * 2 ** (entry.count - FREE_FAILURES - 1))
    this.failures.set(username, entry)
    // Bounded: the map only grows with distinct names tried, and resets as they succeed.
    if (this.failures.size > 10_000) this.failures.clear()
  }
}

/** The token of an `Authorization: Bearer <token>` header. */
export function bearerToken (authorization: string | undefined): string | undefined {
  const match = /^Bearer\s+([A-Za-z0-9_-]{20,200})\s*$/.exec(authorization ?? '')
  return match?.[1]
}

function viaWebSocket (connection: Connection): boolean {
  return connection.remoteAddr.getComponents().some((c) => c.name === 'ws' || c.name === 'wss')
}

function isPeerId (value: unknown): value is string {
  if (typeof value !== 'string' || value.length > 200) return false
  try {
    peerIdFromString(value)
    return true
  } catch {
    return false
  }
}

function userFields (input: NewUser): { username: string, firstName: string, lastName: string, email: string, role: Role } {
  if (typeof input.username !== 'string') throw new LabValidationError('username is required')
  return {
    username: input.username.trim().toLowerCase(),
    firstName: input.firstName,
    lastName: input.lastName,
    email: input.email ?? '',
    role: input.role
  }
}
