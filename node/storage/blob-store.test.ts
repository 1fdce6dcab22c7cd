import { createHash } from 'node:crypto'
import { promises as fs } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { runBlobStoreConformance } from './blob-store.conformance.ts'
import { BlobStore } from './blob-store.ts'

async function tempDir (): Promise<string> {
  return await fs.mkdtemp(path.join(os.tmpdir(), 'scanhub-blob-store-'))
}

runBlobStoreConformance('BlobStore (files)', async () => {
  const dir = await tempDir()
  return { store: await BlobStore.open(dir), teardown: async () => await fs.rm(dir, { recursive: true, force: true }) }
})

describe('BlobStore on disk', () => {
  let dir: string

  beforeEach(async () => {
    dir = await tempDir()
  })

  afterEach(async () => {
    await fs.rm(dir, { recursive: true, force: true })
  })

  it('fans blobs out by the first two hex digits', async () => {
    const store = await BlobStore.open(dir)
    const { sha256 } = await store.put(Uint8Array.of(1, 2, 3))
    expect(await fs.readFile(path.join(dir, sha256.slice(0, 2), sha256))).toEqual(Buffer.from([1, 2, 3]))
    expect(await fs.readdir(path.join(dir, 'tmp'))).toEqual([])
  })

  it('removes temp files a crash left behind when it opens', async () => {
    await fs.mkdir(path.join(dir, 'tmp'), { recursive: true })
    await fs.writeFile(path.join(dir, 'tmp', 'f00.part'), 'half a raw file')
    const store = await BlobStore.open(dir)
    expect(await fs.readdir(path.join(dir, 'tmp'))).toEqual([])
    expect(await store.list()).toEqual([])
  })

  it('leaves no temp file behind after a refused stream', async () => {
    const store = await BlobStore.open(dir)
    const other = createHash('sha256').update('other').digest('hex')
    await expect(store.putStream([Uint8Array.of(1)], { expectedSha256: other })).rejects.toHaveProperty('name', 'BlobHashMismatchError')
    await expect(store.putStream([new Uint8Array(10)], { maxBytes: 5 })).rejects.toHaveProperty('name', 'BlobTooLargeError')
    expect(await fs.readdir(path.join(dir, 'tmp'))).toEqual([])
    expect((await fs.readdir(dir)).sort()).toEqual(['tmp'])
  })

  it('lists only well-formed blob names in their own fan-out directory', async () => {
    const store = await BlobStore.open(dir)
    const { sha256 } = await store.put(Uint8Array.of(4, 5, 6))
    const misplaced = createHash('sha256').update('x').digest('hex')
    await fs.mkdir(path.join(dir, 'ff'), { recursive: true })
    await fs.writeFile(path.join(dir, 'ff', misplaced.startsWith('ff') ? 'x' : misplaced), 'wrong place')
    await fs.writeFile(path.join(dir, sha256.slice(0, 2), 'notes.txt'), 'stray')
    await fs.writeFile(path.join(dir, 'zz'), 'stray')
    expect(await store.list()).toEqual([sha256])
  })

  it('keeps blobs across a reopen', async () => {
    const first = await BlobStore.open(dir)
    const { sha256 } = await first.put(new TextEncoder().encode('k-space'))
    const second = await BlobStore.open(dir)
    expect(new TextDecoder().decode(await second.read(sha256))).toBe('k-space')
  })
})
