// Two peers, each with its own Lab on its own documents, synced by exchanging Yjs updates.
import { describe, expect, it } from 'vitest'
import { Lab } from './lab.ts'
import { MemoryDocSource } from './memory-doc-source.ts'
import { patientDocId } from './schema.ts'
import { alice, bob, jane, steppingClock, sync } from './test-support.ts'

function peers (): { a: Lab, b: Lab, docsA: MemoryDocSource, docsB: MemoryDocSource } {
  const docsA = new MemoryDocSource()
  const docsB = new MemoryDocSource()
  return {
    docsA,
    docsB,
    a: new Lab(docsA, { now: steppingClock('2024-05-01T10:00:00.000Z') }),
    b: new Lab(docsB, { now: steppingClock('2024-05-01T10:00:00.500Z') })
  }
}

describe('two peers', () => {
  it('keep concurrent edits of different fields of one patient', () => {
    const { a, b, docsA, docsB } = peers()
    const patient = a.patients.create(jane, alice)
    sync(docsA, docsB)
    a.patients.update(patient.id, { firstName: 'Janet' }, alice)
    b.patients.update(patient.id, { weightKg: 62, comment: 'prefers morning slots' }, bob)
    sync(docsA, docsB)
    const onA = a.patients.get(patient.id)
    expect(onA).toMatchObject({ firstName: 'Janet', weightKg: 62, comment: 'prefers morning slots', heightCm: 170 })
    expect(b.patients.get(patient.id)).toEqual(onA)
  })

  it('resolve concurrent edits of the same field identically', () => {
    const { a, b, docsA, docsB } = peers()
    const patient = a.patients.create(jane, alice)
    sync(docsA, docsB)
    a.patients.update(patient.id, { lastName: 'Smith' }, alice)
    b.patients.update(patient.id, { lastName: 'Jones' }, bob)
    sync(docsA, docsB)
    const onA = a.patients.get(patient.id)
    expect(['Smith', 'Jones']).toContain(onA?.lastName)
    expect(b.patients.get(patient.id)).toEqual(onA)
  })

  it('converge after creating on both sides, and both audit logs are on both peers', () => {
    const { a, b, docsA, docsB } = peers()
    const shared = a.patients.create(jane, alice)
    sync(docsA, docsB)
    const onlyA = a.patients.create({ ...jane, firstName: 'Ann' }, alice)
    const onlyB = b.patients.create({ ...jane, firstName: 'Bea' }, bob)
    // Both peers add an exam (with a workflow and a task) to the same patient's document at once.
    const examA = a.exams.create({ patientId: shared.id, name: 'Knee' }, alice)
    const wfA = a.workflows.create({ examId: examA.id, name: 'W' }, alice)
    a.tasks.create({ workflowId: wfA.id, type: 'ACQUISITION', name: 'T1' }, alice)
    const examB = b.exams.create({ patientId: shared.id, name: 'Head' }, bob)
    sync(docsA, docsB)

    const ids = (lab: Lab): string[] => lab.patients.list().map((p) => p.id).sort()
    expect(ids(a)).toEqual([shared.id, onlyA.id, onlyB.id].sort())
    expect(ids(b)).toEqual(ids(a))
    expect(a.exams.list({ patientId: shared.id }).map((e) => e.id).sort()).toEqual([examA.id, examB.id].sort())
    expect(b.exams.list({ patientId: shared.id })).toEqual(a.exams.list({ patientId: shared.id }))
    expect(b.tasks.list({ workflowId: wfA.id }).map((t) => t.name)).toEqual(['T1'])
    expect(b.tasks.list()).toEqual(a.tasks.list())

    const auditA = a.audit()
    expect(b.audit()).toEqual(auditA)
    expect(new Set(auditA.map((e) => e.peerId))).toEqual(new Set(['peer-a', 'peer-b']))
    expect(auditA.filter((e) => e.docId === patientDocId(shared.id)).map((e) => `${e.actor} ${e.entity}`).sort())
      .toEqual(['alice exam', 'alice task', 'alice workflow', 'bob exam'])
  })

  it('order tasks appended on both sides at once identically', () => {
    const { a, b, docsA, docsB } = peers()
    const patient = a.patients.create(jane, alice)
    const exam = a.exams.create({ patientId: patient.id, name: 'Knee' }, alice)
    const workflow = a.workflows.create({ examId: exam.id, name: 'W' }, alice)
    sync(docsA, docsB)
    a.tasks.create({ workflowId: workflow.id, type: 'ACQUISITION', name: 'from A' }, alice)
    b.tasks.create({ workflowId: workflow.id, type: 'ACQUISITION', name: 'from B' }, bob)
    sync(docsA, docsB)
    const onA = a.tasks.list({ workflowId: workflow.id })
    expect(onA).toHaveLength(2)
    expect(onA[0].position).toBe(onA[1].position)
    expect(b.tasks.list({ workflowId: workflow.id })).toEqual(onA)
    // A move afterwards untangles the tie on both peers.
    b.tasks.move(onA[1].id, 0, bob)
    sync(docsA, docsB)
    expect(a.tasks.list({ workflowId: workflow.id }).map((t) => t.id)).toEqual([onA[1].id, onA[0].id])
  })

  it('derive the same status from task milestones written on different peers', () => {
    const { a, b, docsA, docsB } = peers()
    const patient = a.patients.create(jane, alice)
    const exam = a.exams.create({ patientId: patient.id, name: 'Knee' }, alice)
    const workflow = a.workflows.create({ examId: exam.id, name: 'W' }, alice)
    const t1 = a.tasks.create({ workflowId: workflow.id, type: 'ACQUISITION', name: 'T1' }, alice)
    const t2 = a.tasks.create({ workflowId: workflow.id, type: 'RECONSTRUCTION', name: 'R', parameters: { pipeline: 'cartesian', inputTaskId: t1.id } }, alice)
    sync(docsA, docsB)
    a.tasks.setStatus(t1.id, 'FINISHED', { name: 'peer:scanner', peerId: 'scanner' })
    b.tasks.setStatus(t2.id, 'FINISHED', { name: 'peer:laptop', peerId: 'laptop' })
    expect(a.exams.get(exam.id)?.status).toBe('INPROGRESS')
    sync(docsA, docsB)
    expect(a.exams.get(exam.id)?.status).toBe('FINISHED')
    expect(b.exams.get(exam.id)?.status).toBe('FINISHED')
  })

  it('hear a change that arrives by sync', async () => {
    const { a, b, docsA, docsB } = peers()
    const heard: string[] = []
    b.onChange((docId) => heard.push(docId))
    a.patients.create(jane, alice)
    sync(docsA, docsB)
    await Promise.resolve()
    expect(heard).toEqual(['lab'])
    b.destroy()
  })
})
