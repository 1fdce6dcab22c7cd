// Shared by the tests of this folder: actors, a stepping clock, inputs, and sync between sources.
import * as Y from 'yjs'
import type { DocSource } from './doc-source.ts'
import type { Actor, PatientInput } from './schema.ts'

export const alice: Actor = { name: 'alice', peerId: 'peer-a' }
export const bob: Actor = { name: 'bob', peerId: 'peer-b' }

/** A clock that starts at `start` and moves one second per reading, so every write has its own time. */
export function steppingClock (start = '2024-05-01T10:00:00.000Z'): () => Date {
  let t = Date.parse(start)
  return () => new Date((t += 1000))
}

export const jane: PatientInput = { firstName: 'Jane', lastName: 'Doe', birthDate: '1980-02-29', sex: 'FEMALE', heightCm: 170 }

/** Exchanges what each source lacks of every document either holds, as two peers' sync would. */
export function sync (a: DocSource, b: DocSource): void {
  const ids = new Set([...a.ids(), ...b.ids()])
  for (const id of ids) {
    const da = a.get(id)
    const db = b.get(id)
    const toB = Y.encodeStateAsUpdate(da, Y.encodeStateVector(db))
    const toA = Y.encodeStateAsUpdate(db, Y.encodeStateVector(da))
    Y.applyUpdate(db, toB, 'sync')
    Y.applyUpdate(da, toA, 'sync')
  }
}
