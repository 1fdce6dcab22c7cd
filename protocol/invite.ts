// An invite lets a new peer join a lab: it carries the lab's id and name, its pre-shared key and the
// addresses of the peer that made it. It is one line of text, `scanhub-invite:` + base64url(JSON), so
// that it can be pasted into a terminal or shown as a QR code. Whoever holds it can join the lab:
// treat it like a password.
import { isSwarmKeyHex } from './lab-key.ts'

export const INVITE_PREFIX = 'scanhub-invite:'
const INVITE_VERSION = 1
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
  if (typeof v !== 'object' || v === null || v.v !== INVITE_VERSION) {
    throw new InviteError('invite was made by an incompatible ScanHub version')
  }
  if (typeof v.labId !== 'string' || typeof v.labName !== 'string' || typeof v.peerId !== 'string' ||
      typeof v.swarmKeyHex !== 'string' || !isSwarmKeyHex(v.swarmKeyHex) ||
      !Array.isArray(v.addrs) || !v.addrs.every((a) => typeof a === 'string')) {
    throw new InviteError('invite is missing fields: copy the whole line again')
  }
  return { labId: v.labId, labName: v.labName, swarmKeyHex: v.swarmKeyHex, peerId: v.peerId, addrs: v.addrs as string[] }
}

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'

function base64UrlEncode (bytes: Uint8Array): string {
  let out = ''
  for (let i = 0; i < bytes.length; i += 3) {
    const n = (bytes[i] << 16) | ((bytes[i + 1] ?? 0) << 8) | (bytes[i + 2] ?? 0)
    const chars = Math.min(4, Math.ceil(((bytes.length - i) * 8) / 6))
    for (let j = 0; j < chars; j++) out += ALPHABET[(n >> (18 - 6 * j)) & 63]
  }
  return out
}

function base64UrlDecode (text: string): Uint8Array {
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
