// This peer's view of the lab's members (protocol/lab/members.ts): who may connect at all (the libp2p
// connection gater asks), with what kind and ceiling (the sync checks ask), and the admin's acts —
// adding a member, issuing a one-time invite, revoking — signed with this peer's key. When the members
// change, every connection to a peer that is no longer an active member is closed at once: a revoked
// peer is cut off by every peer as soon as the revocation reaches it.
import { generateKeyPair, privateKeyToProtobuf } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey, peerIdFromString } from '@libp2p/peer-id'
import { readFileSync } from 'node:fs'
import {
  MEMBERS_MAP, REVOCATIONS_MAP, founderRecord, putMember, putRevocation, readMembers, signRecord, signedEntries
} from '../../protocol/lab/members.ts'
import { writeFileAtomic } from './data-dir.ts'
import { ROLES } from '../../protocol/lab/schema.ts'
import type { MemberKind, MemberRecord, MemberState, Revocation, SignedEntries } from '../../protocol/lab/members.ts'
import type { Role } from '../../protocol/lab/schema.ts'
import type { ConnectionGater, Libp2p, PeerId, PrivateKey } from '@libp2p/interface'
import type * as Y from 'yjs'

/** A peer kind that a member may be added as (an invite's key is made by createInvite). */
export type AddableKind = Exclude<MemberKind, 'invite'>

/** this peer's copy of the lab's signed member entries, in its data directory */
export const MEMBERS_CACHE_FILE = 'members.json'

/** how long the connection of a just-redeemed invite stays open for the answer to arrive */
const REDEEMED_GRACE_MS = 5_000

export class MembershipError extends Error {
  override name = 'MembershipError'
}

export interface MembershipInit {
  labId: string
  /** the lab's root of trust (lab.json) */
  founder: string
  /** this peer's identity key: it signs what this peer adds or revokes */
  privateKey: PrivateKey
  /** the lab document */
  lab: Y.Doc
  /**
   * A file of this peer's own copy of the signed entries (DIR/members.json). The lab document can lose
   * records to a damaged log until a peer sends them again, and Yjs then also holds back every later
   * record of the same writer — members included, so that the peer would refuse the very peers that
   * could repair it. The copy keeps every entry ever seen; the signatures make it as good as the document.
   */
  cacheFile?: string
  log?: (message: string) => void
  now?: () => number
}

export interface NewInvite {
  /** the invite's one-time key, as libp2p's protobuf encoding */
  privateKey: Uint8Array
  peerId: string
  kind: AddableKind
  ceiling: Role
  expiresAt: string
}

/** Default ceilings: hubs act for users (admin), devices write only their own data, browsers for their user. */
export const DEFAULT_CEILING: Record<AddableKind, Role> = { hub: 'admin', scanner: 'engineer', recon: 'engineer', browser: 'medical' }

export class Membership {
  readonly peerId: string
  private readonly init: MembershipInit
  private readonly log: (message: string) => void
  private readonly now: () => number
  private states: Map<string, MemberState> | undefined
  private readonly listeners = new Set<() => void>()
  private libp2p: Pick<Libp2p, 'getConnections' | 'hangUp'> | undefined
  private expiryTimer: ReturnType<typeof setTimeout> | undefined
  private readonly local = new Set<string>()
  private cached: SignedEntries
  private saving: Promise<void> = Promise.resolve()

  constructor (init: MembershipInit) {
    this.init = init
    this.peerId = peerIdFromPrivateKey(init.privateKey).toString()
    this.log = init.log ?? (() => {})
    this.now = init.now ?? Date.now
    this.cached = init.cacheFile !== undefined ? loadCache(init.cacheFile, this.log) : { members: {}, revocations: {} }
    const members = init.lab.getMap(MEMBERS_MAP)
    const revocations = init.lab.getMap(REVOCATIONS_MAP)
    members.observe(this.handleChange)
    revocations.observe(this.handleChange)
  }

  /** The founder signs its own record once, on the lab's first start. */
  async ensureFounderRecord (name: string): Promise<void> {
    if (this.peerId !== this.init.founder) return
    if (this.list().some((m) => m.record.peerId === this.peerId && m.valid)) return
    const signed = await signRecord(founderRecord(this.init.labId, this.peerId, name), (b) => this.init.privateKey.sign(b))
    putMember(this.init.lab, this.peerId, signed)
  }

  /** Closes connections of peers that stop being members (after `attach`). */
  attach (libp2p: Pick<Libp2p, 'getConnections' | 'hangUp'>): void {
    this.libp2p = libp2p
    this.enforce()
  }

  detach (): void {
    this.libp2p = undefined
    if (this.expiryTimer !== undefined) clearTimeout(this.expiryTimer)
    this.init.lab.getMap(MEMBERS_MAP).unobserve(this.handleChange)
    this.init.lab.getMap(REVOCATIONS_MAP).unobserve(this.handleChange)
  }

  onChange (listener: () => void): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  list (): MemberState[] {
    return [...this.current().values()].sort((a, b) => a.record.addedAt.localeCompare(b.record.addedAt))
  }

  get (peerId: string): MemberState | undefined {
    return this.current().get(peerId)
  }

  /**
   * Lets in a host of this very process that is no member (the recon role's loopback host, which
   * reaches the scanner role of the same process): it exists only while this process runs.
   */
  admitLocal (peerId: string): void {
    this.local.add(peerId)
  }

  /** Whether this peer talks to `peerId` at all: an active member (an unexpired, unused invite included). */
  admits (peerId: string): boolean {
    if (peerId === this.peerId || this.local.has(peerId)) return true
    return this.current().get(peerId)?.active === true
  }

  /** Whether this peer may sign members and revocations: an active admin hub (or the founder). */
  mayAdminister (): boolean {
    const self = this.get(this.peerId)
    return self?.active === true && self.record.kind === 'hub' && self.record.ceiling === 'admin'
  }

  /** The libp2p connection gater: refuse, right after the encrypted handshake, any peer that is not a member. */
  gater (): ConnectionGater {
    const deny = (remote: PeerId): boolean => {
      const ok = this.admits(remote.toString())
      if (!ok) this.log(`members: refused a connection from ${remote.toString()}: not a member of this lab`)
      return !ok
    }
    return {
      denyInboundEncryptedConnection: deny,
      denyOutboundEncryptedConnection: deny,
      denyInboundUpgradedConnection: deny,
      denyOutboundUpgradedConnection: deny
    }
  }

  /** Adds a peer as a member, signed by this peer. */
  async add (input: { peerId: string, name: string, kind: AddableKind, ceiling?: Role, addedBy: string }): Promise<MemberState> {
    this.requireAdministrator()
    checkPeerId(input.peerId)
    if (this.get(input.peerId)?.revocation !== undefined) {
      throw new MembershipError(`${input.peerId} was revoked: a revoked key cannot become a member again (the device must make a new key and pair again)`)
    }
    const ceiling = input.ceiling ?? DEFAULT_CEILING[input.kind]
    checkRole(ceiling)
    const record: MemberRecord = {
      labId: this.init.labId,
      peerId: input.peerId,
      name: cleanName(input.name),
      kind: input.kind,
      ceiling,
      addedBy: input.addedBy,
      addedAt: new Date(this.now()).toISOString(),
      signer: this.peerId
    }
    putMember(this.init.lab, input.peerId, await signRecord(record, (b) => this.init.privateKey.sign(b)))
    this.log(`members: ${record.kind} ${record.name} (${record.peerId}) added by ${record.addedBy}, ceiling ${ceiling}`)
    return this.get(input.peerId) as MemberState
  }

  /** A one-time invite: a fresh key, a member only until it is redeemed or `ttlMs` passes. */
  async createInvite (input: { kind: AddableKind, ceiling?: Role, addedBy: string, ttlMs: number }): Promise<NewInvite> {
    this.requireAdministrator()
    const ceiling = input.ceiling ?? DEFAULT_CEILING[input.kind]
    checkRole(ceiling)
    const key = await generateKeyPair('Ed25519')
    const peerId = peerIdFromPrivateKey(key).toString()
    const expiresAt = new Date(this.now() + input.ttlMs).toISOString()
    const record: MemberRecord = {
      labId: this.init.labId,
      peerId,
      name: `invite for a ${input.kind}`,
      kind: 'invite',
      ceiling: 'viewer',
      addedBy: input.addedBy,
      addedAt: new Date(this.now()).toISOString(),
      signer: this.peerId,
      invite: { kind: input.kind, ceiling, expiresAt }
    }
    putMember(this.init.lab, peerId, await signRecord(record, (b) => this.init.privateKey.sign(b)))
    this.scheduleExpiry()
    return { privateKey: privateKeyToProtobuf(key), peerId, kind: input.kind, ceiling, expiresAt }
  }

  /**
   * Redeems an invite: the peer holding the invite's key names the key it will use from now on; that
   * key becomes a member of the invite's kind and ceiling, and the invite's key is used up.
   */
  async redeem (invitePeerId: string, joiner: { peerId: string, name: string }): Promise<MemberState> {
    const invite = this.get(invitePeerId)
    if (invite === undefined || invite.record.kind !== 'invite' || invite.record.invite === undefined) throw new MembershipError('this is not an invite of the lab')
    if (!invite.active) throw new MembershipError(`the invite cannot be used: ${invite.problem ?? 'not active'}; ask an admin for a new one (\`scanhub lab invite\`)`)
    const member = await this.add({ peerId: joiner.peerId, name: joiner.name, kind: invite.record.invite.kind, ceiling: invite.record.invite.ceiling, addedBy: invite.record.addedBy })
    await this.putRevocation(invitePeerId, 'redeemed', invite.record.addedBy)
    return member
  }

  /** Revokes a member: every peer refuses it from the moment it hears of this. */
  async revoke (peerId: string, by: string): Promise<MemberState> {
    this.requireAdministrator()
    const member = this.get(peerId)
    if (member === undefined) throw new MembershipError(`${peerId} is not a member of this lab`)
    if (peerId === this.init.founder) throw new MembershipError('the founding hub is the lab\'s root of trust and cannot be revoked')
    if (peerId === this.peerId) throw new MembershipError('a hub cannot revoke itself: revoke it from another admin hub')
    if (member.revocation !== undefined) return member
    await this.putRevocation(peerId, 'revoked', by)
    this.log(`members: ${member.record.name} (${peerId}) revoked by ${by}`)
    return this.get(peerId) as MemberState
  }

  private async putRevocation (peerId: string, reason: Revocation['reason'], by: string): Promise<void> {
    const revocation: Revocation = { labId: this.init.labId, peerId, reason, revokedBy: by, revokedAt: new Date(this.now()).toISOString(), signer: this.peerId }
    putRevocation(this.init.lab, peerId, await signRecord(revocation, (b) => this.init.privateKey.sign(b)))
  }

  private requireAdministrator (): void {
    if (!this.mayAdminister()) throw new MembershipError('only an admin hub of the lab may add or revoke members: run this on the lab\'s hub')
  }

  private current (): Map<string, MemberState> {
    this.states ??= readMembers(this.init.lab, this.init.labId, this.init.founder, this.now(), this.cached)
    return this.states
  }

  private readonly handleChange = (): void => {
    this.states = undefined
    this.saveCache()
    this.enforce()
    this.scheduleExpiry()
    for (const listener of this.listeners) listener()
  }

  /** Adds what the document holds to the copy on disk (entries are only ever added: revocations stick). */
  private saveCache (): void {
    const file = this.init.cacheFile
    if (file === undefined) return
    const fromDoc = signedEntries(this.init.lab)
    const next: SignedEntries = {
      members: { ...this.cached.members, ...fromDoc.members },
      revocations: { ...this.cached.revocations, ...fromDoc.revocations }
    }
    if (JSON.stringify(next) === JSON.stringify(this.cached)) return
    this.cached = next
    const text = JSON.stringify(next) + '\n'
    this.saving = this.saving.then(async () => { await writeFileAtomic(file, text) }).catch((err: Error) => {
      this.log(`members: could not save ${file}: ${err.message}`)
    })
  }

  /** Resolves once the copy on disk is up to date. */
  async flush (): Promise<void> {
    this.saveCache()
    await this.saving
  }

  /** Hangs up every connection of a peer that is not an active member now. */
  private enforce (): void {
    const libp2p = this.libp2p
    if (libp2p === undefined) return
    for (const connection of libp2p.getConnections()) {
      const remote = connection.remotePeer
      if (this.admits(remote.toString())) continue
      // An invite's key is used up by the very answer that is still on its way to the joining peer:
      // give that a moment before the hang-up.
      const redeemed = this.get(remote.toString())?.revocation?.reason === 'redeemed'
      const hangUp = (): void => { libp2p.hangUp(remote).catch(() => {}) }
      if (redeemed) {
        setTimeout(hangUp, REDEEMED_GRACE_MS).unref?.()
        continue
      }
      this.log(`members: ${remote.toString()} is no longer a member: closing its connections`)
      hangUp()
    }
  }

  /** Invites stop admitting when they expire: re-read the members then, so that the gater sees it. */
  private scheduleExpiry (): void {
    if (this.expiryTimer !== undefined) clearTimeout(this.expiryTimer)
    const next = this.list()
      .filter((m) => m.active && m.record.invite !== undefined)
      .map((m) => Date.parse(m.record.invite?.expiresAt ?? '') - this.now())
      .filter((ms) => ms > 0)
    if (next.length === 0) return
    this.expiryTimer = setTimeout(() => { this.handleChange() }, Math.min(...next) + 50)
    this.expiryTimer.unref?.()
  }
}

function loadCache (file: string, log: (message: string) => void): SignedEntries {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch {
    return { members: {}, revocations: {} }
  }
  try {
    const v = JSON.parse(text) as Partial<SignedEntries>
    return { members: v.members ?? {}, revocations: v.revocations ?? {} }
  } catch {
    log(`members: ${file} is damaged: using the lab document's members only`)
    return { members: {}, revocations: {} }
  }
}

function checkPeerId (peerId: string): void {
  try {
    if (peerIdFromString(peerId).type !== 'Ed25519') throw new Error('not Ed25519')
  } catch {
    throw new MembershipError('peerId must be the libp2p peer id (Ed25519) of the device')
  }
}

function checkRole (role: string): void {
  if (!(ROLES as readonly string[]).includes(role)) throw new MembershipError(`ceiling must be one of ${ROLES.join(', ')}`)
}

function cleanName (name: string): string {
  const trimmed = name.trim().slice(0, 100)
  return trimmed === '' ? 'unnamed' : trimmed
}
