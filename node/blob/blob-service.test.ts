import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createHash, randomBytes } from 'node:crypto'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { afterEach, describe, expect, it } from 'vitest'
import { BLOB_PROTOCOL } from '../../protocol/ids.ts'
import { encodeBlobRequest } from '../../protocol/blob.ts'
import { encodeFrame } from '../../protocol/framing.ts'
import { generateSwarmKeyHex, swarmKeyFromHex } from '../../protocol/lab-key.ts'
import { createLabHost, type LabHost } from '../p2p/host.ts'
import { BlobStore } from '../storage/blob-store.ts'
import { BlobService } from './blob-service.ts'

interface TestPeer { host: LabHost, blobs: BlobStore, service: BlobService, dir: string }
const running: TestPeer[] = []

async function startPeer (key: string): Promise<TestPeer> {
  const dir = await mkdtemp(join(tmpdir(), 'scanhub-blob-'))
  const host = await createLabHost({ privateKey: await generateKeyPair('Ed25519'), swarmKey: swarmKeyFromHex(key), mdns: false })
  const blobs = await BlobStore.open(dir)
  const service = new BlobService({ libp2p: host, blobs })
  await service.start()
  const peer = { host, blobs, service, dir }
  running.push(peer)
  return peer
}

afterEach(async () => {
  for (const peer of running.splice(0)) {
    await peer.service.stop()
    await peer.host.stop()
    await rm(peer.dir, { recursive: true, force: true })
  }
})

async function readAll (stream: AsyncIterable<Uint8Array | { subarray: () => Uint8Array }>): Promise<Buffer> {
  const chunks: Buffer[] = []
  for await (const c of stream) chunks.push(Buffer.from(c instanceof Uint8Array ? c : c.subarray()))
  return Buffer.concat(chunks)
}

describe('blob service', () => {
  it('fetches a blob from the peer that has it, verified', async () => {
    const key = generateSwarmKeyHex()
    const [a, b] = [await startPeer(key), await startPeer(key)]
    const bytes = randomBytes(3 * 1024 * 1024 + 17)
    const { sha256 } = await a.blobs.put(bytes)
    await b.host.dial(a.host.getMultiaddrs()[0])
    const info = await b.service.ensure(sha256)
    expect(info.size).toBe(bytes.length)
    expect(Buffer.from(await b.blobs.read(sha256)).equals(bytes)).toBe(true)
  })

  it('moves on to the next peer when one lacks the blob, and says so when none has it', async () => {
    const key = generateSwarmKeyHex()
    const [a, b, c] = [await startPeer(key), await startPeer(key), await startPeer(key)]
    const bytes = randomBytes(1000)
    const { sha256 } = await c.blobs.put(bytes)
    await a.host.dial(b.host.getMultiaddrs()[0])
    await a.host.dial(c.host.getMultiaddrs()[0])
    expect((await a.service.ensure(sha256)).size).toBe(1000)
    const missing = createHash('sha256').update('nobody has this').digest('hex')
    await expect(a.service.ensure(missing)).rejects.toThrow(/no connected peer could supply/)
    expect(await a.blobs.has(missing)).toBe(false)
  })

  it('serves byte ranges, so a broken transfer resumes', async () => {
    const key = generateSwarmKeyHex()
    const [a, b] = [await startPeer(key), await startPeer(key)]
    const bytes = randomBytes(100_000)
    const { sha256 } = await a.blobs.put(bytes)
    const stream = await b.host.dialProtocol(a.host.getMultiaddrs()[0], BLOB_PROTOCOL)
    stream.send(encodeFrame(encodeBlobRequest({ sha256, offset: 60_000, length: 0 })))
    const reply = await readAll(stream)
    // header frame: length 4, status 0, varUint(40000) = 0xc0 0xb8 0x02
    expect([...reply.subarray(0, 5)]).toEqual([4, 0, 0xc0, 0xb8, 0x02])
    expect(reply.subarray(5).equals(bytes.subarray(60_000))).toBe(true)
  })

  it('answers garbage and oversized requests with an error and keeps serving', async () => {
    const key = generateSwarmKeyHex()
    const [a, b] = [await startPeer(key), await startPeer(key)]
    const { sha256 } = await a.blobs.put(Buffer.from('still here'))
    const addr = a.host.getMultiaddrs()[0]
    const ask = async (bytes: Uint8Array): Promise<string> => {
      const stream = await b.host.dialProtocol(addr, BLOB_PROTOCOL)
      stream.send(bytes)
      return (await readAll(stream)).toString('latin1')
    }
    expect(await ask(encodeFrame(new Uint8Array([3, 1, 2, 3, 4])))).toMatch(/malformed blob request|blob id must be/)
    expect(await ask(encodeFrame(encodeBlobRequest({ sha256: 'not-a-hash', offset: 0, length: 0 })))).toMatch(/64 lowercase hex/)
    expect(await ask(new Uint8Array([0xff, 0xff, 0xff, 0x7f]))).toMatch(/exceeds the limit/)
    expect(await ask(encodeFrame(encodeBlobRequest({ sha256, offset: 999, length: 0 })))).toMatch(/past the end/)
    await b.host.dial(addr)
    expect(Buffer.from(await b.blobs.read((await b.service.ensure(sha256)).sha256)).toString()).toBe('still here')
  })
})
