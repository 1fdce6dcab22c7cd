// Change notification for the lab's documents. Yjs emits an update per transaction; listeners here
// hear once per document per microtask, however many transactions (local or synced) happened.
import type * as Y from 'yjs'
import { hasDocEvents } from './doc-source.ts'
import type { DocSource } from './doc-source.ts'

export type ChangeListener = (docId: string) => void

export class ChangeFeed {
  private readonly source: DocSource
  private readonly listeners = new Set<ChangeListener>()
  private readonly watched = new Map<string, () => void>()
  private readonly pending = new Set<string>()
  private scheduled = false
  private flushing = false
  private stopAdded: (() => void) | undefined

  constructor (source: DocSource) {
    this.source = source
  }

  /** Calls `listener` with the id of each document that changed; returns an unsubscribe. */
  subscribe (listener: ChangeListener): () => void {
    this.listeners.add(listener)
    if (this.listeners.size === 1) this.start()
    return () => {
      this.listeners.delete(listener)
      if (this.listeners.size === 0) this.stop()
    }
  }

  /** Watches a document the lab is about to write, so its first change is heard. */
  watch (docId: string, doc: Y.Doc): void {
    if (this.listeners.size === 0 || this.watched.has(docId)) return
    const onUpdate = (): void => { this.changed(docId) }
    doc.on('update', onUpdate)
    this.watched.set(docId, () => { doc.off('update', onUpdate) })
  }

  stop (): void {
    for (const off of this.watched.values()) off()
    this.watched.clear()
    this.stopAdded?.()
    this.stopAdded = undefined
    this.pending.clear()
  }

  private start (): void {
    if (hasDocEvents(this.source)) {
      this.stopAdded = this.source.onAdded((docId) => { this.watch(docId, this.source.get(docId)) })
    }
    this.scan()
  }

  /**
   * Watches documents the source holds that are not watched yet. Without DocSourceEvents, a
   * document that arrived by sync is found here, at the next change of any document; if it already
   * has content, that counts as a change.
   */
  private scan (): void {
    for (const docId of this.source.ids()) {
      if (this.watched.has(docId)) continue
      const doc = this.source.get(docId)
      this.watch(docId, doc)
      if (this.flushing && doc.store.clients.size > 0) this.pending.add(docId)
    }
  }

  private changed (docId: string): void {
    this.pending.add(docId)
    if (this.scheduled) return
    this.scheduled = true
    queueMicrotask(() => { this.flush() })
  }

  private flush (): void {
    this.scheduled = false
    if (this.listeners.size === 0) return
    this.flushing = true
    try {
      this.scan()
    } finally {
      this.flushing = false
    }
    const docIds = [...this.pending]
    this.pending.clear()
    for (const docId of docIds) {
      for (const listener of [...this.listeners]) {
        try {
          listener(docId)
        } catch (err) {
          // As EventTarget does: the other listeners still hear, and the error is reported, not lost.
          queueMicrotask(() => { throw err })
        }
      }
    }
  }
}
