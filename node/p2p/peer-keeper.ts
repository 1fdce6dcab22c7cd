// Keeps this peer connected to the rest of its lab. libp2p's mDNS finds peers but does not dial them,
// and nothing redials a peer that went away: this service dials what mDNS finds, tags lab peers so
// the connection manager keeps them, and every few seconds redials known lab peers that are not
// connected (their addresses come from the lab document and from the invite), backing off per peer.
import { KEEP_ALIVE } from '@libp2p/interface'
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr'
import type { Libp2p, PeerInfo } from '@libp2p/interface'

export interface KnownPeer {
  peerId: string
  addrs: string[]
}

export interface PeerKeeperInit {
  /** the lab's peers and where they were last reachable */
  knownPeers: () => KnownPeer[]
  /** how often to look for lab peers that are not connected */
  intervalMs?: number
  /** longest wait between two dials of one unreachable peer */
  maxBackoffMs?: number
  log?: (message: string) => void
}

const DEFAULT_INTERVAL_MS = 2_000
const DEFAULT_MAX_BACKOFF_MS = 30_000
const DIAL_TIMEOUT_MS = 5_000

export class PeerKeeper {
  private readonly libp2p: Libp2p
  private readonly init: PeerKeeperInit
  private readonly backoff = new Map<string, { next: number, wait: number }>()
  private readonly dialling = new Set<string>()
  private timer?: ReturnType<typeof setInterval>

  constructor (components: { libp2p: Libp2p }, init: PeerKeeperInit) {
    this.libp2p = components.libp2p
    this.init = init
  }

  start (): void {
    this.libp2p.addEventListener('peer:discovery', this.handleDiscovery)
    this.timer = setInterval(() => { this.redialKnownPeers() }, this.init.intervalMs ?? DEFAULT_INTERVAL_MS)
    this.redialKnownPeers()
  }

  stop (): void {
    this.libp2p.removeEventListener('peer:discovery', this.handleDiscovery)
    if (this.timer !== undefined) clearInterval(this.timer)
  }

  private readonly handleDiscovery = (event: CustomEvent<PeerInfo>): void => {
    const { id, multiaddrs } = event.detail
    if (id.equals(this.libp2p.peerId)) return
    this.dial(id.toString(), multiaddrs.map((a) => a.toString().includes('/p2p/') ? a : a.encapsulate(`/p2p/${id.toString()}`)))
  }

  private redialKnownPeers (): void {
    const self = this.libp2p.peerId.toString()
    const connected = new Set(this.libp2p.getConnections().map((c) => c.remotePeer.toString()))
    const now = Date.now()
    for (const peer of this.init.knownPeers()) {
      if (peer.peerId === self || connected.has(peer.peerId) || peer.addrs.length === 0) continue
      const state = this.backoff.get(peer.peerId)
      if (state !== undefined && state.next > now) continue
      const addrs: Multiaddr[] = []
      for (const addr of peer.addrs) {
        try { addrs.push(multiaddr(addr)) } catch { /* an address this peer cannot parse is skipped */ }
      }
      this.dial(peer.peerId, addrs)
    }
  }

  private dial (peerId: string, addrs: Multiaddr[]): void {
    if (addrs.length === 0 || this.dialling.has(peerId)) return
    if (this.libp2p.getConnections().some((c) => c.remotePeer.toString() === peerId)) return
    this.dialling.add(peerId)
    this.libp2p.dial(addrs, { signal: AbortSignal.timeout(DIAL_TIMEOUT_MS) }).then(async (connection) => {
      this.backoff.delete(peerId)
      // Tagged peers are redialled by the connection manager and never pruned.
      await this.libp2p.peerStore.merge(connection.remotePeer, { tags: { [KEEP_ALIVE]: { value: 1 } } }).catch(() => {})
    }, (err: Error) => {
      const previous = this.backoff.get(peerId)?.wait ?? 500
      const wait = Math.min(previous * 2, this.init.maxBackoffMs ?? DEFAULT_MAX_BACKOFF_MS)
      this.backoff.set(peerId, { next: Date.now() + wait, wait })
      this.init.log?.(`peers: ${peerId} not reachable (${err.message}); retrying in ${Math.round(wait / 1000)} s`)
    }).finally(() => {
      this.dialling.delete(peerId)
    })
  }
}
