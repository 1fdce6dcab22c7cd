// DIR/peer.json: where the peer of a data directory was last reachable, written at each start so that
// other commands (`scanhub lab invite`) can say so without talking to the running peer.
import { join } from 'node:path'
import { readOptional, writeFileAtomic } from './data-dir.ts'

export const PEER_INFO_FILE = 'peer.json'

export interface PeerInfo {
  peerId: string
  name: string
  pid: number
  httpPort: number
  addrs: string[]
}

export async function writePeerInfo (dataDir: string, info: PeerInfo): Promise<void> {
  await writeFileAtomic(join(dataDir, PEER_INFO_FILE), JSON.stringify(info, null, 2) + '\n')
}

export async function readPeerInfo (dataDir: string): Promise<PeerInfo | undefined> {
  const raw = await readOptional(join(dataDir, PEER_INFO_FILE))
  if (raw === undefined) return undefined
  try { return JSON.parse(raw.toString('utf8')) as PeerInfo } catch { return undefined }
}
