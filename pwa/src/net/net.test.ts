import { multiaddr } from '@multiformats/multiaddr'
import { describe, expect, it } from 'vitest'
import { Backoff } from './backoff.ts'
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
})
