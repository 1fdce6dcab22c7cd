// The browser's documents: one Y.Doc per lab document, each persisted in its own IndexedDB database
// by y-indexeddb, so that the app shows the lab's data with no hub in reach and keeps changes made
// offline until they sync. Which documents exist is listed in localStorage, per lab.
import * as Y from 'yjs'
import { IndexeddbPersistence } from 'y-indexeddb'
import type { DocSource, DocSourceEvents } from '../../../protocol/lab/doc-source.ts'
import { KEYS, readJson, remove, writeJson } from './local-store.ts'

/** How long opening the stored documents may take before the app starts without them. */
const LOAD_TIMEOUT_MS = 10_000

export class IndexedDbDocSource implements DocSource, DocSourceEvents {
  /** prefix of the IndexedDB names and localStorage keys: `scanhub:<labId>` */
  readonly namespace: string
  private readonly docs = new Map<string, { doc: Y.Doc, persistence: IndexeddbPersistence }>()
  private readonly listeners = new Set<(docId: string) => void>()

  private constructor (namespace: string) {
    this.namespace = namespace
  }

  /** Opens the documents stored for this lab and waits until their stored updates are applied. */
  static async open (namespace: string): Promise<IndexedDbDocSource> {
    const source = new IndexedDbDocSource(namespace)
    const stored = readJson<string[]>(KEYS.docs(namespace)) ?? []
    for (const docId of stored) if (typeof docId === 'string') source.create(docId)
    await Promise.race([
      Promise.all([...source.docs.values()].map(async ({ persistence }) => await persistence.whenSynced)),
      new Promise((resolve) => setTimeout(resolve, LOAD_TIMEOUT_MS))
    ])
    return source
  }

  get (docId: string): Y.Doc {
    const entry = this.docs.get(docId)
    if (entry !== undefined) return entry.doc
    const doc = this.create(docId)
    writeJson(KEYS.docs(this.namespace), [...this.docs.keys()])
    for (const listener of [...this.listeners]) listener(docId)
    return doc
  }

  ids (): string[] {
    return [...this.docs.keys()]
  }

  onAdded (listener: (docId: string) => void): () => void {
    this.listeners.add(listener)
    return () => { this.listeners.delete(listener) }
  }

  /** Whether an update's origin is IndexedDB replaying what it stored. */
  isStoredOrigin (origin: unknown): boolean {
    return origin instanceof IndexeddbPersistence
  }

  async close (): Promise<void> {
    await Promise.all([...this.docs.values()].map(async ({ persistence }) => { await persistence.destroy() }))
  }

  /** Deletes this lab's documents from the browser: a device removed from the lab keeps none of its data. */
  async erase (): Promise<void> {
    const entries = [...this.docs.values()]
    this.docs.clear()
    remove(KEYS.docs(this.namespace))
    await Promise.all(entries.map(async ({ persistence }) => { await persistence.clearData() }))
  }

  private create (docId: string): Y.Doc {
    const doc = new Y.Doc({ guid: docId })
    const persistence = new IndexeddbPersistence(`${this.namespace}:${docId}`, doc)
    this.docs.set(docId, { doc, persistence })
    return doc
  }
}
