// libp2p's browser default refuses to dial insecure WebSockets and private addresses, which is
// exactly what a page on a lab's own network dials: the hub on 127.0.0.1 or a LAN address. This
// gater allows those, and still only WebSocket addresses, since nothing else can be dialled from a page.
import type { ConnectionGater } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'

const PRIVATE_IPV4 = [/^127\./, /^10\./, /^192\.168\./, /^172\.(1[6-9]|2\d|3[01])\./, /^169\.254\./]

/** Loopback, RFC 1918, link-local, or an IPv6 loopback/unique-local/link-local address. */
export function isLabAddress (addr: Multiaddr): boolean {
  for (const c of addr.getComponents()) {
    if (c.name === 'ip4') return PRIVATE_IPV4.some((re) => re.test(c.value ?? ''))
    if (c.name === 'ip6') {
      const v = (c.value ?? '').toLowerCase()
      return v === '::1' || v.startsWith('fc') || v.startsWith('fd') || v.startsWith('fe80:')
    }
    if (c.name === 'dns' || c.name === 'dns4' || c.name === 'dns6') return c.value === 'localhost' || (c.value ?? '').endsWith('.local')
  }
  return false
}

export function isWebSocketAddress (addr: Multiaddr): boolean {
  return addr.getComponents().some((c) => c.name === 'ws' || c.name === 'wss')
}

/** Dials WebSocket addresses on the lab's network; refuses the rest. */
export function labConnectionGater (): ConnectionGater {
  return {
    denyDialMultiaddr: (addr) => !(isWebSocketAddress(addr) && isLabAddress(addr))
  }
}
