// The page's libp2p peer: WebSockets to a hub, under the lab's pre-shared key (pnet), Noise and
// yamux, with identify so that the hub learns what it speaks. It keeps one sync stream open to the
// hub and reconnects with backoff whenever the hub goes away; `restartSync` reopens the stream
// (after a login, the hub decides afresh whether this browser may write). A page served over https
// (a tablet, `scanhub start --lan`) dials the hub's wss addresses: the browser blocks plain ws there.
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { identify } from '@libp2p/identify'
import { preSharedKey } from '@libp2p/pnet'
import { webSockets } from '@libp2p/websockets'
import { multiaddr } from '@multiformats/multiaddr'
import { createLibp2p } from 'libp2p'
import { SYNC_PROTOCOL } from '../../../protocol/ids.ts'
import { Backoff } from './backoff.ts'
import { labConnectionGater } from './connection-gater.ts'
import type { Connection, Libp2p, PrivateKey, Stream } from '@libp2p/interface'

export type ConnectionStatus = 'connecting' | 'online' | 'offline'

export interface BrowserPeerInit {
  privateKey: PrivateKey
  /** the lab's key in libp2p's swarm key format (protocol/lab-key.ts swarmKeyFromHex) */
  swarmKey: Uint8Array
  /** the hub's WebSocket multiaddrs, each ending in /p2p/<peerId>; asked again before every dial */
  hubAddrs: () => string[]
  /** told when no address answered, e.g. to ask the hub whether its addresses changed */
  onUnreachable?: () => void
  /** runs the sync protocol on a fresh stream; resolves when the stream ends */
  onSyncStream: (stream: Stream, connection: Connection) => Promise<void>
  dialTimeoutMs?: number
  log?: (message: string) => void
}

/**
 * The hub addresses this page can open, secure ones first: a page served over https may open
 * ws:// only to loopback (mixed content), so other plain ws addresses are left out there.
 */
export function dialableFromThisPage (addrs: string[], pageProtocol: string | undefined): string[] {
  const secure = addrs.filter(isSecureWebSocketAddr)
  const plain = addrs.filter((a) => !isSecureWebSocketAddr(a))
  if (pageProtocol !== 'https:') return [...plain, ...secure]
  return [...secure, ...plain.filter((a) => /^\/(ip4\/127\.|ip6\/::1\/|dns4?\/localhost\/)/.test(a))]
}

function isSecureWebSocketAddr (addr: string): boolean {
  return addr.includes('/wss') || addr.includes('/tls/')
}

/** libp2p could not be started in this page. */
export class BrowserPeerError extends Error {
  override name = 'BrowserPeerError'
}

export class BrowserPeer extends EventTarget {
  private readonly init: BrowserPeerInit
  private readonly backoff = new Backoff()
  private node: Libp2p | undefined
  private running = false
  private currentStream: Stream | undefined
  private wake: (() => void) | undefined
  private restartRequested = false
  private statusValue: ConnectionStatus = 'connecting'

  constructor (init: BrowserPeerInit) {
    super()
    this.init = init
  }

  get peerId (): string {
    return this.node?.peerId.toString() ?? ''
  }

  get status (): ConnectionStatus {
    return this.statusValue
  }

  async start (): Promise<void> {
    if (this.running) return
    try {
      this.node = await createLibp2p({
        privateKey: this.init.privateKey,
        transports: [webSockets()],
        connectionProtector: preSharedKey({ psk: this.init.swarmKey }),
        connectionEncrypters: [noise()],
        streamMuxers: [yamux()],
        connectionGater: labConnectionGater(),
        services: { identify: identify() }
      })
    } catch (err) {
      throw new BrowserPeerError(`cannot start the browser peer: ${(err as Error).message}`)
    }
    this.running = true
    window.addEventListener('online', this.handleOnline)
    this.loop().catch((err: Error) => { this.log(`peer: connection loop stopped: ${err.message}`) })
  }

  async stop (): Promise<void> {
    this.running = false
    window.removeEventListener('online', this.handleOnline)
    this.wake?.()
    await this.node?.stop()
  }

  /** Dial now instead of waiting out the backoff (the network came back, the user asked). */
  reconnectNow (): void {
    this.backoff.reset()
    this.wake?.()
  }

  /** Closes the sync stream; a new one opens at once on the same connection. */
  restartSync (): void {
    this.restartRequested = true
    const stream = this.currentStream
    if (stream !== undefined) {
      stream.close().catch(() => { stream.abort(new Error('sync restarted')) })
    } else {
      this.reconnectNow()
    }
  }

  private readonly handleOnline = (): void => { this.reconnectNow() }

  private setStatus (status: ConnectionStatus): void {
    if (status === this.statusValue) return
    this.statusValue = status
    this.dispatchEvent(new Event('sh-peer-status'))
  }

  private async loop (): Promise<void> {
    while (this.running) {
      const connected = await this.connectOnce()
      if (!this.running) break
      if (connected && this.restartRequested) {
        this.restartRequested = false
        continue
      }
      this.setStatus('offline')
      await this.sleep(this.backoff.next())
      if (this.running) this.setStatus('connecting')
    }
  }

  /** Dials the hub and runs one sync stream to its end. Returns whether it got connected. */
  private async connectOnce (): Promise<boolean> {
    const node = this.node
    if (node === undefined) return false
    let connection: Connection | undefined
    for (const addr of dialableFromThisPage(this.init.hubAddrs(), globalThis.location?.protocol)) {
      try {
        connection = await node.dial(multiaddr(addr), { signal: AbortSignal.timeout(this.init.dialTimeoutMs ?? 5000) })
        break
      } catch (err) {
        this.log(`peer: cannot reach ${addr}: ${(err as Error).message}`)
      }
    }
    if (connection === undefined) {
      this.init.onUnreachable?.()
      return false
    }
    let stream: Stream
    try {
      stream = await connection.newStream(SYNC_PROTOCOL, { signal: AbortSignal.timeout(this.init.dialTimeoutMs ?? 5000) })
    } catch (err) {
      this.log(`peer: cannot open the sync stream: ${(err as Error).message}`)
      await connection.close().catch(() => {})
      return false
    }
    this.backoff.reset()
    this.currentStream = stream
    this.setStatus('online')
    try {
      await this.init.onSyncStream(stream, connection)
    } finally {
      this.currentStream = undefined
    }
    return true
  }

  private async sleep (ms: number): Promise<void> {
    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms)
      function done (): void { clearTimeout(timer); resolve() }
      this.wake = done
    })
    this.wake = undefined
  }

  private log (message: string): void {
    this.init.log?.(message)
  }
}
