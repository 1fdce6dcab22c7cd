import { multiaddr } from '@multiformats/multiaddr'
import { describe, expect, it } from 'vitest'
import { lanWsAddrs, loopbackWsAddrs } from './bootstrap.ts'

const peerId = '12D3KooWGxAUgKWycheE2XhqwcYPyJAedQRkKQXUzuoZAo61X9xi'
const names = { ips: ['127.0.0.1', '10.0.0.2', 'fd00::2'], dnsNames: ['localhost', 'hub', 'hub.local'] }
const lanListener = [multiaddr('/ip4/10.0.0.2/tcp/7001'), multiaddr('/ip4/10.0.0.2/tcp/7002/tls/ws'), multiaddr('/ip4/127.0.0.1/tcp/7002/tls/ws')]

describe('where a page dials the hub', () => {
  it('on this machine without --lan: plain ws on 127.0.0.1, never the wss listener', () => {
    expect(loopbackWsAddrs([multiaddr('/ip4/0.0.0.0/tcp/7002/ws'), multiaddr('/ip4/10.0.0.2/tcp/7001')], peerId)).toEqual([`/ip4/127.0.0.1/tcp/7002/ws/p2p/${peerId}`])
    expect(loopbackWsAddrs(lanListener, peerId)).toEqual([])
  })

  it('under --lan: wss by the host the page was loaded from, which the certificate names', () => {
    expect(lanWsAddrs(lanListener, peerId, '10.0.0.2:7080', names)).toEqual([`/ip4/10.0.0.2/tcp/7002/tls/ws/p2p/${peerId}`])
    expect(lanWsAddrs(lanListener, peerId, 'HUB.local:7080', names)).toEqual([`/dns/hub.local/tcp/7002/tls/ws/p2p/${peerId}`])
    expect(lanWsAddrs(lanListener, peerId, 'localhost:7080', names)).toEqual([`/dns/localhost/tcp/7002/tls/ws/p2p/${peerId}`])
    const dualStack = [...lanListener, multiaddr('/ip6/fd00::2/tcp/7002/tls/ws')]
    expect(lanWsAddrs(dualStack, peerId, '[fd00:0::2]:7080', names)).toEqual([`/ip6/fd00::2/tcp/7002/tls/ws/p2p/${peerId}`])
  })

  it('under --lan, by a host the certificate does not name or the listener does not take: the certificate\'s LAN addresses it takes', () => {
    // the listener is IPv4 only (as `scanhub start` makes it): no IPv6 address is handed out
    expect(lanWsAddrs(lanListener, peerId, '10.0.0.9:7080', names)).toEqual([`/ip4/10.0.0.2/tcp/7002/tls/ws/p2p/${peerId}`])
    expect(lanWsAddrs(lanListener, peerId, '[fd00::2]:7080', names)).toEqual([`/ip4/10.0.0.2/tcp/7002/tls/ws/p2p/${peerId}`])
  })
})
