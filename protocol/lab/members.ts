// The lab's members: which peers (hubs, scanners, recon laptops, paired browsers) belong to the lab, with
// what kind and role ceiling, who added them, and which were revoked. The lab key only lets a peer
// complete the encrypted handshake; membership decides whether any peer talks to it afterwards.
//
// Every record is signed, and every peer checks the signatures itself: a record counts only when it is
// signed by the lab's founder (the root of trust every peer learns from lab.json or its invite) or by a
// hub that is itself a valid, unrevoked admin member. Records live in the lab document (so they sync
// and merge as everything else), one signed JSON text per key:
//   members:     peerId → a signed MemberRecord (written when a peer is added)
//   revocations: peerId → a signed Revocation (written once; a revoked peer stays revoked)
// Anyone can write these maps (they are a CRDT): what a forged or unsigned entry gets is ignored by
// every peer, and the sync checks refuse it anyway (node/auth/write-policy.ts).
//
// Signatures are Ed25519, by the libp2p identity key of the signing peer, whose public key is inside its
// peer id. Verification is synchronous (@noble/curves), so that a connection gater and an update check
// can ask without awaiting; results are cached by the signed text.
import { ed25519 } from '@noble/curves/ed25519.js'
import { peerIdFromString } from '@libp2p/peer-id'
import * as Y from 'yjs'
import { base64Decode, base64Encode } from '../base64.ts'
import { ROLES } from './schema.ts'
import type { Role } from './schema.ts'

export const MEMBERS_MAP = 'members'
export const REVOCATIONS_MAP = 'revocations'

/** What a member is. `invite` is the one-time key of an invite: it may only redeem it (join). */
export const MEMBER_KINDS = ['hub', 'scanner', 'recon', 'browser', 'invite'] as const
export type MemberKind = typeof MEMBER_KINDS[number]

export interface MemberRecord {
  labId: string
  peerId: string
  name: string
  kind: MemberKind
  /** the most a change from this peer may do, judged as a user of this role would be */
  ceiling: Role
  /** the user (or `operator` for the hub's own command line) who added it */
  addedBy: string
  addedAt: string
  /** the peer whose key signed this record */
  signer: string
  /** for kind `invite`: what the redeeming peer becomes, and until when the invite may be redeemed */
  invite?: { kind: Exclude<MemberKind, 'invite'>, ceiling: Role, expiresAt: string }
}

export interface Revocation {
  labId: string
  peerId: string
  /** `revoked` by an admin, or `redeemed`: an invite's key, used once */
  reason: 'revoked' | 'redeemed'
  revokedBy: string
  revokedAt: string
  signer: string
}

/** A record as stored: its JSON text exactly as signed, and the signature (base64). */
export interface Signed {
  body: string
  sig: string
}

/** What a peer makes of one member, after checking every signature. */
export interface MemberState {
  record: MemberRecord
  /** signed by the founder or by a valid admin hub */
  valid: boolean
  revocation?: Revocation
  /** valid, not revoked, and (for an invite) not expired */
  active: boolean
  /** why it is not active, in words for a members list */
  problem?: string
}

const SIGNING_CONTEXT = 'scanhub-member:v1\n'
const encoder = new TextEncoder()

/** The bytes a signature covers: a context string, so that no other signed message can pass as a record. */
export function signedBytes (body: string): Uint8Array {
  return encoder.encode(SIGNING_CONTEXT + body)
}

/** The raw 32-byte Ed25519 public key in a peer id, or undefined for other kinds of ids. */
export function ed25519PublicKeyOf (peerId: string): Uint8Array | undefined {
  try {
    const id = peerIdFromString(peerId)
    return id.type === 'Ed25519' ? id.publicKey.raw : undefined
  } catch {
    return undefined
  }
}

const verified = new Map<string, boolean>()

/** Whether `signed.sig` is the signature of `signer` over `signed.body`. */
export function verifySigned (signed: Signed, signer: string): boolean {
  const cacheKey = `${signer}\n${signed.sig}\n${signed.body}`
  const cached = verified.get(cacheKey)
  if (cached !== undefined) return cached
  const publicKey = ed25519PublicKeyOf(signer)
  let ok = false
  if (publicKey !== undefined) {
    try {
      ok = ed25519.verify(base64Decode(signed.sig), signedBytes(signed.body), publicKey)
    } catch {
      ok = false
    }
  }
  // bounded: records are few; a flood of forged ones only empties the cache
  if (verified.size > 10_000) verified.clear()
  verified.set(cacheKey, ok)
  return ok
}

/** Signs a record with a signer's key: `sign` is the libp2p private key's sign (sync or async). */
export async function signRecord (record: MemberRecord | Revocation, sign: (bytes: Uint8Array) => Uint8Array | Promise<Uint8Array>): Promise<Signed> {
  const body = JSON.stringify(record)
  const sig = await sign(signedBytes(body))
  return { body, sig: base64Encode(sig) }
}

/**
 * Every member of the lab document as this peer judges it. Validity grows outward from the founder:
 * a record counts when its signer is the founder (the founder's own record is self-signed) or an
 * unrevoked admin hub whose own record counts. A revoked hub's signatures stop counting, so the members
 * it added need adding again by another admin; the founder cannot be revoked.
 */
export function readMembers (lab: Y.Doc, labId: string, founder: string, now: number = Date.now(), extra?: SignedEntries): Map<string, MemberState> {
  const records = new Map<string, MemberRecord>()
  const signedRecords = new Map<string, Signed>()
  // entries kept elsewhere (a peer's own copy) count as much as the document's, which win where both have one
  const memberEntries = [...Object.entries(extra?.members ?? {}), ...lab.getMap<unknown>(MEMBERS_MAP).entries()]
  const revocationEntries = [...Object.entries(extra?.revocations ?? {}), ...lab.getMap<unknown>(REVOCATIONS_MAP).entries()]
  for (const [peerId, value] of memberEntries) {
    const signed = asSigned(value)
    const record = signed === undefined ? undefined : parseMemberRecord(signed.body)
    if (signed === undefined || record === undefined || record.peerId !== peerId || record.labId !== labId) continue
    records.set(peerId, record)
    signedRecords.set(peerId, signed)
  }
  const revocations = new Map<string, { signed: Signed, revocation: Revocation }>()
  for (const [peerId, value] of revocationEntries) {
    const signed = asSigned(value)
    const revocation = signed === undefined ? undefined : parseRevocation(signed.body)
    if (signed === undefined || revocation === undefined || revocation.peerId !== peerId || revocation.labId !== labId) continue
    revocations.set(peerId, { signed, revocation })
  }

  // Which records are signed along an unbroken chain from the founder, through admin hubs that are not
  // in `excluded`: a fixed point, the set only grows until a pass adds nobody.
  const chained = (excluded: Set<string>): Set<string> => {
    const set = new Set<string>()
    const mayVouch = (signer: string): boolean => signer === founder || (set.has(signer) && !excluded.has(signer) && isAdminHub(records.get(signer)))
    let grew = true
    while (grew) {
      grew = false
      for (const [peerId, record] of records) {
        if (set.has(peerId)) continue
        const selfSignedFounder = peerId === founder && record.signer === founder && record.kind === 'hub' && record.ceiling === 'admin'
        if ((selfSignedFounder || (peerId !== founder && mayVouch(record.signer))) && verifySigned(signedRecords.get(peerId) as Signed, record.signer)) {
          set.add(peerId)
          grew = true
        }
      }
    }
    return set
  }
  // A revocation counts when signed by the founder or by any admin hub that was ever a member: that its
  // signer was revoked later must not bring back the peers it revoked. (A stolen admin hub key can thus
  // still revoke; it can no longer add anyone.)
  const everValid = chained(new Set())
  const revoked = new Set<string>()
  for (const [peerId, { signed, revocation }] of revocations) {
    if (peerId === founder) continue
    const signerMay = revocation.signer === founder || (everValid.has(revocation.signer) && isAdminHub(records.get(revocation.signer)))
    if (signerMay && verifySigned(signed, revocation.signer)) revoked.add(peerId)
  }
  const valid = chained(revoked)

  const out = new Map<string, MemberState>()
  for (const [peerId, record] of records) {
    const revocation = revoked.has(peerId) ? revocations.get(peerId)?.revocation : undefined
    const isValid = valid.has(peerId)
    const expired = record.kind === 'invite' && (record.invite === undefined || Date.parse(record.invite.expiresAt) <= now)
    const problem = !isValid
      ? (record.signer === founder || everValid.has(record.signer) ? `signed by ${shortPeer(record.signer)}, which may not add members (revoked, or not an admin hub)` : 'not signed by a member of this lab')
      : revocation !== undefined
        ? (revocation.reason === 'redeemed' ? 'invite used' : `revoked by ${revocation.revokedBy} at ${revocation.revokedAt}`)
        : expired ? 'invite expired' : undefined
    out.set(peerId, {
      record,
      valid: isValid,
      ...(revocation !== undefined ? { revocation } : {}),
      active: problem === undefined,
      ...(problem !== undefined ? { problem } : {})
    })
  }
  return out
}

/** Signed member and revocation entries by peer id, as the lab document holds them. */
export interface SignedEntries {
  members: Record<string, Signed>
  revocations: Record<string, Signed>
}

/** The lab document's signed entries (unparsed, unchecked: readMembers judges them). */
export function signedEntries (lab: Y.Doc): SignedEntries {
  const collect = (name: string): Record<string, Signed> => {
    const out: Record<string, Signed> = {}
    for (const [peerId, value] of lab.getMap<unknown>(name)) {
      const signed = asSigned(value)
      if (signed !== undefined) out[peerId] = signed
    }
    return out
  }
  return { members: collect(MEMBERS_MAP), revocations: collect(REVOCATIONS_MAP) }
}

/** The founder's own record, which every other record's chain of signatures ends at. */
export function founderRecord (labId: string, founder: string, name: string, now: Date = new Date()): MemberRecord {
  return { labId, peerId: founder, name, kind: 'hub', ceiling: 'admin', addedBy: 'founder', addedAt: now.toISOString(), signer: founder }
}

/** Stores a signed member record (the caller signs; see signRecord). */
export function putMember (lab: Y.Doc, peerId: string, signed: Signed, origin: unknown = 'local'): void {
  lab.transact(() => { lab.getMap<unknown>(MEMBERS_MAP).set(peerId, { ...signed }) }, origin)
}

/** Stores a signed revocation. A revocation is never removed: a revoked key stays out for good. */
export function putRevocation (lab: Y.Doc, peerId: string, signed: Signed, origin: unknown = 'local'): void {
  lab.transact(() => { lab.getMap<unknown>(REVOCATIONS_MAP).set(peerId, { ...signed }) }, origin)
}

function isAdminHub (record: MemberRecord | undefined): boolean {
  return record !== undefined && record.kind === 'hub' && record.ceiling === 'admin'
}

function asSigned (value: unknown): Signed | undefined {
  const v = value instanceof Y.Map ? value.toJSON() : value
  if (typeof v !== 'object' || v === null) return undefined
  const { body, sig } = v as Record<string, unknown>
  if (typeof body !== 'string' || typeof sig !== 'string' || body.length > 4096 || sig.length > 200) return undefined
  return { body, sig }
}

function parseMemberRecord (body: string): MemberRecord | undefined {
  const v = parseObject(body)
  if (v === undefined) return undefined
  const { labId, peerId, name, kind, ceiling, addedBy, addedAt, signer, invite } = v
  if (typeof labId !== 'string' || typeof peerId !== 'string' || typeof name !== 'string' || typeof addedBy !== 'string' ||
      typeof addedAt !== 'string' || typeof signer !== 'string' || !isKind(kind) || !isRole(ceiling)) return undefined
  let parsedInvite: MemberRecord['invite']
  if (invite !== undefined) {
    const i = invite as Record<string, unknown>
    if (typeof i !== 'object' || i === null || !isKind(i.kind) || i.kind === 'invite' || !isRole(i.ceiling) || typeof i.expiresAt !== 'string') return undefined
    parsedInvite = { kind: i.kind, ceiling: i.ceiling, expiresAt: i.expiresAt }
  }
  return { labId, peerId, name, kind, ceiling, addedBy, addedAt, signer, ...(parsedInvite !== undefined ? { invite: parsedInvite } : {}) }
}

function parseRevocation (body: string): Revocation | undefined {
  const v = parseObject(body)
  if (v === undefined) return undefined
  const { labId, peerId, reason, revokedBy, revokedAt, signer } = v
  if (typeof labId !== 'string' || typeof peerId !== 'string' || (reason !== 'revoked' && reason !== 'redeemed') ||
      typeof revokedBy !== 'string' || typeof revokedAt !== 'string' || typeof signer !== 'string') return undefined
  return { labId, peerId, reason, revokedBy, revokedAt, signer }
}

function parseObject (text: string): Record<string, unknown> | undefined {
  try {
    const v: unknown = JSON.parse(text)
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? v as Record<string, unknown> : undefined
  } catch {
    return undefined
  }
}

function isKind (value: unknown): value is MemberKind {
  return typeof value === 'string' && (MEMBER_KINDS as readonly string[]).includes(value)
}

function isRole (value: unknown): value is Role {
  return typeof value === 'string' && (ROLES as readonly string[]).includes(value)
}

function shortPeer (peerId: string): string {
  return peerId.length > 12 ? `…${peerId.slice(-8)}` : peerId
}
