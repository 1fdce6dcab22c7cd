import { multiaddr } from '@multiformats/multiaddr'
import { describe, expect, it } from 'vitest'
import { Backoff } from './backoff.ts'
import { dialableFromThisPage } from './browser-peer.ts'
import { labConnectionGater } from './connection-gater.ts'

describe('Backoff', () => {
  it('doubles up to the maximum and starts again after a reset', () => {
    const b = new Backoff({ initialMs: 100, maxMs: 1000, jitter: 0 })
    expect([b.next(), b.next(), b.next(), b.next(), b.next()]).toEqual([100, 200, 400, 800, 1000])
    b.reset()
    expect(b.next()).toBe(100)
  })
})

describe('labConnectionGater', () => {
  it('dials WebSockets on loopback and private addresses only', () => {
    const deny = labConnectionGater().denyDialMultiaddr as (addr: ReturnType<typeof multiaddr>) => boolean
    expect(deny(multiaddr('/ip4/127.0.0.1/tcp/7002/ws'))).toBe(false)
    expect(deny(multiaddr('/ip4/192.168.1.20/tcp/7002/ws'))).toBe(false)
    expect(deny(multiaddr('/ip4/10.0.0.5/tcp/7002/wss'))).toBe(false)
    expect(deny(multiaddr('/ip4/8.8.8.8/tcp/7002/ws'))).toBe(true)
    expect(deny(multiaddr('/ip4/127.0.0.1/tcp/7001'))).toBe(true)
  })

  it('dials the hub\'s wss addresses by the host the page came from (--lan)', () => {
    const deny = labConnectionGater('hub.lab.example').denyDialMultiaddr as (addr: ReturnType<typeof multiaddr>) => boolean
    expect(deny(multiaddr('/dns/hub.lab.example/tcp/7002/tls/ws'))).toBe(false)
    expect(deny(multiaddr('/dns/vm.local/tcp/7002/tls/ws'))).toBe(false)
    expect(deny(multiaddr('/ip4/10.0.0.2/tcp/7002/tls/ws'))).toBe(false)
    expect(deny(multiaddr('/ip6/fd00::2/tcp/7002/tls/ws'))).toBe(false)
    expect(deny(multiaddr('/dns/other.example/tcp/7002/tls/ws'))).toBe(true)
    expect(deny(multiaddr('/dns/hub.lab.example/tcp/7001'))).toBe(true)
    // a page served from an address outside the private ranges still reaches the hub that served it
    const byPublicAddress = labConnectionGater('192.0.2.2').denyDialMultiaddr as (addr: ReturnType<typeof multiaddr>) => boolean
    expect(byPublicAddress(multiaddr('/ip4/192.0.2.2/tcp/7002/tls/ws'))).toBe(false)
    expect(byPublicAddress(multiaddr('/ip4/192.0.2.3/tcp/7002/tls/ws'))).toBe(true)
    const byIpv6 = labConnectionGater('[2001:db8::2]').denyDialMultiaddr as (addr: ReturnType<typeof multiaddr>) => boolean
    expect(byIpv6(multiaddr('/ip6/2001:db8::2/tcp/7002/tls/ws'))).toBe(false)
  })
})

describe('dialableFromThisPage', () => {
  const id = '/p2p/12D3KooWGxAUgKWycheE2XhqwcYPyJAedQRkKQXUzuoZAo61X9xi'
  const loopbackWs = `/ip4/127.0.0.1/tcp/7002/ws${id}`
  const lanWs = `/ip4/10.0.0.2/tcp/7002/ws${id}`
  const lanWss = `/ip4/10.0.0.2/tcp/7002/tls/ws${id}`
  it('dials wss first from an https page, and plain ws only to loopback', () => {
    expect(dialableFromThisPage([loopbackWs, lanWs, lanWss], 'https:')).toEqual([lanWss, loopbackWs])
  })
  it('keeps every address for an http page, plain ones first', () => {
    expect(dialableFromThisPage([lanWss, loopbackWs], 'http:')).toEqual([loopbackWs, lanWss])
  })
})
