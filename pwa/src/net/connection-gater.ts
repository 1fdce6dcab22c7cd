// libp2p's browser default refuses to dial insecure WebSockets and private addresses, which is
// exactly what a page on a lab's own network dials: the hub on 127.0.0.1 or a LAN address, by ws on
// this machine or by wss (`scanhub start --lan`) from a tablet. This gater allows those, and the host
// the page itself was served from (the hub, by whatever address or name the certificate names), and
// still only WebSocket addresses, since nothing else can be dialled from a page.
import type { ConnectionGater } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'

const PRIVATE_IPV4 = [/^127\./, /^10\./, /^192\.168\./, /^172\.(1[6-9]|2\d|3[01])\./, /^169\.254\./]

/**
 * Loopback, RFC 1918, link-local, or an IPv6 loopback/unique-local/link-local address; localhost and
 * .local names; or the host the page was served from (`pageHost`, as `location.hostname` gives it).
 */
export function isLabAddress (addr: Multiaddr, pageHost?: string): boolean {
  const page = pageHost?.replace(/^\[(.*)\]$/, '$1').toLowerCase()
  for (const c of addr.getComponents()) {
    const value = (c.value ?? '').toLowerCase()
    if (c.name === 'ip4') return value === page || PRIVATE_IPV4.some((re) => re.test(value))
    if (c.name === 'ip6') {
      return value === page || value === '::1' || value.startsWith('fc') || value.startsWith('fd') || value.startsWith('fe80:')
    }
    if (c.name === 'dns' || c.name === 'dns4' || c.name === 'dns6') return value === page || value === 'localhost' || value.endsWith('.local')
  }
  return false
}

export function isWebSocketAddress (addr: Multiaddr): boolean {
  return addr.getComponents().some((c) => c.name === 'ws' || c.name === 'wss')
}

/** Dials WebSocket addresses on the lab's network; refuses the rest. */
export function labConnectionGater (pageHost: string | undefined = (globalThis as { location?: { hostname: string } }).location?.hostname): ConnectionGater {
  return {
    denyDialMultiaddr: (addr) => !(isWebSocketAddress(addr) && isLabAddress(addr, pageHost))
  }
}
