// The libp2p host every ScanHub peer runs: TCP between Node peers, WebSockets for browsers, the lab's
// pre-shared key (pnet) under Noise and yamux, identify and ping, and mDNS to find the lab's peers.
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { identify } from '@libp2p/identify'
import { mdns } from '@libp2p/mdns'
import { ping } from '@libp2p/ping'
import { preSharedKey } from '@libp2p/pnet'
import { tcp } from '@libp2p/tcp'
import { webSockets } from '@libp2p/websockets'
import { createLibp2p } from 'libp2p'
import { applyWebSocketErrorGuard } from './websocket-errors.ts'
import { applyXsalsa20ChunkedUpdate } from './xsalsa20-chunked-update.ts'
import type { Identify } from '@libp2p/identify'
import type { ConnectionGater, PeerDiscovery, PrivateKey, Libp2p } from '@libp2p/interface'
import type { MulticastDNSComponents } from '@libp2p/mdns'
import type { Ping } from '@libp2p/ping'

export interface LabHostInit {
  privateKey: PrivateKey
  /** the lab's pre-shared key in the libp2p swarm key format */
  swarmKey: Uint8Array
  /** address to listen on: 127.0.0.1 (default) or 0.0.0.0 for the LAN */
  host?: string
  /** TCP port for Node peers; 0 = any free port */
  tcpPort?: number
  /** WebSocket port for browsers; 0 = any, undefined = none */
  wsPort?: number
  /** discover peers with mDNS (default true) */
  mdns?: boolean
  /** mDNS service tag; a per-lab tag keeps other labs' peers out of discovery */
  mdnsServiceTag?: string
  /** peer name announced over mDNS (defaults to the peer id) */
  mdnsPeerName?: string
  /** certificate and key (PEM) that make the WebSocket listener wss: pages served over https may open nothing else */
  tls?: { cert: string, key: string }
  /** who may connect after the encrypted handshake: the lab's members (node/lab/membership.ts) */
  connectionGater?: ConnectionGater
}

export type LabHost = Libp2p<{ identify: Identify, ping: Ping }>

/** Builds and starts the libp2p host of a peer. */
export async function createLabHost (init: LabHostInit): Promise<LabHost> {
  // pnet's cipher fails under bulk transfers unless fed in pieces (see the file).
  applyXsalsa20ChunkedUpdate()
  // a malformed WebSocket frame must end that connection, not the process (see the file).
  applyWebSocketErrorGuard()
  const host = init.host ?? '127.0.0.1'
  const listen = [`/ip4/${host}/tcp/${init.tcpPort ?? 0}`]
  if (init.wsPort !== undefined) listen.push(`/ip4/${host}/tcp/${init.wsPort}/${init.tls !== undefined ? 'tls/ws' : 'ws'}`)

  const peerDiscovery: Array<(components: MulticastDNSComponents) => PeerDiscovery> = []
  if (init.mdns ?? true) {
    peerDiscovery.push(mdns({
      serviceTag: init.mdnsServiceTag,
      peerName: init.mdnsPeerName,
      interval: 5_000
    }))
  }

  return await createLibp2p({
    privateKey: init.privateKey,
    addresses: {
      listen,
      // Other hosts cannot use our loopback addresses (and would reach their own peers by them), so
      // they are announced only when there is nothing else, e.g. a laptop with no network.
      announceFilter: (addrs) => {
        const outside = addrs.filter((a) => !isLoopback(a.toString()))
        return outside.length > 0 ? outside : addrs
      }
    },
    transports: [tcp(), webSockets(init.tls !== undefined ? { https: { cert: init.tls.cert, key: init.tls.key } } : {})],
    ...(init.connectionGater !== undefined ? { connectionGater: init.connectionGater } : {}),
    connectionProtector: preSharedKey({ psk: init.swarmKey, timeout: 5_000 }),
    connectionEncrypters: [noise()],
    // A stream's receive window is what a reader that pauses (a reconstruction slower than the scanner)
    // still gets on top of what it queued: 4 MiB instead of yamux's 16 keeps that small, and is still
    // hundreds of round trips' worth of data on a LAN.
    streamMuxers: [yamux({ streamOptions: { maxStreamWindowSize: 4 * 1024 * 1024 } })],
    peerDiscovery,
    connectionManager: {
      // A lab is a handful of peers; reconnecting to them is the point, not saving connections.
      maxConnections: 200
    },
    services: {
      identify: identify(),
      ping: ping()
    }
  })
}

/** The mDNS service tag of a lab: peers of other labs on the same LAN do not even show up. */
export function labMdnsServiceTag (labId: string): string {
  return `_scanhub-${labId.slice(0, 8)}._udp.local`
}

function isLoopback (addr: string): boolean {
  return addr.startsWith('/ip4/127.') || addr.startsWith('/ip6/::1/')
}
