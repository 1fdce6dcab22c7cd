// The browser's libp2p identity: an Ed25519 key made once and kept in localStorage, so that the hub
// knows this browser by the same peer id across reloads (a login binds that id to its user).
import { generateKeyPair, privateKeyFromProtobuf, privateKeyToProtobuf } from '@libp2p/crypto/keys'
import type { PrivateKey } from '@libp2p/interface'
import { base64Decode, base64Encode } from '../../../protocol/base64.ts'
import { KEYS, readJson, writeJson } from '../storage/local-store.ts'

export async function loadOrCreatePeerKey (): Promise<PrivateKey> {
  const stored = readJson<string>(KEYS.peerKey)
  if (typeof stored === 'string') {
    try {
      return privateKeyFromProtobuf(base64Decode(stored))
    } catch {
      // Damaged: a new identity only means logging in again.
    }
  }
  const key = await generateKeyPair('Ed25519')
  writeJson(KEYS.peerKey, base64Encode(privateKeyToProtobuf(key)))
  return key
}
