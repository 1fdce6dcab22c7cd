import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { appendAudit, auditLog, mergeAudit, readAudit } from './audit.ts'
import type { AuditEntry } from './audit.ts'

const entry = (at: string, entityId: string): AuditEntry =>
  ({ at, actor: 'alice', peerId: 'peer-a', action: 'update', entity: 'patient', entityId, fields: ['firstName'] })

describe('audit log', () => {
  it('appends copies and reads them back, skipping malformed entries', () => {
    const doc = new Y.Doc()
    const original = entry('2024-01-01T00:00:00.000Z', 'p1')
    appendAudit(doc, original)
    original.fields?.push('lastName')
    auditLog(doc).push([{ nonsense: true } as unknown as AuditEntry])
    const read = readAudit(doc)
    expect(read).toEqual([entry('2024-01-01T00:00:00.000Z', 'p1')])
    read[0].fields?.push('x')
    expect(readAudit(doc)[0].fields).toEqual(['firstName'])
  })

  it('does not store an absent fields list', () => {
    const doc = new Y.Doc()
    appendAudit(doc, { ...entry('2024-01-01T00:00:00.000Z', 'p1'), fields: undefined, action: 'create' })
    expect('fields' in readAudit(doc)[0]).toBe(false)
  })

  it('merges by time, keeps ties in document and log order, filters by since and keeps the newest by limit', () => {
    const logs = [
      { docId: 'lab', entries: [entry('2024-01-01T00:00:02.000Z', 'b'), entry('2024-01-01T00:00:04.000Z', 'd')] },
      { docId: 'patient:1', entries: [entry('2024-01-01T00:00:01.000Z', 'a'), entry('2024-01-01T00:00:02.000Z', 'c')] }
    ]
    expect(mergeAudit(logs).map((r) => r.entityId)).toEqual(['a', 'b', 'c', 'd'])
    expect(mergeAudit(logs).map((r) => r.docId)).toEqual(['patient:1', 'lab', 'patient:1', 'lab'])
    expect(mergeAudit(logs, { since: '2024-01-01T00:00:02.000Z' }).map((r) => r.entityId)).toEqual(['b', 'c', 'd'])
    expect(mergeAudit(logs, { since: new Date('2024-01-01T00:00:03.000Z') }).map((r) => r.entityId)).toEqual(['d'])
    expect(mergeAudit(logs, { limit: 2 }).map((r) => r.entityId)).toEqual(['c', 'd'])
    expect(mergeAudit(logs, { limit: 0 })).toEqual([])
  })
})
