// The audit log as a lab writes it and a person reads it: changes recorded through the Lab model,
// then worded, sorted into a patient's and an exam's history, and filtered as the audit page does.
import { describe, expect, it } from 'vitest'
import { readAudit } from './audit.ts'
import { describeAudit, filterAudit, isExamEntry, isPatientEntry, labPeerNames } from './audit-wording.ts'
import type { AuditNames } from './audit-wording.ts'
import { Lab } from './lab.ts'
import { MEMBERS_MAP } from './members.ts'
import { MemoryDocSource } from './memory-doc-source.ts'
import { LAB_DOC_ID } from './schema.ts'
import { alice, bob, jane, steppingClock } from './test-support.ts'

const names: AuditNames = {
  user: (u) => ({ alice: 'Ada Lovelace', bob: 'Bob Marley' } as Record<string, string>)[u],
  peer: (p) => ({ 'peer-a': 'Scanner console', 'peer-b': 'Ward tablet' } as Record<string, string>)[p]
}

function setup (): { docs: MemoryDocSource, lab: Lab } {
  const docs = new MemoryDocSource()
  return { docs, lab: new Lab(docs, { now: steppingClock() }) }
}

describe('audit entries in words', () => {
  it('a patient change says who changed which value on which device, but keeps no name', () => {
    const { lab } = setup()
    const patient = lab.patients.create({ ...jane, weightKg: 70 }, alice)
    lab.patients.update(patient.id, { weightKg: 72, lastName: 'Smith' }, alice)
    const entries = lab.audit().filter((r) => isPatientEntry(r, patient.id))
    const sentences = entries.map((r) => describeAudit(r, names).sentence)
    expect(sentences).toEqual([
      'Ada Lovelace created the patient on Scanner console',
      'Ada Lovelace changed the patient\'s last name and weight from 70 to 72 kg on Scanner console'
    ])
    // the log outlives the record: neither the old nor the new name is in it
    expect(JSON.stringify(lab.audit())).not.toMatch(/Doe|Smith|Jane/)
  })

  it('starting and stopping a task read as what they are, with the task\'s name', () => {
    const { lab } = setup()
    const patient = lab.patients.create(jane, alice)
    const exam = lab.exams.create({ patientId: patient.id, name: 'Head' }, alice)
    const workflow = lab.workflows.create({ examId: exam.id, name: 'Routine' }, alice)
    const task = lab.tasks.create({ workflowId: workflow.id, type: 'ACQUISITION', name: 'T1 GRE' }, alice)
    lab.tasks.setStatus(task.id, 'STARTED', bob)
    lab.tasks.setStatus(task.id, 'CANCELLED', bob)
    lab.tasks.update(task.id, { name: 'T1 GRE 3 mm' }, alice)
    const whats = lab.audit().filter((r) => isExamEntry(r, exam.id)).map((r) => describeAudit(r, names).what)
    expect(whats).toEqual([
      'created the exam "Head"',
      'created the workflow "Routine"',
      'created the task "T1 GRE"',
      'started the task "T1 GRE"',
      'stopped the task "T1 GRE"',
      'renamed the task "T1 GRE" to "T1 GRE 3 mm"'
    ])
  })

  it('an exam\'s history keeps a deleted task, named as it was', () => {
    const { lab } = setup()
    const patient = lab.patients.create(jane, alice)
    const exam = lab.exams.create({ patientId: patient.id, name: 'Head' }, alice)
    const other = lab.exams.create({ patientId: patient.id, name: 'Knee' }, alice)
    const workflow = lab.workflows.create({ examId: exam.id, name: 'Routine' }, alice)
    const task = lab.tasks.create({ workflowId: workflow.id, type: 'ACQUISITION', name: 'Localizer' }, alice)
    lab.tasks.remove(task.id, bob)
    const history = lab.audit().filter((r) => isExamEntry(r, exam.id))
    expect(history.map((r) => describeAudit(r, names).sentence).at(-1)).toBe('Bob Marley deleted the task "Localizer" on Ward tablet')
    expect(history.some((r) => r.entityId === other.id)).toBe(false)
    expect(lab.audit().filter((r) => isExamEntry(r, other.id))).toHaveLength(1)
  })

  it('a login noted on the user\'s record reads as a login', () => {
    const entry = { at: '2024-01-01T00:00:00.000Z', actor: 'bob', peerId: 'peer-b', action: 'update' as const, entity: 'user' as const, entityId: 'bob', fields: ['lastLoginAt'] }
    expect(describeAudit(entry, names).sentence).toBe('Bob Marley logged in on Ward tablet')
    expect(describeAudit({ ...entry, fields: ['role'], changes: [{ field: 'role', from: 'viewer', to: 'medical' }] }, names).what).toBe('changed the user bob: role from viewer to medical')
  })

  it('unknown users and devices are shown by what is known of them', () => {
    const line = describeAudit({ at: '2024-01-01T00:00:00.000Z', actor: 'carol', peerId: '12D3KooWAbCdEfGhIjKlMnOp', action: 'delete', entity: 'sequence', entityId: 's', label: 'my gre' })
    expect(line.sentence).toBe('carol deleted the sequence "my gre" on an unknown device (…IjKlMnOp)')
    const refused = describeAudit({ at: '2024-01-01T00:00:00.000Z', actor: 'peer:peer-b', peerId: 'peer-b', action: 'refuse', entity: 'lab', entityId: 'lab', detail: 'a viewer may not change users' }, names)
    expect(refused.sentence).toBe('Ward tablet sent a change to the lab that was refused: a viewer may not change users')
    const byKey = describeAudit({ at: '2024-01-01T00:00:00.000Z', actor: 'api-key', peerId: 'peer-a', action: 'create', entity: 'user', entityId: 'mia' }, names)
    expect(byKey.sentence).toBe('A program with the API key created the user mia on Scanner console')
    expect(describeAudit({ at: '2024-01-01T00:00:00.000Z', actor: 'peer:hub-a', peerId: 'x'.repeat(40), action: 'create', entity: 'exam', entityId: 'e' }).who).toBe('hub-a')
  })

  it('peer names come from the members\' records and the peers\' own records', () => {
    const { docs } = setup()
    const labDoc = docs.get(LAB_DOC_ID)
    labDoc.getMap(MEMBERS_MAP).set('peer-t', { body: JSON.stringify({ peerId: 'peer-t', name: 'Tablet 1' }), sig: 'x' })
    labDoc.getMap(MEMBERS_MAP).set('peer-bad', { body: '{not json', sig: 'x' })
    expect([...labPeerNames(labDoc)]).toEqual([['peer-t', 'Tablet 1']])
  })
})

describe('the audit page\'s filters', () => {
  it('by user, patient and time, together', () => {
    const { lab } = setup()
    const p1 = lab.patients.create(jane, alice)
    const p2 = lab.patients.create({ ...jane, firstName: 'John' }, bob)
    lab.patients.update(p1.id, { weightKg: 60 }, bob)
    const all = lab.audit()
    expect(filterAudit(all, { actor: 'bob' }).map((r) => r.entityId)).toEqual([p2.id, p1.id])
    expect(filterAudit(all, { patientId: p1.id }).map((r) => r.actor)).toEqual(['alice', 'bob'])
    expect(filterAudit(all, { actor: 'bob', patientId: p1.id })).toHaveLength(1)
    const second = all[1].at
    expect(filterAudit(all, { from: second }).map((r) => r.entityId)).toEqual([p2.id, p1.id])
    expect(filterAudit(all, { to: second }).map((r) => r.entityId)).toEqual([p1.id])
  })

  it('keeps the values only of the fields it may, shortened', () => {
    const { docs, lab } = setup()
    const patient = lab.patients.create(jane, alice)
    lab.patients.update(patient.id, { comment: 'claustrophobic', sex: 'OTHER', birthDate: '1981-01-01' }, alice)
    const update = readAudit(docs.get(LAB_DOC_ID)).at(-1)
    expect(update?.fields?.slice().sort()).toEqual(['birthDate', 'comment', 'sex'])
    expect(update?.changes).toEqual([{ field: 'sex', from: 'FEMALE', to: 'OTHER' }])
    const exam = lab.exams.create({ patientId: patient.id, name: 'x'.repeat(150) }, alice)
    expect(lab.audit().find((r) => r.entityId === exam.id)?.label).toHaveLength(120)
  })
})
