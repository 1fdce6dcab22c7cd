// An append-only log of binary records (one per Yjs update) for one document.
//
//   file   := header • record*
//   header := "SHUL" • u32le(version = 1)
//   record := u32le(payload length, > 0) • u32le(crc32(payload)) • payload
//
// A crash can leave a torn or corrupt tail; opening keeps every record before it, truncates the file
// back to the last good record and reports the problem instead of throwing, so one bad write never
// costs a lab the document. Appends that land in the same tick share one fsync (group commit), and
// an append's promise resolves only once its record is on disk, so a caller may acknowledge it then.
// Compaction writes a snapshot to a temp file and renames it over the log.
import { promises as fs } from 'node:fs'
import path from 'node:path'
import { crc32 } from 'node:zlib'
import { fsyncDir, replaceFileDurably, writeFileDurably, writeFully } from './durable-fs.ts'

export const UPDATE_LOG_MAGIC = 'SHUL'
export const UPDATE_LOG_VERSION = 1
/** magic (4 bytes) • version (u32 LE) */
export const UPDATE_LOG_HEADER_BYTES = 8
/** payload length (u32 LE) • CRC-32 of the payload (u32 LE) */
export const RECORD_HEADER_BYTES = 8
/**
 * A Yjs update is rarely more than a few KiB and a whole-document snapshot a few MiB (bulk data lives
 * in blobs), so a longer length read from disk is corruption, not a record.
 */
export const DEFAULT_MAX_RECORD_BYTES = 64 * 1024 * 1024

export interface UpdateLogOptions {
  /** Repaired problems (a torn or corrupt tail). Default: `console.warn`. */
  onWarning?: (message: string) => void
  /** Longest payload written or accepted when reading. Default {@link DEFAULT_MAX_RECORD_BYTES}. */
  maxRecordBytes?: number
}

export interface OpenedUpdateLog {
  log: UpdateLog
  /** Every valid record, oldest first. */
  records: Uint8Array[]
}

/** The file is not an update log (wrong magic); it is left untouched. */
export class UpdateLogFormatError extends Error {
  override name = 'UpdateLogFormatError'
}

/** The file was written by a newer format than this peer understands; it is left untouched. */
export class UpdateLogVersionError extends Error {
  override name = 'UpdateLogVersionError'
}

export class UpdateLogClosedError extends Error {
  override name = 'UpdateLogClosedError'
}

/**
 * A write or fsync failed. After a failed fsync the kernel may have dropped the dirty pages, so what is
 * on disk is unknown: the log refuses further writes until it is reopened (which re-reads the file).
 */
export class UpdateLogFailedError extends Error {
  override name = 'UpdateLogFailedError'
}

/** An empty payload (indistinguishable from a zero-filled tail) or one over the size bound. */
export class InvalidRecordError extends Error {
  override name = 'InvalidRecordError'
}

interface Waiter {
  resolve: () => void
  reject: (err: Error) => void
}

/** Appends waiting to be written together; its write is already queued when it is created. */
interface Batch {
  records: Uint8Array[]
  waiters: Waiter[]
}

interface Scan {
  records: Uint8Array[]
  /** bytes of the file that are valid: header and whole records */
  validBytes: number
  /** what is wrong after `validBytes`, if anything */
  problem?: string
}

export class UpdateLog {
  readonly path: string
  private readonly tempPath: string
  private readonly maxRecordBytes: number
  private size: number
  private count: number
  private syncs = 0
  private openBatch: Batch | undefined
  /** Every file operation runs in this chain, one at a time, in call order. */
  private queue: Promise<void> = Promise.resolve()
  private closed = false
  private failure: Error | undefined

  private constructor (filePath: string, size: number, count: number, maxRecordBytes: number) {
    this.path = filePath
    this.tempPath = tempPathOf(filePath)
    this.size = size
    this.count = count
    this.maxRecordBytes = maxRecordBytes
  }

  /**
   * Opens the log at `filePath`, creating it if missing, and returns it with every valid record.
   * A damaged tail is cut off and reported through `onWarning`; a file that is not an update log or is
   * of a newer version throws and is left as it is.
   */
  static async open (filePath: string, options: UpdateLogOptions = {}): Promise<OpenedUpdateLog> {
    const onWarning = options.onWarning ?? ((message: string) => console.warn(`scanhub:storage ${message}`))
    const maxRecordBytes = options.maxRecordBytes ?? DEFAULT_MAX_RECORD_BYTES
    // A temp file is a compaction or creation that never reached its rename: the log is the truth.
    await fs.rm(tempPathOf(filePath), { force: true })

    let bytes: Uint8Array
    try {
      bytes = await fs.readFile(filePath)
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
      await replaceFileDurably(filePath, tempPathOf(filePath), encodeHeader())
      return { log: new UpdateLog(filePath, UPDATE_LOG_HEADER_BYTES, 0, maxRecordBytes), records: [] }
    }

    const scan = scanUpdateLog(bytes, maxRecordBytes, filePath)
    if (scan.problem !== undefined) {
      // Damage in the middle (a flipped bit, a bad sector) must not cost every record after it: look
      // for whole records beyond the damage, keep the bytes that cannot be read in a side file, and
      // leave what is lost to the lab's peers, which send it at the next sync (their state vectors
      // show what this peer lacks).
      const salvage = salvageAfter(bytes, scan.validBytes, maxRecordBytes)
      const damagedBytes = salvage.damaged.reduce((n, [from, to]) => n + to - from, 0)
      const sideFile = damagedBytes > 0 ? await keepDamagedBytes(filePath, bytes, salvage.damaged) : undefined
      const kept = sideFile !== undefined ? `, kept in ${path.basename(sideFile)}` : ''
      if (salvage.records.length > 0) {
        onWarning(`${path.basename(filePath)}: ${scan.problem}; ${damagedBytes} bytes could not be read${kept}; ` +
          `kept ${scan.records.length} records before and recovered ${salvage.records.length} after the damage ` +
          '(what was lost comes back from the lab\'s peers at the next sync)')
        scan.records.push(...salvage.records)
        const rewritten = concat([encodeHeader(), ...scan.records.map(encodeRecord)])
        await replaceFileDurably(filePath, tempPathOf(filePath), rewritten)
        return { log: new UpdateLog(filePath, rewritten.byteLength, scan.records.length, maxRecordBytes), records: scan.records }
      }
      const dropped = bytes.byteLength - scan.validBytes
      onWarning(`${path.basename(filePath)}: ${scan.problem}; kept ${scan.records.length} records, ` +
        `dropped the last ${dropped} bytes${kept}`)
      await repair(filePath, scan.validBytes)
    }
    const size = Math.max(scan.validBytes, UPDATE_LOG_HEADER_BYTES)
    return { log: new UpdateLog(filePath, size, scan.records.length, maxRecordBytes), records: scan.records }
  }

  /** Records in the file, counting those written but not those still waiting for their fsync. */
  get recordCount (): number { return this.count }

  /** Bytes in the file, header included. */
  get byteLength (): number { return this.size }

  /** How many fsyncs appends have cost; with group commit it is far below the number of appends. */
  get syncCount (): number { return this.syncs }

  /**
   * Appends one record. Resolves once it is on disk; rejects if the write or fsync failed, after which
   * every later append rejects too. The payload is copied, so the caller may reuse its buffer.
   */
  append (payload: Uint8Array): Promise<void> {
    const refusal = this.refusal(payload)
    if (refusal !== undefined) return Promise.reject(refusal)
    const batch = this.currentBatch()
    batch.records.push(encodeRecord(payload))
    return new Promise((resolve, reject) => batch.waiters.push({ resolve, reject }))
  }

  /** Resolves once every record appended so far is on disk; rejects if any write failed. */
  flush (): Promise<void> {
    return this.enqueue(async () => {
      if (this.failure !== undefined) throw this.failedError()
    })
  }

  /**
   * Replaces every record appended before this call with `snapshot`, atomically. Appends made before
   * the call are written (and acknowledged) first; appends made after it land after the snapshot.
   */
  compact (snapshot: Uint8Array): Promise<void> {
    const refusal = this.refusal(snapshot)
    if (refusal !== undefined) return Promise.reject(refusal)
    const bytes = concat([encodeHeader(), encodeRecord(snapshot)])
    // Seal the open batch: its write is already queued ahead of the compaction.
    this.openBatch = undefined
    return this.enqueue(async () => {
      if (this.failure !== undefined) throw this.failedError()
      try {
        await writeFileDurably(this.tempPath, bytes)
        await fs.rename(this.tempPath, this.path)
      } catch (err) {
        // Nothing was renamed: the old log is intact and stays in use.
        await fs.rm(this.tempPath, { force: true }).catch(() => {})
        throw err
      }
      this.size = bytes.byteLength
      this.count = 1
      try {
        await fsyncDir(path.dirname(this.path))
      } catch (err) {
        // The rename may not survive a power loss, and with it whatever is appended next.
        this.failure = err as Error
        throw this.failedError()
      }
    })
  }

  /** Waits for queued writes (their promises settle as usual), then refuses further operations. */
  async close (): Promise<void> {
    this.closed = true
    this.openBatch = undefined
    await this.queue
  }

  private refusal (payload: Uint8Array): Error | undefined {
    if (this.closed) return new UpdateLogClosedError(`${path.basename(this.path)} is closed`)
    if (this.failure !== undefined) return this.failedError()
    if (payload.byteLength === 0) return new InvalidRecordError('a record must not be empty')
    if (payload.byteLength > this.maxRecordBytes) {
      return new InvalidRecordError(`a record of ${payload.byteLength} bytes exceeds the bound of ${this.maxRecordBytes}`)
    }
    return undefined
  }

  private failedError (): UpdateLogFailedError {
    return new UpdateLogFailedError(`${path.basename(this.path)}: an earlier write failed; reopen the log`, { cause: this.failure })
  }

  private currentBatch (): Batch {
    if (this.openBatch !== undefined) return this.openBatch
    const batch: Batch = { records: [], waiters: [] }
    this.openBatch = batch
    void this.enqueue(async () => {
      // Let every append of this tick (and those made while earlier writes ran) join the batch.
      await new Promise<void>((resolve) => setImmediate(resolve))
      if (this.openBatch === batch) this.openBatch = undefined
      await this.writeBatch(batch)
    })
    return batch
  }

  private async writeBatch (batch: Batch): Promise<void> {
    if (this.failure !== undefined) {
      const err = this.failedError()
      for (const waiter of batch.waiters) waiter.reject(err)
      return
    }
    const bytes = concat(batch.records)
    try {
      // The file is opened per batch rather than held open: a peer keeps years of patient documents,
      // and one descriptor each would exhaust the process limit; the fsync costs far more anyway.
      const handle = await fs.open(this.path, 'r+')
      try {
        await writeFully(handle, bytes, this.size)
        // fdatasync also persists the new file length, which is all the metadata a reader needs.
        await handle.datasync()
      } finally {
        await handle.close()
      }
    } catch (err) {
      this.failure = err as Error
      const failed = this.failedError()
      for (const waiter of batch.waiters) waiter.reject(failed)
      return
    }
    this.size += bytes.byteLength
    this.count += batch.records.length
    this.syncs += 1
    for (const waiter of batch.waiters) waiter.resolve()
  }

  private enqueue (op: () => Promise<void>): Promise<void> {
    const run = this.queue.then(op)
    this.queue = run.catch(() => {})
    return run
  }
}

/**
 * Parses a whole log file: the valid records and where the valid part ends. Throws only for a file
 * that is not an update log at all or is of a newer version.
 */
export function scanUpdateLog (file: Uint8Array, maxRecordBytes = DEFAULT_MAX_RECORD_BYTES, name = 'file'): Scan {
  // Records are views of the file's bytes; a plain Uint8Array view, so that callers never see a Buffer.
  const bytes = new Uint8Array(file.buffer, file.byteOffset, file.byteLength)
  const header = encodeHeader()
  if (bytes.byteLength < UPDATE_LOG_HEADER_BYTES) {
    // A header is written by rename, so a short one should not happen; if it is a prefix of ours the
    // file is ours and empty.
    if (header.subarray(0, bytes.byteLength).every((b, i) => b === bytes[i])) {
      return { records: [], validBytes: 0, problem: `torn file header (${bytes.byteLength} bytes)` }
    }
    throw new UpdateLogFormatError(`${name} is not an update log (${bytes.byteLength} bytes, wrong magic)`)
  }
  if (!header.subarray(0, 4).every((b, i) => b === bytes[i])) {
    throw new UpdateLogFormatError(`${name} is not an update log (wrong magic)`)
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const version = view.getUint32(4, true)
  if (version !== UPDATE_LOG_VERSION) {
    throw new UpdateLogVersionError(`${name} is update log version ${version}; this peer reads version ${UPDATE_LOG_VERSION}`)
  }

  const records: Uint8Array[] = []
  let offset = UPDATE_LOG_HEADER_BYTES
  const at = (): string => `record ${records.length} at byte ${offset}`
  while (offset < bytes.byteLength) {
    const remaining = bytes.byteLength - offset
    if (remaining < RECORD_HEADER_BYTES) {
      return { records, validBytes: offset, problem: `torn record header (${remaining} of ${RECORD_HEADER_BYTES} bytes) at ${at()}` }
    }
    const length = view.getUint32(offset, true)
    const crc = view.getUint32(offset + 4, true)
    if (length === 0) {
      // Zero-filled space (a file system's torn extension) would otherwise read as empty records.
      return { records, validBytes: offset, problem: `zero length at ${at()}` }
    }
    if (length > maxRecordBytes) {
      return { records, validBytes: offset, problem: `length ${length} exceeds the bound of ${maxRecordBytes} at ${at()}` }
    }
    if (remaining - RECORD_HEADER_BYTES < length) {
      return { records, validBytes: offset, problem: `torn payload (${remaining - RECORD_HEADER_BYTES} of ${length} bytes) at ${at()}` }
    }
    const payload = bytes.subarray(offset + RECORD_HEADER_BYTES, offset + RECORD_HEADER_BYTES + length)
    if (crc32(payload) !== crc) {
      return { records, validBytes: offset, problem: `CRC mismatch at ${at()}` }
    }
    records.push(payload)
    offset += RECORD_HEADER_BYTES + length
  }
  return { records, validBytes: offset }
}

/** Most payload bytes checksummed while looking for records after damage, so that a large damaged log opens in seconds. */
const SALVAGE_CRC_BUDGET_BYTES = 256 * 1024 * 1024

/**
 * Whole records after the damage that starts at `from`: from each byte on, the first position where a
 * record's length is plausible and its CRC matches starts a run of records, scanned like the log;
 * a further problem starts another search. What lies between is returned as damaged ranges. A torn
 * tail yields no records and one damaged range up to the end.
 */
export function salvageAfter (bytes: Uint8Array, from: number, maxRecordBytes = DEFAULT_MAX_RECORD_BYTES): { records: Uint8Array[], damaged: Array<[number, number]> } {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const records: Uint8Array[] = []
  const damaged: Array<[number, number]> = []
  let budget = SALVAGE_CRC_BUDGET_BYTES
  let damageStart = from
  let offset = from + 1
  const recordAt = (at: number): Uint8Array | undefined => {
    const remaining = bytes.byteLength - at - RECORD_HEADER_BYTES
    if (remaining < 1) return undefined
    const length = view.getUint32(at, true)
    if (length === 0 || length > maxRecordBytes || length > remaining) return undefined
    budget -= length
    const payload = bytes.subarray(at + RECORD_HEADER_BYTES, at + RECORD_HEADER_BYTES + length)
    return crc32(payload) === view.getUint32(at + 4, true) ? payload : undefined
  }
  while (offset < bytes.byteLength && budget > 0) {
    const first = recordAt(offset)
    if (first === undefined) { offset++; continue }
    damaged.push([damageStart, offset])
    let record: Uint8Array | undefined = first
    while (record !== undefined) {
      records.push(record)
      offset += RECORD_HEADER_BYTES + record.byteLength
      record = offset < bytes.byteLength ? recordAt(offset) : undefined
    }
    damageStart = offset
    offset++
  }
  if (damageStart < bytes.byteLength) damaged.push([damageStart, bytes.byteLength])
  return { records, damaged }
}

/** Writes the damaged ranges of a log beside it (`NAME.damaged-TIME`), for whoever wants to look. */
async function keepDamagedBytes (filePath: string, bytes: Uint8Array, ranges: Array<[number, number]>): Promise<string> {
  const side = `${filePath}.damaged-${new Date().toISOString().replace(/[:.]/g, '-')}`
  await writeFileDurably(side, concat(ranges.map(([from, to]) => bytes.subarray(from, to))))
  await fsyncDir(path.dirname(filePath))
  return side
}

export function encodeRecord (payload: Uint8Array): Uint8Array {
  const record = new Uint8Array(RECORD_HEADER_BYTES + payload.byteLength)
  const view = new DataView(record.buffer)
  view.setUint32(0, payload.byteLength, true)
  view.setUint32(4, crc32(payload), true)
  record.set(payload, RECORD_HEADER_BYTES)
  return record
}

function encodeHeader (): Uint8Array {
  const header = new Uint8Array(UPDATE_LOG_HEADER_BYTES)
  header.set(new TextEncoder().encode(UPDATE_LOG_MAGIC), 0)
  new DataView(header.buffer).setUint32(4, UPDATE_LOG_VERSION, true)
  return header
}

/** Cuts the file back to its valid part and makes the cut durable; a file without a whole header gets a fresh one. */
async function repair (filePath: string, validBytes: number): Promise<void> {
  if (validBytes < UPDATE_LOG_HEADER_BYTES) {
    await replaceFileDurably(filePath, tempPathOf(filePath), encodeHeader())
    return
  }
  const handle = await fs.open(filePath, 'r+')
  try {
    await handle.truncate(validBytes)
    await handle.sync()
  } finally {
    await handle.close()
  }
}

function tempPathOf (filePath: string): string {
  return `${filePath}.tmp`
}

function concat (parts: Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0]
  const total = parts.reduce((sum, part) => sum + part.byteLength, 0)
  const out = new Uint8Array(total)
  let offset = 0
  for (const part of parts) {
    out.set(part, offset)
    offset += part.byteLength
  }
  return out
}
