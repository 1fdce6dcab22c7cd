// An invite lets a new peer join a lab: it carries the lab's id and name, its pre-shared key, the lab's
// founder (the root of trust of its members), the addresses of the hub that made it, and a one-time key
// that the lab lists as an invite member until it is redeemed or expires (node/lab/join.ts). It is one
// line of text, `scanhub-invite:` + base64url(JSON), so that it can be pasted into a terminal or shown
// as a QR code. Whoever holds it can join the lab once, before it expires: treat it like a password.
import { isSwarmKeyHex } from './lab-key.ts'

export const INVITE_PREFIX = 'scanhub-invite:'
const INVITE_VERSION = 2
const MAX_INVITE_LENGTH = 8192

export interface Invite {
  labId: string
  labName: string
  /** the lab's pre-shared key, 64 hex characters */
  swarmKeyHex: string
  /** the inviting peer */
  peerId: string
  /** multiaddrs of the inviting peer, each ending in /p2p/<peerId> */
  addrs: string[]
  /** the lab's founding hub: every member record is signed along a chain from it */
  founder: string
  /** the invite's one-time key (libp2p protobuf encoding, base64url) */
  inviteKey: string
  /** what the joining peer becomes */
  kind: 'hub' | 'scanner' | 'recon'
  /** ISO time after which the invite no longer works */
  expiresAt: string
}

export class InviteError extends Error {
  override name = 'InviteError'
}

export function encodeInvite (invite: Invite): string {
  const json = JSON.stringify({ v: INVITE_VERSION, ...invite })
  return INVITE_PREFIX + base64UrlEncode(new TextEncoder().encode(json))
}

export function decodeInvite (text: string): Invite {
  const trimmed = text.trim()
  if (trimmed.length > MAX_INVITE_LENGTH) throw new InviteError('invite is too long to be a ScanHub invite')
  if (!trimmed.startsWith(INVITE_PREFIX)) {
    throw new InviteError(`an invite starts with "${INVITE_PREFIX}": ask a lab member for one with \`scanhub lab invite\``)
  }
  let value: unknown
  try {
    value = JSON.parse(new TextDecoder().decode(base64UrlDecode(trimmed.slice(INVITE_PREFIX.length))))
  } catch {
    throw new InviteError('invite is damaged (not valid base64url JSON): copy the whole line again')
  }
  const v = value as Record<string, unknown>
  if (typeof v === 'object' && v !== null && v.v === 1) {
    throw new InviteError('this invite is of an older kind, without one-time membership: ask a lab admin for a new one (`scanhub lab invite`)')
  }
  if (typeof v !== 'object' || v === null || v.v !== INVITE_VERSION) {
    throw new InviteError('invite was made by an incompatible ScanHub version')
  }
  if (typeof v.labId !== 'string' || typeof v.labName !== 'string' || typeof v.peerId !== 'string' ||
      typeof v.swarmKeyHex !== 'string' || !isSwarmKeyHex(v.swarmKeyHex) ||
      !Array.isArray(v.addrs) || !v.addrs.every((a) => typeof a === 'string') || typeof v.founder !== 'string' ||
      typeof v.inviteKey !== 'string' || typeof v.expiresAt !== 'string' || (v.kind !== 'hub' && v.kind !== 'scanner' && v.kind !== 'recon')) {
    throw new InviteError('invite is missing fields: copy the whole line again')
  }
  return {
    labId: v.labId,
    labName: v.labName,
    swarmKeyHex: v.swarmKeyHex,
    peerId: v.peerId,
    addrs: v.addrs as string[],
    founder: v.founder,
    inviteKey: v.inviteKey,
    kind: v.kind,
    expiresAt: v.expiresAt
  }
}

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'

export function base64UrlEncode (bytes: Uint8Array): string {
  let out = ''
  for (let i = 0; i < bytes.length; i += 3) {
    const n = (bytes[i] << 16) | ((bytes[i + 1] ?? 0) << 8) | (bytes[i + 2] ?? 0)
    const chars = Math.min(4, Math.ceil(((bytes.length - i) * 8) / 6))
    for (let j = 0; j < chars; j++) out += ALPHABET[(n >> (18 - 6 * j)) & 63]
  }
  return out
}

export function base64UrlDecode (text: string): Uint8Array {
  const out: number[] = []
  let buffer = 0
  let bits = 0
  for (const ch of text) {
    const value = ALPHABET.indexOf(ch)
    if (value < 0) throw new InviteError(`invalid character ${JSON.stringify(ch)} in invite`)
    buffer = (buffer << 6) | value
    bits += 6
    if (bits >= 8) {
      bits -= 8
      out.push((buffer >> bits) & 0xff)
    }
  }
  return new Uint8Array(out)
}
