import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { SyncLedger } from './sync-ledger.ts'

function change (doc: Y.Doc, key: string): Uint8Array {
  let update: Uint8Array | undefined
  const grab = (u: Uint8Array): void => { update = u }
  doc.on('update', grab)
  doc.getMap('m').set(key, key)
  doc.off('update', grab)
  return update as Uint8Array
}

describe('SyncLedger', () => {
  it('counts local changes until the hub is known to hold them', () => {
    const doc = new Y.Doc()
    const ledger = new SyncLedger()
    ledger.recordLocal('lab', change(doc, 'a'))
    ledger.recordLocal('lab', change(doc, 'b'))
    expect(ledger.unsynced()).toBe(2)
    const afterFirst = new Map([[doc.clientID, 1]])
    expect(ledger.learn('lab', afterFirst)).toBe(true)
    expect(ledger.unsynced()).toBe(1)
    ledger.learn('lab', Y.decodeStateVector(Y.encodeStateVector(doc)))
    expect(ledger.unsynced()).toBe(0)
  })

  it('survives a round trip through JSON, and ignores damaged input', () => {
    const doc = new Y.Doc()
    const ledger = new SyncLedger()
    ledger.recordLocal('patient:x', change(doc, 'a'))
    const copy = SyncLedger.fromJSON(JSON.parse(JSON.stringify(ledger.toJSON())))
    expect(copy.unsynced()).toBe(1)
    expect(SyncLedger.fromJSON({ v: 2 }).unsynced()).toBe(0)
    expect(SyncLedger.fromJSON(null).unsynced()).toBe(0)
  })
})
