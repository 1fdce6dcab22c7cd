// A directory of Yjs documents, one update log each. Every update a document emits (local edit or
// remote sync) is appended to its log; logs are compacted to a snapshot in the background once they
// grow, and replayed when the store opens.
import { EventEmitter } from 'node:events'
import { promises as fs } from 'node:fs'
import path from 'node:path'
import * as Y from 'yjs'
import { DOC_FILE_EXTENSION, docIdToFileName, fileNameToDocId } from './doc-file-name.ts'
import { UpdateLog } from './update-log.ts'

/** Where sync and the REST API find documents (to move to protocol/lab/doc-source.ts). */
export interface DocSource {
  /** The document, created empty if none. */
  get (docId: string): Y.Doc
  ids (): string[]
}

export const DEFAULT_COMPACT_AFTER_RECORDS = 500
export const DEFAULT_COMPACT_AFTER_BYTES = 4 * 1024 * 1024

export interface DocStoreOptions {
  /** Repaired or skipped problems: torn log tails, records Yjs cannot apply, failed writes. Default: `console.warn`. */
  onWarning?: (message: string) => void
  /** Compact a log holding more records than this. Default {@link DEFAULT_COMPACT_AFTER_RECORDS}. */
  compactAfterRecords?: number
  /**
   * Compact a log larger than this many bytes, or than twice its size after the last compaction when
   * the snapshot itself is larger (so that a big document is not rewritten on every update).
   * Default {@link DEFAULT_COMPACT_AFTER_BYTES}.
   */
  compactAfterBytes?: number
}

export interface DocStoreEvents {
  /** A document was created by {@link DocStore.get} (not one loaded when the store opened). */
  doc: [docId: string, doc: Y.Doc]
}

export class DocStoreClosedError extends Error {
  override name = 'DocStoreClosedError'
}

/**
 * The document's log exists but cannot be read (not an update log, or a newer format): it is left
 * untouched, and the document is refused rather than created empty over it.
 */
export class DocUnavailableError extends Error {
  override name = 'DocUnavailableError'
}

/** Some update could not be written; what is on disk may lag what is in memory. */
export class DocStoreWriteError extends Error {
  override name = 'DocStoreWriteError'
}

interface Entry {
  docId: string
  doc: Y.Doc
  /** The log, once open; updates made before then are chained on `ready`. */
  log: UpdateLog | undefined
  ready: Promise<UpdateLog>
  compacting: Promise<void> | undefined
  /** Log size right after the last compaction (0 before any). */
  compactedBytes: number
  failureReported: boolean
}

export class DocStore extends EventEmitter<DocStoreEvents> implements DocSource {
  readonly dir: string
  private readonly warn: (message: string) => void
  private readonly compactAfterRecords: number
  private readonly compactAfterBytes: number
  private readonly entries = new Map<string, Entry>()
  private readonly unavailable = new Map<string, Error>()
  private closed = false

  private constructor (dir: string, options: DocStoreOptions) {
    super()
    this.dir = dir
    this.warn = options.onWarning ?? ((message: string) => console.warn(`scanhub:storage ${message}`))
    this.compactAfterRecords = options.compactAfterRecords ?? DEFAULT_COMPACT_AFTER_RECORDS
    this.compactAfterBytes = options.compactAfterBytes ?? DEFAULT_COMPACT_AFTER_BYTES
  }

  /** Opens (creating if needed) the directory and loads every document in it. */
  static async open (dir: string, options: DocStoreOptions = {}): Promise<DocStore> {
    await fs.mkdir(dir, { recursive: true })
    const store = new DocStore(dir, options)
    const names = new Set(await fs.readdir(dir))
    for (const name of [...names].sort()) {
      if (name.endsWith(`${DOC_FILE_EXTENSION}.tmp`) && !names.has(name.slice(0, -'.tmp'.length))) {
        // A log whose creation never reached its rename held no records yet.
        await fs.rm(path.join(dir, name), { force: true })
        continue
      }
      if (!name.endsWith(DOC_FILE_EXTENSION)) continue
      const docId = fileNameToDocId(name)
      if (docId === undefined) {
        store.warn(`${name}: not a document log name; ignored`)
        continue
      }
      await store.load(docId, name)
    }
    return store
  }

  /** The document `docId`, created empty (with its log) if missing. Throws `DocIdError` for ids that cannot be stored. */
  get (docId: string): Y.Doc {
    if (this.closed) throw new DocStoreClosedError('the document store is closed')
    const existing = this.entries.get(docId)
    if (existing !== undefined) return existing.doc
    const unavailable = this.unavailable.get(docId)
    if (unavailable !== undefined) {
      throw new DocUnavailableError(`document ${docId} cannot be read: ${unavailable.message}`, { cause: unavailable })
    }
    const file = path.join(this.dir, docIdToFileName(docId))
    const doc = new Y.Doc()
    const ready = UpdateLog.open(file, { onWarning: this.warn }).then(({ log, records }) => {
      // Only this store writes the directory, so a new log is empty; replaying covers any exception.
      this.replay(docId, doc, records)
      return log
    })
    this.attach(docId, doc, ready)
    try {
      this.emit('doc', docId, doc)
    } catch (err) {
      this.warn(`a 'doc' listener failed for ${docId}: ${(err as Error).message}`)
    }
    return doc
  }

  /**
   * Calls `listener` with the id of each document this store starts holding after it opened (created
   * here or arriving by sync); returns an unsubscribe. This is DocSourceEvents of protocol/lab.
   */
  onAdded (listener: (docId: string) => void): () => void {
    const handler = (docId: string): void => { listener(docId) }
    this.on('doc', handler)
    return () => { this.off('doc', handler) }
  }

  has (docId: string): boolean {
    return this.entries.has(docId)
  }

  ids (): string[] {
    return [...this.entries.keys()]
  }

  /** Resolves once every update made so far is on disk; rejects with {@link DocStoreWriteError} if any could not be written. */
  async flush (): Promise<void> {
    const results = await Promise.allSettled([...this.entries.values()].map(async (entry) => {
      const log = await entry.ready
      await log.flush()
    }))
    const failures = results.filter((result): result is PromiseRejectedResult => result.status === 'rejected')
    if (failures.length > 0) {
      throw new DocStoreWriteError(`${failures.length} document log(s) could not be written`, { cause: failures[0].reason })
    }
  }

  /**
   * Flushes, waits for running compactions and closes every log. Updates documents emit afterwards are
   * reported and not persisted.
   */
  async close (): Promise<void> {
    if (this.closed) return
    this.closed = true
    let flushError: unknown
    try {
      await this.flush()
    } catch (err) {
      flushError = err
    }
    const entries = [...this.entries.values()]
    await Promise.all(entries.map(async (entry) => await entry.compacting))
    await Promise.allSettled(entries.map(async (entry) => { await (await entry.ready).close() }))
    if (flushError !== undefined) throw flushError
  }

  private async load (docId: string, name: string): Promise<void> {
    let opened: Awaited<ReturnType<typeof UpdateLog.open>>
    try {
      opened = await UpdateLog.open(path.join(this.dir, name), { onWarning: this.warn })
    } catch (err) {
      this.unavailable.set(docId, err as Error)
      this.warn(`${name}: cannot be read and is left untouched: ${(err as Error).message}`)
      return
    }
    const doc = new Y.Doc()
    this.replay(docId, doc, opened.records)
    const entry = this.attach(docId, doc, Promise.resolve(opened.log), opened.log)
    this.maybeCompact(entry)
  }

  private replay (docId: string, doc: Y.Doc, records: Uint8Array[]): void {
    records.forEach((record, index) => {
      try {
        Y.applyUpdate(doc, record)
      } catch (err) {
        this.warn(`${docId}: record ${index} is not a Yjs update Yjs can apply (${(err as Error).message}); skipped`)
      }
    })
    // A record lost to damage takes with it everything that builds on it: Yjs keeps later updates of
    // the same writer pending, unseen, until the lost one arrives. Say so, since the log's own report
    // counts those records as recovered.
    if (doc.store.pendingStructs !== null || doc.store.pendingDs !== null) {
      this.warn(`${docId}: some records build on an update this log lacks; what they hold stays hidden until a peer of the lab sends it`)
    }
  }

  private attach (docId: string, doc: Y.Doc, ready: Promise<UpdateLog>, log?: UpdateLog): Entry {
    const entry: Entry = { docId, doc, log, ready, compacting: undefined, compactedBytes: 0, failureReported: false }
    ready.then((opened) => { entry.log = opened }, (err: Error) => this.reportFailure(entry, err))
    doc.on('update', (update: Uint8Array) => this.persist(entry, update))
    this.entries.set(docId, entry)
    return entry
  }

  private persist (entry: Entry, update: Uint8Array): void {
    if (this.closed) {
      this.warn(`${entry.docId}: an update made after the store closed was not persisted`)
      return
    }
    const write = entry.log !== undefined
      ? entry.log.append(update)
      : entry.ready.then(async (log) => await log.append(update))
    write.then(() => this.maybeCompact(entry), (err: Error) => this.reportFailure(entry, err))
  }

  private maybeCompact (entry: Entry): void {
    const log = entry.log
    if (log === undefined || entry.compacting !== undefined || this.closed) return
    const byteLimit = Math.max(this.compactAfterBytes, 2 * entry.compactedBytes)
    if (log.recordCount <= this.compactAfterRecords && log.byteLength <= byteLimit) return
    // The snapshot and the compaction call happen in one synchronous step, so every update the
    // snapshot lacks is appended after it.
    entry.compacting = log.compact(Y.encodeStateAsUpdate(entry.doc))
      .then(() => { entry.compactedBytes = log.byteLength })
      .catch((err: Error) => this.warn(`${entry.docId}: compaction failed, the log keeps its records: ${err.message}`))
      .finally(() => { entry.compacting = undefined })
  }

  /** Reported once per document: after a failed write every later append fails the same way. */
  private reportFailure (entry: Entry, err: Error): void {
    if (entry.failureReported) return
    entry.failureReported = true
    this.warn(`${entry.docId}: updates are not being persisted: ${err.message}`)
  }
}
