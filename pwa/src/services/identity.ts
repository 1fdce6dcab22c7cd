// The browser's libp2p identity: an Ed25519 key made once and kept in localStorage, so that the hub
// knows this browser by the same peer id across reloads (a login binds that id to its user).
import { generateKeyPair, privateKeyFromProtobuf, privateKeyToProtobuf } from '@libp2p/crypto/keys'
import type { PrivateKey } from '@libp2p/interface'
import { KEYS, readJson, writeJson } from '../storage/local-store.ts'

function toBase64 (bytes: Uint8Array): string {
  let text = ''
  for (const b of bytes) text += String.fromCharCode(b)
  return btoa(text)
}

function fromBase64 (text: string): Uint8Array {
  const raw = atob(text)
  const out = new Uint8Array(raw.length)
  for (let i = 0; i < raw.length; i++) out[i] = raw.charCodeAt(i)
  return out
}

export async function loadOrCreatePeerKey (): Promise<PrivateKey> {
  const stored = readJson<string>(KEYS.peerKey)
  if (typeof stored === 'string') {
    try {
      return privateKeyFromProtobuf(fromBase64(stored))
    } catch {
      // Damaged: a new identity only means logging in again.
    }
  }
  const key = await generateKeyPair('Ed25519')
  writeJson(KEYS.peerKey, toBase64(privateKeyToProtobuf(key)))
  return key
}
