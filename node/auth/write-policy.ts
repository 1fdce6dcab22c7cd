// Which parts of the lab document a browser's user may change through sync. Sync moves whole Yjs
// updates, so role checks finer than "may write at all" look at what an update would change: it is
// applied to a scratch copy of the document and the guarded collections are compared before and after.
import * as Y from 'yjs'
import type { Role } from '../../protocol/lab/index.ts'

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
