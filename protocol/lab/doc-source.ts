// The port through which the lab model reaches its documents. Persistence and sync live behind it
// (node/ on disk, pwa/ in IndexedDB); the model only reads and writes Y.Docs.
import type * as Y from 'yjs'
export interface DocSource {
  /** The document with this id, created empty if this peer holds none yet. */
  get (docId: string): Y.Doc
  /** Ids of the documents this peer holds. */
  ids (): string[]
}

/**
 * Optional extension of DocSource: a source that says when it starts holding a document, so that
 * change listeners see documents that arrive by sync before anything else touches them.
 */
export interface DocSourceEvents {
  /** Calls `listener` with the id of each document the source starts holding; returns an unsubscribe. */
  onAdded (listener: (docId: string) => void): () => void
}

/** Whether a source also implements DocSourceEvents. */
export function hasDocEvents (source: DocSource): source is DocSource & DocSourceEvents {
  return typeof (source as Partial<DocSourceEvents>).onAdded === 'function'
}
