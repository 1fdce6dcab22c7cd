// A store-only ZIP writer and reader for exam exports. DICOM and MRD data barely compress, and storing
// keeps both sides simple: the writer knows every size in advance (so the HTTP answer has a
// Content-Length and the CLI can show progress), and the reader is a walk over the central directory.
// No ZIP64: an entry or an archive of 4 GiB or more is refused with a clear error.
import { open } from 'node:fs/promises'
import { crc32 } from 'node:zlib'

export interface ZipEntry {
  /** the path inside the archive, with '/' separators */
  path: string
  size: number
  /** the bytes; called twice (once for the CRC-32, once to send), so it must give the same bytes each time */
  read: () => AsyncIterable<Uint8Array> | Iterable<Uint8Array>
}

export class ZipError extends Error {
  override name = 'ZipError'
}

const LOCAL_HEADER = 0x04034b50
const CENTRAL_HEADER = 0x02014b50
const END_OF_CENTRAL = 0x06054b50
const LIMIT = 0xffffffff
/** bit 11: names are UTF-8 */
const UTF8_FLAG = 0x0800
const LOCAL_HEADER_SIZE = 30
const CENTRAL_HEADER_SIZE = 46
const END_SIZE = 22

/** The archive's size in bytes, known before a byte is written. */
export function zipSize (entries: readonly ZipEntry[]): number {
  let total = END_SIZE
  for (const entry of entries) {
    const name = Buffer.byteLength(entry.path)
    total += LOCAL_HEADER_SIZE + name + entry.size + CENTRAL_HEADER_SIZE + name
  }
  return total
}

function dosDateTime (date: Date): { time: number, date: number } {
  return {
    time: (date.getHours() << 11) | (date.getMinutes() << 5) | Math.floor(date.getSeconds() / 2),
    date: ((Math.max(date.getFullYear(), 1980) - 1980) << 9) | ((date.getMonth() + 1) << 5) | date.getDate()
  }
}

/** The archive's bytes, entry by entry; checks that each entry has the size it claimed. */
export async function * writeZip (entries: readonly ZipEntry[], modified = new Date()): AsyncGenerator<Uint8Array> {
  if (zipSize(entries) >= LIMIT || entries.length >= 0xffff) throw new ZipError('the export is 4 GiB or more (or has 65535 files or more), beyond a ZIP without ZIP64: export fewer exams at a time')
  const stamp = dosDateTime(modified)
  const central: Buffer[] = []
  let offset = 0
  for (const entry of entries) {
    let crc = 0
    let seen = 0
    for await (const chunk of entry.read()) {
      crc = crc32(chunk, crc)
      seen += chunk.length
    }
    if (seen !== entry.size) throw new ZipError(`${entry.path} has ${seen} bytes, expected ${entry.size}`)
    const name = Buffer.from(entry.path, 'utf8')
    const local = Buffer.alloc(LOCAL_HEADER_SIZE)
    local.writeUInt32LE(LOCAL_HEADER, 0)
    local.writeUInt16LE(20, 4) // version needed: 2.0
    local.writeUInt16LE(UTF8_FLAG, 6)
    local.writeUInt16LE(0, 8) // stored
    local.writeUInt16LE(stamp.time, 10)
    local.writeUInt16LE(stamp.date, 12)
    local.writeUInt32LE(crc >>> 0, 14)
    local.writeUInt32LE(entry.size, 18)
    local.writeUInt32LE(entry.size, 22)
    local.writeUInt16LE(name.length, 26)
    local.writeUInt16LE(0, 28)
    yield local
    yield name
    let sent = 0
    for await (const chunk of entry.read()) {
      sent += chunk.length
      yield chunk
    }
    if (sent !== entry.size) throw new ZipError(`${entry.path} changed while it was sent`)
    const record = Buffer.alloc(CENTRAL_HEADER_SIZE)
    record.writeUInt32LE(CENTRAL_HEADER, 0)
    record.writeUInt16LE(0x031e, 4) // made by: Unix, 3.0
    record.writeUInt16LE(20, 6)
    record.writeUInt16LE(UTF8_FLAG, 8)
    record.writeUInt16LE(0, 10)
    record.writeUInt16LE(stamp.time, 12)
    record.writeUInt16LE(stamp.date, 14)
    record.writeUInt32LE(crc >>> 0, 16)
    record.writeUInt32LE(entry.size, 20)
    record.writeUInt32LE(entry.size, 24)
    record.writeUInt16LE(name.length, 28)
    record.writeUInt32LE((0o100644 << 16) >>> 0, 38) // a regular file, rw-r--r--
    record.writeUInt32LE(offset, 42)
    central.push(record, name)
    offset += LOCAL_HEADER_SIZE + name.length + entry.size
  }
  const directory = Buffer.concat(central)
  const end = Buffer.alloc(END_SIZE)
  end.writeUInt32LE(END_OF_CENTRAL, 0)
  end.writeUInt16LE(entries.length, 8)
  end.writeUInt16LE(entries.length, 10)
  end.writeUInt32LE(directory.length, 12)
  end.writeUInt32LE(offset, 16)
  yield directory
  yield end
}

export interface StoredEntry {
  path: string
  size: number
  crc32: number
  /** where the entry's bytes start in the archive */
  dataOffset: number
}

/** The entries of a ZIP file (stored ones only, as writeZip makes them), from its central directory. */
export async function readZipDirectory (file: string): Promise<StoredEntry[]> {
  const handle = await open(file, 'r')
  try {
    const { size } = await handle.stat()
    const tailSize = Math.min(size, END_SIZE + 0xffff)
    const tail = Buffer.alloc(tailSize)
    await handle.read(tail, 0, tailSize, size - tailSize)
    let at = -1
    for (let i = tailSize - END_SIZE; i >= 0; i--) {
      if (tail.readUInt32LE(i) === END_OF_CENTRAL) { at = i; break }
    }
    if (at < 0) throw new ZipError(`${file} is not a ZIP file (no end of central directory)`)
    const count = tail.readUInt16LE(at + 10)
    const directorySize = tail.readUInt32LE(at + 12)
    const directoryOffset = tail.readUInt32LE(at + 16)
    if (directoryOffset + directorySize > size) throw new ZipError(`${file} is truncated`)
    const directory = Buffer.alloc(directorySize)
    await handle.read(directory, 0, directorySize, directoryOffset)
    const entries: StoredEntry[] = []
    let p = 0
    for (let i = 0; i < count; i++) {
      if (p + CENTRAL_HEADER_SIZE > directory.length || directory.readUInt32LE(p) !== CENTRAL_HEADER) throw new ZipError(`${file}: damaged central directory`)
      const method = directory.readUInt16LE(p + 10)
      const crc = directory.readUInt32LE(p + 16)
      const compressed = directory.readUInt32LE(p + 20)
      const nameLength = directory.readUInt16LE(p + 28)
      const extraLength = directory.readUInt16LE(p + 30)
      const commentLength = directory.readUInt16LE(p + 32)
      const localOffset = directory.readUInt32LE(p + 42)
      const path = directory.subarray(p + CENTRAL_HEADER_SIZE, p + CENTRAL_HEADER_SIZE + nameLength).toString('utf8')
      if (method !== 0) throw new ZipError(`${file}: ${path} is compressed; only stored entries are read`)
      const local = Buffer.alloc(LOCAL_HEADER_SIZE)
      await handle.read(local, 0, LOCAL_HEADER_SIZE, localOffset)
      if (local.readUInt32LE(0) !== LOCAL_HEADER) throw new ZipError(`${file}: damaged entry ${path}`)
      const dataOffset = localOffset + LOCAL_HEADER_SIZE + local.readUInt16LE(26) + local.readUInt16LE(28)
      if (dataOffset + compressed > size) throw new ZipError(`${file}: ${path} is truncated`)
      entries.push({ path, size: compressed, crc32: crc, dataOffset })
      p += CENTRAL_HEADER_SIZE + nameLength + extraLength + commentLength
    }
    return entries
  } finally {
    await handle.close()
  }
}

/** An entry's bytes in chunks, with its CRC-32 checked at the end. */
export async function * readZipEntry (file: string, entry: StoredEntry, chunkSize = 1024 * 1024): AsyncGenerator<Uint8Array> {
  const handle = await open(file, 'r')
  try {
    let crc = 0
    for (let done = 0; done < entry.size;) {
      const chunk = Buffer.alloc(Math.min(chunkSize, entry.size - done))
      const { bytesRead } = await handle.read(chunk, 0, chunk.length, entry.dataOffset + done)
      if (bytesRead !== chunk.length) throw new ZipError(`${file}: ${entry.path} is truncated`)
      crc = crc32(chunk, crc)
      done += bytesRead
      yield chunk
    }
    if ((crc >>> 0) !== entry.crc32) throw new ZipError(`${file}: ${entry.path} is damaged (CRC-32 mismatch)`)
  } finally {
    await handle.close()
  }
}
