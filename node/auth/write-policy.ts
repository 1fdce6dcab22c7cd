// Which parts of the lab document a browser's user may change through sync, and what no peer may do to
// any document: rewrite its audit log. Sync moves whole Yjs updates, so checks finer than "may write at
// all" look at what an update would change: it is applied to a scratch copy of the document and the
// guarded parts are compared before and after.
import * as Y from 'yjs'
import type { Role } from '../../protocol/lab/index.ts'
import { AUDIT } from '../../protocol/lab/schema.ts'

/** Collections of the lab document that not every writer may change through sync. */
const GUARDED = ['users', 'devices', 'peers', 'meta'] as const
type Guarded = typeof GUARDED[number]

/** Which roles may change a guarded collection through sync; users change only through the hub's API, which hashes passwords. */
const ALLOWED: Record<Guarded, readonly Role[]> = {
  users: [],
  devices: ['admin', 'engineer'],
  peers: [],
  meta: ['admin']
}

/** The guarded collections of the lab document that `update` would change. */
export function changedCollections (doc: Y.Doc, update: Uint8Array): Guarded[] {
  const scratch = new Y.Doc()
  Y.applyUpdate(scratch, Y.encodeStateAsUpdate(doc))
  const snapshot = (): string[] => GUARDED.map((name) => JSON.stringify(scratch.getMap(name).toJSON()))
  const before = snapshot()
  Y.applyUpdate(scratch, update)
  const after = snapshot()
  scratch.destroy()
  return GUARDED.filter((_, i) => before[i] !== after[i])
}

/**
 * Why the update would rewrite the document's audit log, or undefined when it only adds to it. The
 * audit log is append-only for everyone: entries may be added, never removed or changed. Entries
 * appended by two peers while apart merge in Yjs's order, so one peer's may land before the other's:
 * what must hold is that every existing entry is still there, unchanged and in its order. Asked for
 * every update of every peer.
 */
export function auditRewrite (doc: Y.Doc, update: Uint8Array): string | undefined {
  const before = doc.getArray(AUDIT).toJSON().map((entry) => JSON.stringify(entry))
  if (before.length === 0) return undefined
  const scratch = new Y.Doc()
  try {
    Y.applyUpdate(scratch, Y.encodeStateAsUpdate(doc))
    Y.applyUpdate(scratch, update)
    const after = scratch.getArray(AUDIT).toJSON().map((entry) => JSON.stringify(entry))
    // every entry of before, in order, among the entries of after
    let kept = 0
    for (const entry of after) if (kept < before.length && entry === before[kept]) kept++
    if (kept < before.length) {
      return `it would remove or change entry ${kept} of the ${before.length} entries of the audit log, which is append-only`
    }
    return undefined
  } finally {
    scratch.destroy()
  }
}

/**
 * Why a user with this role may not apply the update to the document, or undefined if they may.
 * Patient documents are open to every writer; the lab document's guarded collections are not.
 */
export function refusalFor (role: Role, docId: string, doc: Y.Doc, update: Uint8Array): string | undefined {
  if (role === 'viewer') return 'viewers cannot change anything'
  if (docId !== 'lab') return undefined
  const refused = changedCollections(doc, update).filter((name) => !ALLOWED[name].includes(role))
  if (refused.length === 0) return undefined
  return `a ${role} may not change ${refused.join(', ')} of the lab document${refused.includes('users') ? ' (users change through the hub\'s user API)' : ''}`
}
