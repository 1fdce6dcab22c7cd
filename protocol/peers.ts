// The lab's peers as the lab document records them: who they are, their roles and where to reach them.
// Liveness is not here (it would leave a tombstone per heartbeat): it travels as presence.
import * as Y from 'yjs'

export const PEERS_MAP = 'peers'

export type PeerRole = 'hub' | 'scanner' | 'recon' | 'browser'
export const PEER_ROLES: readonly PeerRole[] = ['hub', 'scanner', 'recon', 'browser']

export interface PeerRecord {
  peerId: string
  name: string
  roles: PeerRole[]
  /** multiaddrs ending in /p2p/<peerId>; empty for browsers, which cannot be dialled */
  addrs: string[]
  /** when this record last changed (the peer's clock) */
  updatedAt: string
}

/** Live progress of one task, as its peer reports it a few times a second. */
export interface TaskProgress {
  /** the part done, 0 to 1 */
  fraction: number
  message?: string
  /** when the work began (ms since the epoch, the reporting peer's clock) */
  startedAt?: number
  /**
   * How far a scan is through its sequence and how long the sequence plays, in seconds of sequence
   * time (the time of the last readout played, and the sequence's total duration): the app shows
   * elapsed and remaining time from these, so they never disagree with the sequence.
   */
  positionS?: number
  durationS?: number
}

/** Presence a peer announces (awareness state); never persisted. */
export interface PeerPresence {
  peerId: string
  name: string
  roles: PeerRole[]
  /** ONLINE, BUSY or ERROR for scanners; ONLINE otherwise */
  status: 'ONLINE' | 'BUSY' | 'ERROR'
  /** live progress of whatever the peer is doing, keyed by task id */
  progress?: Record<string, TaskProgress>
  /** local changes not yet seen by any other peer (browsers) */
  unsynced?: number
}

export function listPeerRecords (lab: Y.Doc): PeerRecord[] {
  const peers = lab.getMap<Y.Map<unknown>>(PEERS_MAP)
  const out: PeerRecord[] = []
  for (const [peerId, entry] of peers) {
    if (!(entry instanceof Y.Map)) continue
    out.push({
      peerId,
      name: String(entry.get('name') ?? peerId),
      roles: (entry.get('roles') as PeerRole[] | undefined) ?? [],
      addrs: (entry.get('addrs') as string[] | undefined) ?? [],
      updatedAt: String(entry.get('updatedAt') ?? '')
    })
  }
  return out.sort((a, b) => a.name.localeCompare(b.name))
}

/**
 * Records this peer in the lab document, writing only the fields that changed so that restarts do
 * not grow the document.
 */
export function publishPeerRecord (lab: Y.Doc, record: Omit<PeerRecord, 'updatedAt'>, origin: unknown = 'local'): void {
  const peers = lab.getMap<Y.Map<unknown>>(PEERS_MAP)
  lab.transact(() => {
    let entry = peers.get(record.peerId)
    if (!(entry instanceof Y.Map)) {
      entry = new Y.Map<unknown>()
      peers.set(record.peerId, entry)
    }
    let changed = false
    const set = (key: string, value: unknown): void => {
      if (JSON.stringify(entry.get(key)) !== JSON.stringify(value)) { entry.set(key, value); changed = true }
    }
    set('name', record.name)
    set('roles', record.roles)
    set('addrs', record.addrs)
    if (changed) entry.set('updatedAt', new Date().toISOString())
  }, origin)
}
