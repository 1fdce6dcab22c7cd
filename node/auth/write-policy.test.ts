import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { auditRewrite, refusalFor, refusalForDevicePeer, UpdatePreview } from './write-policy.ts'

const entry = (n: number): Record<string, string> => ({ at: `2026-01-0${n}T00:00:00.000Z`, actor: 'ada', peerId: 'p', action: 'create', entity: 'patient', entityId: `e${n}` })

/** The update that turns `doc` into what `change` makes of a copy of it. */
function updateBy (doc: Y.Doc, change: (copy: Y.Doc) => void): Uint8Array {
  const copy = new Y.Doc()
  Y.applyUpdate(copy, Y.encodeStateAsUpdate(doc))
  const before = Y.encodeStateVector(copy)
  change(copy)
  return Y.encodeStateAsUpdate(copy, before)
}

describe('the audit log is append-only for every peer', () => {
  const doc = new Y.Doc()
  doc.getArray('audit').push([entry(1), entry(2), entry(3)])

  it('lets entries be appended at its end', () => {
    expect(auditRewrite(new UpdatePreview(doc, updateBy(doc, (c) => { c.getArray('audit').push([entry(4)]) })))).toBeUndefined()
    expect(auditRewrite(new UpdatePreview(doc, updateBy(doc, (c) => { c.getMap('patients').set('x', 1) })))).toBeUndefined()
  })

  it('lets entries another peer appended while apart merge before ours', () => {
    // what two peers' concurrent appends look like once Yjs has ordered them
    expect(auditRewrite(new UpdatePreview(doc, updateBy(doc, (c) => { c.getArray('audit').insert(0, [entry(9)]) })))).toBeUndefined()
  })

  it('refuses removing or changing entries', () => {
    expect(auditRewrite(new UpdatePreview(doc, updateBy(doc, (c) => { c.getArray('audit').delete(0, 3) })))).toMatch(/remove or change entry 0 of the 3 entries/)
    expect(auditRewrite(new UpdatePreview(doc, updateBy(doc, (c) => { c.getArray('audit').delete(2, 1) })))).toMatch(/entry 2 of the 3/)
    expect(auditRewrite(new UpdatePreview(doc, updateBy(doc, (c) => { c.transact(() => { c.getArray('audit').delete(1, 1); c.getArray('audit').insert(1, [entry(8)]) }) })))).toMatch(/entry 1/)
  })
})

describe('PACS destinations in the lab document', () => {
  it('admins and engineers may change them through sync; other roles may not', () => {
    const doc = new Y.Doc()
    const update = updateBy(doc, (c) => {
      const destination = new Y.Map()
      destination.set('name', 'Hospital PACS')
      c.getMap('destinations').set('d1', destination)
    })
    expect(refusalFor('admin', 'lab', new UpdatePreview(doc, update))).toBeUndefined()
    expect(refusalFor('engineer', 'lab', new UpdatePreview(doc, update))).toBeUndefined()
    for (const role of ['medical', 'scientist'] as const) expect(refusalFor(role, 'lab', new UpdatePreview(doc, update))).toBe(`a ${role} may not change destinations of the lab document`)
    expect(refusalFor('viewer', 'lab', new UpdatePreview(doc, update))).toBe('viewers cannot change anything')
  })
})

describe('the run state a scanner or recon peer writes', () => {
  const doc = new Y.Doc()
  const task = new Y.Map()
  doc.getMap('tasks').set('t1', task)
  for (const [key, value] of Object.entries({ id: 't1', type: 'RECONSTRUCTION', name: 'Images', status: 'STARTED', run: 1, inputRun: 1 })) task.set(key, value)
  const change = (fields: Record<string, unknown>): UpdatePreview => new UpdatePreview(doc, updateBy(doc, (c) => {
    const t = c.getMap('tasks').get('t1') as Y.Map<unknown>
    for (const [key, value] of Object.entries(fields)) t.set(key, value)
  }))

  it('takes the run count and the input run with the status', () => {
    expect(refusalForDevicePeer('scanner', 'p', 'patient:x', change({ status: 'INPROGRESS', inputRun: 2 }))).toBeUndefined()
    expect(refusalForDevicePeer('recon', 'p', 'patient:x', change({ status: 'STARTED', run: 2, inputRun: 2 }))).toBeUndefined()
  })

  it('refuses anything else of the task', () => {
    expect(refusalForDevicePeer('scanner', 'p', 'patient:x', change({ status: 'INPROGRESS', name: 'Other' }))).toBe("a scanner peer may change a task's run state only, not name")
  })
})
