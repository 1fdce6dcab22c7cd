// The behaviour every blob store must share, as a suite each implementation runs with its own setup
// (the file store here; an in-memory or IndexedDB one later), in the manner of automerge-repo's
// runStorageAdapterTests. Errors are checked by `.name`, so implementations need not share classes.
import { createHash } from 'node:crypto'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'

export interface BlobStoreUnderTest {
  put (bytes: Uint8Array): Promise<{ sha256: string, size: number }>
  putStream (source: AsyncIterable<Uint8Array>, options?: { expectedSha256?: string, maxBytes?: number, signal?: AbortSignal }): Promise<{ sha256: string, size: number }>
  has (sha256: string): Promise<boolean>
  stat (sha256: string): Promise<{ size: number } | undefined>
  read (sha256: string, options?: { offset?: number, length?: number }): Promise<Uint8Array>
  createReadStream (sha256: string, options?: { start?: number, end?: number }): AsyncIterable<Uint8Array>
  list (): Promise<string[]>
  remove (sha256: string): Promise<boolean>
}

export interface BlobStoreSetup {
  store: BlobStoreUnderTest
  teardown: () => Promise<void>
}

const ABC_SHA256 = 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad'
const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'

function bytesOf (length: number, seed = 1): Uint8Array {
  return Uint8Array.from({ length }, (_, i) => (i * 131 + seed * 7 + (i >> 8)) & 0xff)
}

function sha256 (bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex')
}

async function * chunks (bytes: Uint8Array, size: number): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < bytes.byteLength; i += size) yield bytes.subarray(i, i + size)
}

async function collect (source: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = []
  for await (const chunk of source) parts.push(Uint8Array.from(chunk))
  return Uint8Array.from(Buffer.concat(parts))
}

/** Compares bytes in one call; a deep equality over hundreds of KiB takes seconds. */
function expectBytes (actual: Uint8Array, expected: Uint8Array): void {
  expect(actual).toBeInstanceOf(Uint8Array)
  expect(actual.byteLength).toBe(expected.byteLength)
  expect(Buffer.from(actual.buffer, actual.byteOffset, actual.byteLength).equals(expected)).toBe(true)
}

export function runBlobStoreConformance (name: string, setup: () => Promise<BlobStoreSetup>): void {
  describe(`blob store conformance: ${name}`, () => {
    let store: BlobStoreUnderTest
    let teardown: () => Promise<void>

    beforeEach(async () => {
      ({ store, teardown } = await setup())
    })

    afterEach(async () => {
      await teardown()
    })

    it('names a blob by the sha-256 of its bytes', async () => {
      expect(await store.put(new TextEncoder().encode('abc'))).toEqual({ sha256: ABC_SHA256, size: 3 })
      expect(await store.put(new Uint8Array(0))).toEqual({ sha256: EMPTY_SHA256, size: 0 })
      expect(await store.has(ABC_SHA256)).toBe(true)
      expect(await store.stat(ABC_SHA256)).toEqual({ size: 3 })
      expectBytes(await store.read(ABC_SHA256), new TextEncoder().encode('abc'))
      expectBytes(await store.read(EMPTY_SHA256), new Uint8Array(0))
    })

    it('reads byte ranges', async () => {
      const bytes = bytesOf(10_000)
      const { sha256: hash } = await store.put(bytes)
      expectBytes(await store.read(hash, { offset: 100, length: 50 }), bytes.subarray(100, 150))
      expectBytes(await store.read(hash, { offset: 9_990, length: 50 }), bytes.subarray(9_990))
      expectBytes(await store.read(hash, { offset: 10_000 }), new Uint8Array(0))
      expectBytes(await store.read(hash, { length: 0 }), new Uint8Array(0))
      await expect(store.read(hash, { offset: 10_001 })).rejects.toHaveProperty('name', 'BlobRangeError')
      await expect(store.read(hash, { offset: -1 })).rejects.toHaveProperty('name', 'BlobRangeError')
      await expect(store.read(hash, { offset: 1.5 })).rejects.toHaveProperty('name', 'BlobRangeError')
    })

    it('streams whole blobs and ranges, for resuming a transfer', async () => {
      const bytes = bytesOf(700_000, 3)
      const { sha256: hash } = await store.put(bytes)
      expectBytes(await collect(store.createReadStream(hash)), bytes)
      expectBytes(await collect(store.createReadStream(hash, { start: 300_001 })), bytes.subarray(300_001))
      expectBytes(await collect(store.createReadStream(hash, { start: 10, end: 20 })), bytes.subarray(10, 20))
      expectBytes(await collect(store.createReadStream(hash, { end: 800_000 })), bytes)
      expectBytes(await collect(store.createReadStream(hash, { start: 700_000 })), new Uint8Array(0))
      await expect(collect(store.createReadStream(hash, { start: 700_001 }))).rejects.toHaveProperty('name', 'BlobRangeError')
      expect(() => store.createReadStream(hash, { start: 5, end: 4 })).toThrow(expect.objectContaining({ name: 'BlobRangeError' }))
    })

    it('stores a stream under the same hash as the same bytes put at once', async () => {
      const bytes = bytesOf(123_457, 5)
      const expected = sha256(bytes)
      expect(await store.putStream(chunks(bytes, 4096))).toEqual({ sha256: expected, size: bytes.byteLength })
      expect(await store.putStream(chunks(bytes, 1000), { expectedSha256: expected })).toEqual({ sha256: expected, size: bytes.byteLength })
      expect(await store.put(bytes)).toEqual({ sha256: expected, size: bytes.byteLength })
      expectBytes(await store.read(expected), bytes)
      expect(await store.list()).toEqual([expected])
    })

    it('keeps nothing when the bytes do not match the expected hash', async () => {
      const bytes = bytesOf(5_000, 7)
      const claimed = sha256(bytesOf(5_000, 8))
      await expect(store.putStream(chunks(bytes, 999), { expectedSha256: claimed })).rejects.toHaveProperty('name', 'BlobHashMismatchError')
      expect(await store.has(claimed)).toBe(false)
      expect(await store.has(sha256(bytes))).toBe(false)
      expect(await store.list()).toEqual([])
    })

    it('keeps nothing from a source over the size bound, a failing source or an aborted one', async () => {
      await expect(store.putStream(chunks(bytesOf(2_000), 300), { maxBytes: 1_999 })).rejects.toHaveProperty('name', 'BlobTooLargeError')
      expect(await store.putStream(chunks(bytesOf(2_000), 300), { maxBytes: 2_000 })).toHaveProperty('size', 2_000)
      await store.remove(sha256(bytesOf(2_000)))

      async function * failing (): AsyncGenerator<Uint8Array> {
        yield bytesOf(10)
        throw new Error('connection lost')
      }
      await expect(store.putStream(failing())).rejects.toThrow('connection lost')

      const controller = new AbortController()
      async function * aborted (): AsyncGenerator<Uint8Array> {
        yield bytesOf(10)
        controller.abort()
        yield bytesOf(10)
      }
      await expect(store.putStream(aborted(), { signal: controller.signal })).rejects.toHaveProperty('name', 'AbortError')
      expect(await store.list()).toEqual([])
    })

    it('refuses malformed hashes everywhere', async () => {
      const bad = ['', 'abc', ABC_SHA256.toUpperCase(), `${ABC_SHA256}0`, `../${ABC_SHA256.slice(3)}`, `${ABC_SHA256.slice(0, 63)}g`]
      for (const hash of bad) {
        await expect(store.has(hash)).rejects.toHaveProperty('name', 'InvalidBlobHashError')
        await expect(store.stat(hash)).rejects.toHaveProperty('name', 'InvalidBlobHashError')
        await expect(store.read(hash)).rejects.toHaveProperty('name', 'InvalidBlobHashError')
        await expect(store.remove(hash)).rejects.toHaveProperty('name', 'InvalidBlobHashError')
        expect(() => store.createReadStream(hash)).toThrow(expect.objectContaining({ name: 'InvalidBlobHashError' }))
        await expect(store.putStream(chunks(bytesOf(1), 1), { expectedSha256: hash })).rejects.toHaveProperty('name', 'InvalidBlobHashError')
      }
    })

    it('answers for a missing blob', async () => {
      expect(await store.has(ABC_SHA256)).toBe(false)
      expect(await store.stat(ABC_SHA256)).toBeUndefined()
      expect(await store.remove(ABC_SHA256)).toBe(false)
      await expect(store.read(ABC_SHA256)).rejects.toHaveProperty('name', 'BlobNotFoundError')
      await expect(collect(store.createReadStream(ABC_SHA256))).rejects.toHaveProperty('name', 'BlobNotFoundError')
    })

    it('lists sorted and removes', async () => {
      const hashes = await Promise.all([1, 2, 3, 4].map(async (seed) => (await store.put(bytesOf(100, seed))).sha256))
      expect(await store.list()).toEqual([...hashes].sort())
      expect(await store.remove(hashes[1])).toBe(true)
      expect(await store.has(hashes[1])).toBe(false)
      expect(await store.list()).toEqual([hashes[0], hashes[2], hashes[3]].sort())
    })

    it('stores concurrent puts of the same content once', async () => {
      const bytes = bytesOf(50_000, 9)
      const results = await Promise.all([
        ...Array.from({ length: 8 }, async () => await store.put(bytes)),
        ...Array.from({ length: 8 }, async (_, i) => await store.putStream(chunks(bytes, 1000 + i)))
      ])
      expect(new Set(results.map((result) => result.sha256))).toEqual(new Set([sha256(bytes)]))
      expect(await store.list()).toEqual([sha256(bytes)])
      expectBytes(await store.read(sha256(bytes)), bytes)
    })
  })
}
