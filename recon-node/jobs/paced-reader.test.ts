import { generateKeyPair } from '@libp2p/crypto/keys'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { generateSwarmKeyHex, swarmKeyFromHex } from '../../protocol/lab-key.ts'
import { createLabHost, type LabHost } from '../../node/p2p/host.ts'
import { readPaced } from './paced-reader.ts'

const PROTOCOL = '/scanhub-test/paced/1.0.0'
const MiB = 1024 * 1024

describe('readPaced', () => {
  let sender: LabHost
  let receiver: LabHost

  beforeAll(async () => {
    const swarmKey = swarmKeyFromHex(generateSwarmKeyHex())
    sender = await createLabHost({ privateKey: await generateKeyPair('Ed25519'), swarmKey, mdns: false })
    receiver = await createLabHost({ privateKey: await generateKeyPair('Ed25519'), swarmKey, mdns: false })
    // as fast as the receiver's window lets it: 32 MiB
    await sender.handle(PROTOCOL, async (stream) => {
      const block = new Uint8Array(256 * 1024).fill(1)
      for (let i = 0; i < 128; i++) if (!stream.send(block)) await stream.onDrain()
      await stream.close()
    })
  })

  afterAll(async () => {
    await receiver?.stop()
    await sender?.stop()
  })

  it('holds the sender back while the consumer is slow: at most the high-water mark and one window wait', async () => {
    const stream = await receiver.dialProtocol(sender.getMultiaddrs()[0], PROTOCOL)
    const high = 64 * 1024
    let largestChunk = 0
    let largestReadBuffer = 0
    const sample = setInterval(() => { largestReadBuffer = Math.max(largestReadBuffer, stream.readBufferLength) }, 5)
    let received = 0
    try {
      const started = performance.now()
      // a consumer far slower than loopback: most of the 32 MiB must stay with the sender
      for await (const chunk of readPaced(stream, { highWaterMark: high })) {
        received += chunk.length
        largestChunk = Math.max(largestChunk, chunk.length)
        if (performance.now() - started > 1500) break
        await new Promise((resolve) => setTimeout(resolve, 100))
      }
    } finally {
      clearInterval(sample)
      stream.abort(new Error('test over'))
    }
    expect(received).toBeGreaterThan(0)
    // what waits is what the sender may send on top of the queue: the lab host's stream window (4 MiB);
    // a muxer that kept granting window while the stream is paused lets in all it is sent
    const bound = high + 4 * MiB + 256 * 1024
    expect(largestReadBuffer).toBeLessThan(bound)
    expect(largestChunk).toBeLessThan(bound)
  })
})
