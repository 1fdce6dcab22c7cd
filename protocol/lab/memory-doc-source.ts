// A DocSource that keeps documents in memory only: for tests, and for a browser tab before its
// IndexedDB persistence is attached.
import * as Y from 'yjs'
import type { DocSource, DocSourceEvents } from './doc-source.ts'

export class MemoryDocSource implements DocSource, DocSourceEvents {
  private readonly docs = new Map<string, Y.Doc>()
  private readonly listeners = new Set<(docId: string) => void>()

  get (docId: string): Y.Doc {
    let doc = this.docs.get(docId)
    if (doc === undefined) {
      doc = new Y.Doc({ guid: docId })
      this.docs.set(docId, doc)
      for (const listener of [...this.listeners]) listener(docId)
    }
    return doc
  }

  ids (): string[] {
    return [...this.docs.keys()]
  }

  /** Whether the document is held, without creating it. */
  has (docId: string): boolean {
    return this.docs.has(docId)
  }

  onAdded (listener: (docId: string) => void): () => void {
    this.listeners.add(listener)
    return () => { this.listeners.delete(listener) }
  }
}
