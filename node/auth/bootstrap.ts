// What a page served by this hub needs to join the lab as a browser peer: the lab's id, name and key,
// and where this hub takes WebSocket connections. Only handed to pages on this machine (see
// isLoopbackRequest): on a LAN, pairing a tablet is an explicit step of its own.
import { multiaddr } from '@multiformats/multiaddr'
import type { IncomingMessage } from 'node:http'
import type { Multiaddr } from '@multiformats/multiaddr'

export interface BootstrapInfo {
  labId: string
  labName: string
  /** the lab's pre-shared key, 64 hex characters */
  swarmKeyHex: string
  /** this hub's peer id */
  peerId: string
  /** this hub's WebSocket multiaddrs on 127.0.0.1, each ending in /p2p/<peerId> */
  wsAddrs: string[]
}

/**
 * The hub's WebSocket listen addresses as a page on this machine dials them: whatever interface
 * they are bound to, the page reaches them on 127.0.0.1 (a secure context may open ws:// only there).
 */
export function loopbackWsAddrs (addrs: Multiaddr[], peerId: string): string[] {
  const out = new Set<string>()
  for (const addr of addrs) {
    const components = addr.getComponents()
    if (!components.some((c) => c.name === 'ws')) continue
    const ip = components.find((c) => c.name === 'ip4' || c.name === 'ip6')
    const tcp = components.find((c) => c.name === 'tcp')
    if (ip === undefined || tcp === undefined) continue
    if (ip.name === 'ip6' && ip.value !== '::1' && ip.value !== '::') continue
    out.add(multiaddr(`/ip4/127.0.0.1/tcp/${tcp.value}/ws/p2p/${peerId}`).toString())
  }
  return [...out]
}

const LOOPBACK_ADDRESS = /^(127\.\d{1,3}\.\d{1,3}\.\d{1,3}|::1|::ffff:127\.\d{1,3}\.\d{1,3}\.\d{1,3})$/
const LOOPBACK_HOST = /^(localhost|127\.\d{1,3}\.\d{1,3}\.\d{1,3}|\[::1\])(:\d{1,5})?$/i

/**
 * Whether a request comes from this machine and was addressed to it by a loopback name. The Host
 * check keeps out pages of other sites that rebind their DNS name to 127.0.0.1.
 */
export function isLoopbackRequest (req: IncomingMessage): boolean {
  const remote = req.socket.remoteAddress ?? ''
  const host = req.headers.host ?? ''
  return LOOPBACK_ADDRESS.test(remote) && LOOPBACK_HOST.test(host)
}
