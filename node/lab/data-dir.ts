// What a peer keeps in its data directory, and the few small files it writes there atomically.
//   DIR/peer-key      this peer's libp2p identity (Ed25519, protobuf), mode 0600
//   DIR/lab.json      the lab this peer belongs to: id, name, pre-shared key, mode 0600
//   DIR/api-key       the key the local REST API wants in X-API-Key, mode 0600
//   DIR/docs/         one append-only update log per lab document
//   DIR/blobs/        content-addressed blobs (raw data, sequences, DICOM)
// Patient data and keys are the lab's alone: the directory is 0700 and what the peer writes 0600.
import { randomBytes } from 'node:crypto'
import { chmod, lstat, mkdir, open, readdir, readFile, rename } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { generateKeyPair, privateKeyFromProtobuf, privateKeyToProtobuf } from '@libp2p/crypto/keys'
import type { PrivateKey } from '@libp2p/interface'

export const PEER_KEY_FILE = 'peer-key'
export const LAB_FILE = 'lab.json'
export const API_KEY_FILE = 'api-key'
export const DOCS_DIR = 'docs'
export const BLOBS_DIR = 'blobs'

/**
 * Makes the data directory this user's alone: 0700, and everything in it that others could read or
 * write (written by an older version, or copied in) 0700 for folders and 0600 for files. Returns how
 * many entries were tightened. New files stay private through the process umask (`scanhub start`).
 */
export async function makeDataDirPrivate (dataDir: string): Promise<number> {
  await mkdir(dataDir, { recursive: true, mode: 0o700 })
  let fixed = 0
  const tighten = async (path: string): Promise<void> => {
    const info = await lstat(path)
    if (info.isSymbolicLink()) return
    if ((info.mode & 0o077) !== 0) {
      await chmod(path, info.isDirectory() ? 0o700 : 0o600)
      fixed++
    }
    if (info.isDirectory()) for (const name of await readdir(path)) await tighten(join(path, name))
  }
  await tighten(dataDir)
  return fixed
}

/** Writes a file so that a crash leaves either the old or the new content, never half of it. */
export async function writeFileAtomic (path: string, content: string | Uint8Array, mode = 0o600): Promise<void> {
  await mkdir(dirname(path), { recursive: true })
  const temp = `${path}.${process.pid}.tmp`
  const handle = await open(temp, 'w', mode)
  try {
    await handle.writeFile(content)
    await handle.sync()
  } finally {
    await handle.close()
  }
  await rename(temp, path)
  const dir = await open(dirname(path), 'r')
  try { await dir.sync() } finally { await dir.close() }
}

export async function readOptional (path: string): Promise<Buffer | undefined> {
  try {
    return await readFile(path)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw err
  }
}

/** This peer's identity; made on first start and kept, since other peers know it by its id. */
export async function loadOrCreatePeerKey (dataDir: string): Promise<PrivateKey> {
  const path = join(dataDir, PEER_KEY_FILE)
  const existing = await readOptional(path)
  if (existing !== undefined) return privateKeyFromProtobuf(existing)
  const key = await generateKeyPair('Ed25519')
  await writeFileAtomic(path, privateKeyToProtobuf(key))
  return key
}

/** The REST API key; made on first start. */
export async function loadOrCreateApiKey (dataDir: string): Promise<string> {
  const path = join(dataDir, API_KEY_FILE)
  const existing = await readOptional(path)
  if (existing !== undefined && existing.toString('utf8').trim().length >= 32) return existing.toString('utf8').trim()
  const key = randomBytes(24).toString('base64url')
  await writeFileAtomic(path, key + '\n')
  return key
}
