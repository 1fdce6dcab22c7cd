// The browser's libp2p identity: an Ed25519 key made once and kept in IndexedDB, so that the hub knows
// this browser by the same peer id across reloads (a pairing makes that id a member of the lab, a login
// binds it to its user). A key kept in localStorage by earlier versions moves to IndexedDB on first use.
import { generateKeyPair, privateKeyFromProtobuf, privateKeyToProtobuf } from '@libp2p/crypto/keys'
import type { PrivateKey } from '@libp2p/interface'
import { base64Decode } from '../../../protocol/base64.ts'
import { KEYS, readJson, remove } from '../storage/local-store.ts'

const DB_NAME = 'scanhub-identity'
const STORE = 'keys'
const PEER_KEY = 'peer-key'

async function openDb (): Promise<IDBDatabase> {
  return await new Promise((resolve, reject) => {
    const request = indexedDB.open(DB_NAME, 1)
    request.onupgradeneeded = () => { request.result.createObjectStore(STORE) }
    request.onsuccess = () => { resolve(request.result) }
    request.onerror = () => { reject(request.error ?? new Error('IndexedDB cannot be opened')) }
  })
}

async function withStore<T> (mode: IDBTransactionMode, fn: (store: IDBObjectStore) => IDBRequest<T>): Promise<T> {
  const db = await openDb()
  try {
    return await new Promise((resolve, reject) => {
      const tx = db.transaction(STORE, mode)
      const request = fn(tx.objectStore(STORE))
      tx.oncomplete = () => { resolve(request.result) }
      tx.onerror = () => { reject(tx.error ?? new Error('IndexedDB transaction failed')) }
      tx.onabort = () => { reject(tx.error ?? new Error('IndexedDB transaction aborted')) }
    })
  } finally {
    db.close()
  }
}

function decodeKey (bytes: unknown): PrivateKey | undefined {
  try {
    if (bytes instanceof Uint8Array) return privateKeyFromProtobuf(bytes)
    if (bytes instanceof ArrayBuffer) return privateKeyFromProtobuf(new Uint8Array(bytes))
  } catch {
    // damaged: a new identity only means pairing again
  }
  return undefined
}

export async function loadOrCreatePeerKey (): Promise<PrivateKey> {
  const stored = decodeKey(await withStore('readonly', (s) => s.get(PEER_KEY)))
  if (stored !== undefined) return stored
  const legacy = readJson<string>(KEYS.peerKey)
  let key: PrivateKey | undefined
  if (typeof legacy === 'string') {
    try { key = privateKeyFromProtobuf(base64Decode(legacy)) } catch { key = undefined }
  }
  key ??= await generateKeyPair('Ed25519')
  await withStore('readwrite', (s) => s.put(privateKeyToProtobuf(key), PEER_KEY))
  remove(KEYS.peerKey)
  return key
}

/** Forgets the key (the device was revoked: a revoked key never comes back, so it pairs with a new one). */
export async function forgetPeerKey (): Promise<void> {
  await withStore('readwrite', (s) => s.delete(PEER_KEY))
  remove(KEYS.peerKey)
}
