// Login sessions of one hub, in memory only: a hub that restarts asks its users to log in again,
// which is what an unattended console should do. A session ends after a stretch of inactivity
// (sliding expiry), at logout, or when its user is removed or changes role.
import { randomBytes } from 'node:crypto'

/** A session ends after this long without use. */
export const DEFAULT_IDLE_MS = 30 * 60 * 1000

export type SessionEndReason = 'logout' | 'expired' | 'replaced' | 'user-changed'

export interface Session {
  /** the bearer token; random, 256 bits */
  readonly token: string
  readonly username: string
  /** the user's role when the session opened; a change of role ends the session */
  readonly role: string
  /** the browser's libp2p peer id, whose sync stream this session lets write; absent for scripts */
  readonly peerId: string | undefined
  readonly createdAt: number
  lastUsedAt: number
}

export interface SessionStoreInit {
  idleMs?: number
  now?: () => number
  /** told of every session that ends, e.g. to hang up the browser peer it let write */
  onEnd?: (session: Session, reason: SessionEndReason) => void
}

export class SessionStore {
  private readonly idleMs: number
  private readonly now: () => number
  private readonly onEnd: (session: Session, reason: SessionEndReason) => void
  private readonly sessions = new Map<string, Session>()

  constructor (init: SessionStoreInit = {}) {
    this.idleMs = init.idleMs ?? DEFAULT_IDLE_MS
    this.now = init.now ?? Date.now
    this.onEnd = init.onEnd ?? (() => {})
  }

  /**
   * Opens a session. A browser peer belongs to one user at a time: sessions that bound the same
   * peer end, so that a second login on a shared tablet does not inherit the first user's rights.
   */
  create (username: string, role: string, peerId: string | undefined): Session {
    if (peerId !== undefined) {
      for (const other of [...this.sessions.values()]) {
        if (other.peerId === peerId) this.end(other.token, 'replaced')
      }
    }
    const now = this.now()
    const session: Session = { token: randomBytes(32).toString('base64url'), username, role, peerId, createdAt: now, lastUsedAt: now }
    this.sessions.set(session.token, session)
    return session
  }

  /** The live session of a token, its expiry pushed back; undefined if unknown or expired. */
  use (token: string): Session | undefined {
    const session = this.live(this.sessions.get(token))
    if (session !== undefined) session.lastUsedAt = this.now()
    return session
  }

  /** The live session that bound this browser peer, its expiry pushed back. */
  useByPeer (peerId: string): Session | undefined {
    for (const session of [...this.sessions.values()]) {
      if (session.peerId === peerId && this.live(session) !== undefined) {
        session.lastUsedAt = this.now()
        return session
      }
    }
    return undefined
  }

  /** When a session expires if nobody uses it (ms since the epoch). */
  expiresAt (session: Session): number {
    return session.lastUsedAt + this.idleMs
  }

  /** The last use of any live session of a user, for the users list. */
  lastActivity (username: string): number | undefined {
    let last: number | undefined
    for (const session of this.sessions.values()) {
      if (session.username === username && this.live(session) !== undefined) last = Math.max(last ?? 0, session.lastUsedAt)
    }
    return last
  }

  end (token: string, reason: SessionEndReason): void {
    const session = this.sessions.get(token)
    if (session === undefined) return
    this.sessions.delete(token)
    this.onEnd(session, reason)
  }

  endUser (username: string, reason: SessionEndReason): void {
    for (const session of [...this.sessions.values()]) {
      if (session.username === username) this.end(session.token, reason)
    }
  }

  /** Ends every session idle for too long; run periodically so that their peers lose write access. */
  sweep (): void {
    for (const session of [...this.sessions.values()]) this.live(session)
  }

  /** Every live session. */
  list (): Session[] {
    return [...this.sessions.values()].filter((s) => this.live(s) !== undefined)
  }

  clear (): void {
    this.sessions.clear()
  }

  private live (session: Session | undefined): Session | undefined {
    if (session === undefined) return undefined
    if (this.now() - session.lastUsedAt >= this.idleMs) {
      this.end(session.token, 'expired')
      return undefined
    }
    return session
  }
}
