// Content-addressed blobs (raw data, sequences, DICOM): a blob's name is the sha-256 of its bytes in
// lower-case hex, stored at <dir>/<first 2 hex>/<hash> so that no directory holds millions of entries.
// A blob is written to a temp file in <dir>/tmp (same file system, so the rename is atomic), hashed
// while written, fsynced and renamed into place: a blob under its name is always complete and correct.
// One process owns a directory: opening it deletes leftover temp files.
import { createHash, randomBytes } from 'node:crypto'
import { promises as fs } from 'node:fs'
import path from 'node:path'
import { SHA256_HEX } from '../../protocol/blob.ts'
import { fsyncDir, writeFully } from './durable-fs.ts'

const TEMP_DIR = 'tmp'
const FAN_OUT_DIR = /^[0-9a-f]{2}$/
/** Read size of {@link BlobStore.createReadStream}: large enough for throughput, small enough to interleave. */
const READ_CHUNK_BYTES = 256 * 1024

export interface BlobInfo {
  sha256: string
  size: number
}

export interface PutStreamOptions {
  /** The hash the bytes must have (as when fetching a blob by hash); on mismatch nothing is kept. */
  expectedSha256?: string
  /** Refuse sources longer than this. Default: no bound. */
  maxBytes?: number
  signal?: AbortSignal
}

export interface ReadOptions {
  /** First byte. Default 0. */
  offset?: number
  /** Bytes wanted; fewer are returned at the end of the blob. Default: to the end. */
  length?: number
}

export interface ReadStreamOptions {
  /** First byte. Default 0. */
  start?: number
  /** One past the last byte (exclusive, like `Uint8Array.subarray`, unlike `fs.createReadStream`). Default: the size. */
  end?: number
}

export class InvalidBlobHashError extends Error {
  override name = 'InvalidBlobHashError'
}

export class BlobHashMismatchError extends Error {
  override name = 'BlobHashMismatchError'
}

export class BlobTooLargeError extends Error {
  override name = 'BlobTooLargeError'
}

export class BlobNotFoundError extends Error {
  override name = 'BlobNotFoundError'
}

export class BlobRangeError extends Error {
  override name = 'BlobRangeError'
}

export class BlobStore {
  readonly dir: string

  private constructor (dir: string) {
    this.dir = dir
  }

  /** Opens (creating if needed) the store in `dir` and removes temp files a crash left behind. */
  static async open (dir: string): Promise<BlobStore> {
    await fs.mkdir(dir, { recursive: true })
    await fs.rm(path.join(dir, TEMP_DIR), { recursive: true, force: true })
    await fs.mkdir(path.join(dir, TEMP_DIR))
    return new BlobStore(dir)
  }

  async put (bytes: Uint8Array): Promise<BlobInfo> {
    const sha256 = createHash('sha256').update(bytes).digest('hex')
    if (await this.has(sha256)) return { sha256, size: bytes.byteLength }
    return await this.putStream([bytes], { expectedSha256: sha256 })
  }

  /** Stores the bytes of `source`, verifying `expectedSha256` if given, and returns their hash and size. */
  async putStream (source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>, options: PutStreamOptions = {}): Promise<BlobInfo> {
    if (options.expectedSha256 !== undefined) assertBlobHash(options.expectedSha256)
    const maxBytes = options.maxBytes ?? Number.POSITIVE_INFINITY
    const temp = path.join(this.dir, TEMP_DIR, `${randomBytes(12).toString('hex')}.part`)
    const hash = createHash('sha256')
    let size = 0
    try {
      const handle = await fs.open(temp, 'wx')
      try {
        for await (const chunk of source) {
          options.signal?.throwIfAborted()
          size += chunk.byteLength
          if (size > maxBytes) throw new BlobTooLargeError(`blob exceeds the bound of ${maxBytes} bytes`)
          hash.update(chunk)
          await writeFully(handle, chunk, size - chunk.byteLength)
        }
        options.signal?.throwIfAborted()
        await handle.sync()
      } finally {
        await handle.close()
      }
      const sha256 = hash.digest('hex')
      if (options.expectedSha256 !== undefined && sha256 !== options.expectedSha256) {
        throw new BlobHashMismatchError(`expected sha-256 ${options.expectedSha256}, the bytes hash to ${sha256}`)
      }
      const target = this.pathOf(sha256)
      const fanOut = path.dirname(target)
      if (await fs.mkdir(fanOut, { recursive: true }) !== undefined) await fsyncDir(this.dir)
      // Renaming over an existing blob (a concurrent put of the same bytes) is harmless: same content.
      // Windows refuses to replace a file another handle has open; the blob is there all the same.
      try {
        await fs.rename(temp, target)
      } catch (err) {
        if (!(await this.has(sha256))) throw err
        await fs.rm(temp, { force: true })
        return { sha256, size }
      }
      await fsyncDir(fanOut)
      return { sha256, size }
    } catch (err) {
      await fs.rm(temp, { force: true }).catch(() => {})
      throw err
    }
  }

  async has (sha256: string): Promise<boolean> {
    return (await this.stat(sha256)) !== undefined
  }

  async stat (sha256: string): Promise<{ size: number } | undefined> {
    try {
      const stats = await fs.stat(this.pathOf(sha256))
      return { size: stats.size }
    } catch (err) {
      if (isNotFound(err)) return undefined
      throw err
    }
  }

  /** Reads a range of a blob; throws {@link BlobNotFoundError} or, for an offset past the end, {@link BlobRangeError}. */
  async read (sha256: string, options: ReadOptions = {}): Promise<Uint8Array> {
    const offset = options.offset ?? 0
    assertByteIndex(offset, 'offset')
    if (options.length !== undefined) assertByteIndex(options.length, 'length')
    const handle = await this.openBlob(sha256)
    try {
      const size = (await handle.stat()).size
      if (offset > size) throw new BlobRangeError(`offset ${offset} is past the end of a ${size}-byte blob`)
      const length = Math.min(options.length ?? size - offset, size - offset)
      const out = new Uint8Array(length)
      let done = 0
      while (done < length) {
        const { bytesRead } = await handle.read(out, done, length - done, offset + done)
        if (bytesRead === 0) throw new BlobRangeError(`blob ${sha256} ended early`)
        done += bytesRead
      }
      return out
    } finally {
      await handle.close()
    }
  }

  /**
   * The bytes of a blob from `start` to `end` (exclusive), in chunks; for resuming a transfer. Arguments
   * are checked at once; the blob is opened on the first read (so an unread stream holds no file), and a
   * missing blob or a start past the end rejects there.
   */
  createReadStream (sha256: string, options: ReadStreamOptions = {}): AsyncIterable<Uint8Array> {
    assertBlobHash(sha256)
    const start = options.start ?? 0
    assertByteIndex(start, 'start')
    if (options.end !== undefined) {
      assertByteIndex(options.end, 'end')
      if (options.end < start) throw new BlobRangeError(`end ${options.end} is before start ${start}`)
    }
    return this.readChunks(sha256, start, options.end)
  }

  /** Every stored hash, sorted. */
  async list (): Promise<string[]> {
    const hashes: string[] = []
    for (const dir of (await fs.readdir(this.dir)).filter((name) => FAN_OUT_DIR.test(name))) {
      for (const name of await fs.readdir(path.join(this.dir, dir))) {
        if (SHA256_HEX.test(name) && name.startsWith(dir)) hashes.push(name)
      }
    }
    return hashes.sort()
  }

  /**
   * Removes a blob; false if it was not there. The removal is not fsynced: a blob that comes back after
   * a crash is still correct and is removed again by whoever removed it.
   */
  async remove (sha256: string): Promise<boolean> {
    try {
      await fs.unlink(this.pathOf(sha256))
      return true
    } catch (err) {
      if (isNotFound(err)) return false
      throw err
    }
  }

  private async * readChunks (sha256: string, start: number, endOption: number | undefined): AsyncGenerator<Uint8Array> {
    const handle = await this.openBlob(sha256)
    try {
      const size = (await handle.stat()).size
      const end = Math.min(endOption ?? size, size)
      if (start > size) throw new BlobRangeError(`start ${start} is past the end of a ${size}-byte blob`)
      let position = start
      while (position < end) {
        const chunk = new Uint8Array(Math.min(READ_CHUNK_BYTES, end - position))
        const { bytesRead } = await handle.read(chunk, 0, chunk.byteLength, position)
        if (bytesRead === 0) throw new BlobRangeError(`blob ${sha256} ended early`)
        position += bytesRead
        yield bytesRead === chunk.byteLength ? chunk : chunk.subarray(0, bytesRead)
      }
    } finally {
      await handle.close()
    }
  }

  /** Path of a blob; validates the hash first, so no caller input ever reaches the file system unchecked. */
  private pathOf (sha256: string): string {
    assertBlobHash(sha256)
    return path.join(this.dir, sha256.slice(0, 2), sha256)
  }

  private async openBlob (sha256: string): Promise<fs.FileHandle> {
    try {
      return await fs.open(this.pathOf(sha256), 'r')
    } catch (err) {
      if (isNotFound(err)) throw new BlobNotFoundError(`no blob ${sha256}`)
      throw err
    }
  }
}

export function assertBlobHash (sha256: string): void {
  if (typeof sha256 !== 'string' || !SHA256_HEX.test(sha256)) {
    throw new InvalidBlobHashError('a blob hash is 64 lower-case hex characters (sha-256)')
  }
}

function assertByteIndex (value: number, name: string): void {
  if (!Number.isSafeInteger(value) || value < 0) throw new BlobRangeError(`${name} must be a non-negative integer (got ${value})`)
}

function isNotFound (err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException).code
  // ENOTDIR: a fan-out name that is a file; either way there is no such blob.
  return code === 'ENOENT' || code === 'ENOTDIR'
}
