// What a peer listens on faces anyone on the LAN, before any key is checked: malformed WebSocket frames,
// random bytes after a valid upgrade or instead of one, and random bytes on the TCP port must end that
// connection only, and the peer must keep serving.
import { connect, type Socket } from 'node:net'
import { generateKeyPair } from '@libp2p/crypto/keys'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { generateSwarmKeyHex, swarmKeyFromHex } from '../../protocol/lab-key.ts'
import { createLabHost, type LabHost } from './host.ts'

let host: LabHost
let client: LabHost
let wsPort: number

beforeAll(async () => {
  const swarmKey = swarmKeyFromHex(generateSwarmKeyHex())
  host = await createLabHost({ privateKey: await generateKeyPair('Ed25519'), swarmKey, wsPort: 0, mdns: false })
  client = await createLabHost({ privateKey: await generateKeyPair('Ed25519'), swarmKey, mdns: false })
  const ws = host.getMultiaddrs().find((a) => a.toString().includes('/ws'))
  if (ws === undefined) throw new Error('the host has no WebSocket address')
  wsPort = Number(ws.toString().split('/')[4])
})

afterAll(async () => {
  await client?.stop()
  await host?.stop()
})

/** Opens a WebSocket by hand (no library: the point is to send what no library would) and sends `frames` after the upgrade. */
async function sendAfterUpgrade (frames: Uint8Array): Promise<string> {
  return await new Promise<string>((resolve) => {
    const socket: Socket = connect(wsPort, '127.0.0.1')
    let answer = ''
    let upgraded = false
    const done = (): void => { socket.destroy(); resolve(answer) }
    const timer = setTimeout(done, 1_000)
    socket.on('error', () => { clearTimeout(timer); done() })
    socket.on('close', () => { clearTimeout(timer); resolve(answer) })
    socket.on('data', (d) => {
      answer += d.toString('latin1')
      if (!upgraded && answer.includes('\r\n\r\n')) {
        upgraded = true
        socket.write(frames)
      }
    })
    socket.write('GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
      'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n')
  })
}

async function stillServes (): Promise<void> {
  const tcp = host.getMultiaddrs().find((a) => !a.toString().includes('/ws'))
  if (tcp === undefined) throw new Error('no TCP address')
  const rtt = await client.services.ping.ping(tcp, { signal: AbortSignal.timeout(5_000) })
  expect(rtt).toBeGreaterThanOrEqual(0)
}

describe('the WebSocket listener under malformed frames', () => {
  const cases: Array<[string, number[]]> = [
    ['RSV1 set', [0xc2, 0x80, 0, 0, 0, 0]],
    ['unknown opcode 3', [0x83, 0x80, 0, 0, 0, 0]],
    ['fragmented ping (control frame without FIN)', [0x09, 0x80, 0, 0, 0, 0]],
    ['unmasked client frame', [0x82, 0x01, 0x00]],
    ['text frame with invalid UTF-8', [0x81, 0x82, 0, 0, 0, 0, 0xc3, 0x28]],
    ['close with reserved code 1005', [0x88, 0x82, 0, 0, 0, 0, 0x03, 0xed]],
    ['a 2^63-byte frame header', [0x82, 0xff, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0]],
    ['a 64 MiB frame header', [0x82, 0xff, 0, 0, 0, 0, 0x04, 0, 0, 0, 0, 0, 0, 0]]
  ]
  for (const [name, bytes] of cases) {
    it(`drops the connection and keeps serving: ${name}`, async () => {
      const answer = await sendAfterUpgrade(Uint8Array.from(bytes))
      expect(answer).toMatch(/^HTTP\/1\.1 101/)
      await stillServes()
    })
  }

  it('survives random bytes after the upgrade (bounded fuzzing)', async () => {
    await fc.assert(fc.asyncProperty(fc.uint8Array({ minLength: 1, maxLength: 64 }), async (bytes) => {
      await sendAfterUpgrade(bytes)
    }), { numRuns: 40 })
    await stillServes()
  }, 60_000)

  it('survives random bytes on the TCP port (before the pre-shared key handshake)', async () => {
    const tcp = host.getMultiaddrs().find((a) => !a.toString().includes('/ws'))
    const tcpPort = Number(tcp?.toString().split('/')[4])
    await fc.assert(fc.asyncProperty(fc.uint8Array({ minLength: 1, maxLength: 512 }), async (bytes) => {
      await new Promise<void>((resolve) => {
        const socket = connect(tcpPort, '127.0.0.1', () => { socket.end(bytes) })
        socket.on('error', () => { resolve() })
        socket.on('close', () => { resolve() })
        socket.setTimeout(1_000, () => { socket.destroy() })
        socket.resume()
      })
    }), { numRuns: 40 })
    await stillServes()
  }, 60_000)

  it('survives random bytes instead of an HTTP request', async () => {
    await fc.assert(fc.asyncProperty(fc.uint8Array({ minLength: 1, maxLength: 256 }), async (bytes) => {
      await new Promise<void>((resolve) => {
        const socket = connect(wsPort, '127.0.0.1', () => { socket.end(bytes) })
        socket.on('error', () => { resolve() })
        socket.on('close', () => { resolve() })
        socket.setTimeout(1_000, () => { socket.destroy() })
        socket.resume()
      })
    }), { numRuns: 40 })
    await stillServes()
  }, 60_000)
})
