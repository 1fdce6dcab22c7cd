// What a page served by this hub needs to join the lab as a browser peer: the lab's id, name and key,
// and where this hub takes WebSocket connections. Only handed to pages on this machine (see
// isLoopbackRequest): on a LAN, pairing a tablet is an explicit step of its own.
import { multiaddr } from '@multiformats/multiaddr'
import type { IncomingMessage } from 'node:http'
import { isIP, SocketAddress } from 'node:net'
import { hostOnly } from '../http/request-origin.ts'
import type { Multiaddr } from '@multiformats/multiaddr'

export interface BootstrapInfo {
  labId: string
  labName: string
  /** this hub's peer id */
  peerId: string
  /** where the page dials this hub, each ending in /p2p/<peerId>: ws on 127.0.0.1, or under --lan wss by the page's host */
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
    if (!components.some((c) => c.name === 'ws') || isSecureWebSocket(addr)) continue
    const ip = components.find((c) => c.name === 'ip4' || c.name === 'ip6')
    const tcp = components.find((c) => c.name === 'tcp')
    if (ip === undefined || tcp === undefined) continue
    if (ip.name === 'ip6' && ip.value !== '::1' && ip.value !== '::') continue
    out.add(multiaddr(`/ip4/127.0.0.1/tcp/${tcp.value}/ws/p2p/${peerId}`).toString())
  }
  return [...out]
}

/**
 * The hub's secure WebSocket (wss) addresses as a page served over https dials them: by the host the
 * page was loaded from (its Host header), which the certificate names, so the browser's check of the
 * certificate passes. A host the certificate does not name (an address the machine got after the
 * hub started), or an address of a family the listener does not take (it listens on IPv4), gets the
 * certificate's addresses of the listener's families instead, for the page to try in turn.
 */
export function lanWsAddrs (addrs: Multiaddr[], peerId: string, pageHost: string | undefined, certificateNames: { ips: readonly string[], dnsNames: readonly string[] }): string[] {
  const ports = new Set<string>()
  const families = new Set<number>()
  for (const addr of addrs) {
    if (!isSecureWebSocket(addr)) continue
    const components = addr.getComponents()
    const tcp = components.find((c) => c.name === 'tcp')
    if (tcp?.value !== undefined) ports.add(tcp.value)
    if (components.some((c) => c.name === 'ip4')) families.add(4)
    if (components.some((c) => c.name === 'ip6')) families.add(6)
  }
  const host = pageHost === undefined ? '' : hostOnly(pageHost).toLowerCase()
  const named = certificateNames.dnsNames.includes(host) || certificateNames.ips.some((ip) => sameIp(ip, host))
  const reachable = isIP(host) === 0 || families.has(isIP(host))
  const hosts = named && reachable
    ? [host]
    : certificateNames.ips.filter((ip) => families.has(isIP(ip)) && ip !== '127.0.0.1' && ip !== '::1')
  const out: string[] = []
  for (const port of ports) {
    for (const h of hosts) {
      const family = isIP(h)
      const prefix = family === 4 ? `/ip4/${h}` : family === 6 ? `/ip6/${h}` : `/dns/${h}`
      out.push(multiaddr(`${prefix}/tcp/${port}/tls/ws/p2p/${peerId}`).toString())
    }
  }
  return out
}

function isSecureWebSocket (addr: Multiaddr): boolean {
  const names = addr.getComponents().map((c) => c.name)
  return names.includes('wss') || (names.includes('tls') && names.includes('ws'))
}

function sameIp (a: string, b: string): boolean {
  if (isIP(a) === 0 || isIP(a) !== isIP(b)) return false
  if (isIP(a) === 4) return a === b
  return new SocketAddress({ address: a, family: 'ipv6' }).address === new SocketAddress({ address: b, family: 'ipv6' }).address
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
