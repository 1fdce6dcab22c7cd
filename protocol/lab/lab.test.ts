import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import type { DocSource } from './doc-source.ts'
import { LabNotFoundError, LabValidationError } from './errors.ts'
import { Lab } from './lab.ts'
import { MemoryDocSource } from './memory-doc-source.ts'
import { patientDocId } from './schema.ts'
import { alice, bob, jane, steppingClock } from './test-support.ts'

const sha = 'ab'.repeat(32)

function setup (): { docs: MemoryDocSource, lab: Lab } {
  const docs = new MemoryDocSource()
  return { docs, lab: new Lab(docs, { now: steppingClock() }) }
}

/** A patient with one exam, one workflow and three acquisition tasks. */
function plan (lab: Lab): { patientId: string, examId: string, workflowId: string, taskIds: string[] } {
  const patient = lab.patients.create(jane, alice)
  const exam = lab.exams.create({ patientId: patient.id, name: 'Knee', indication: 'pain' }, alice)
  const workflow = lab.workflows.create({ examId: exam.id, name: 'Localizer' }, alice)
  const taskIds = ['a', 'b', 'c'].map((name) => lab.tasks.create({ workflowId: workflow.id, type: 'ACQUISITION', name }, alice).id)
  return { patientId: patient.id, examId: exam.id, workflowId: workflow.id, taskIds }
}

describe('Lab: patients', () => {
  it('creates, reads, lists, updates and removes', () => {
    const { lab } = setup()
    const created = lab.patients.create(jane, alice)
    expect(created).toMatchObject({ ...jane, createdBy: 'alice', updatedBy: 'alice' })
    expect(created.id).toMatch(/^[0-9a-f-]{36}$/)
    expect(created.createdAt).toBe(created.updatedAt)
    expect(lab.patients.get(created.id)).toEqual(created)
    lab.patients.create({ ...jane, firstName: 'Adam', lastName: 'Abel', sex: 'MALE' }, alice)
    expect(lab.patients.list().map((p) => p.lastName)).toEqual(['Abel', 'Doe'])

    const updated = lab.patients.update(created.id, { weightKg: 61.5, heightCm: null }, bob)
    expect(updated.weightKg).toBe(61.5)
    expect('heightCm' in updated).toBe(false)
    expect(updated.updatedBy).toBe('bob')
    expect(updated.updatedAt > created.updatedAt).toBe(true)
    expect(updated.createdBy).toBe('alice')

    lab.patients.remove(created.id, alice)
    expect(lab.patients.get(created.id)).toBeUndefined()
    expect(lab.patients.list()).toHaveLength(1)
  })

  it('accepts a given id once', () => {
    const { lab } = setup()
    expect(lab.patients.create({ ...jane, id: 'mrn-0042' }, alice).id).toBe('mrn-0042')
    expect(() => lab.patients.create({ ...jane, id: 'mrn-0042' }, alice)).toThrow(new LabValidationError('patient mrn-0042 already exists'))
  })

  it('throws named errors for bad input, unknown ids and a missing actor', () => {
    const { lab } = setup()
    const err = (() => { try { lab.patients.create({ ...jane, birthDate: '2023-02-30' }, alice) } catch (e) { return e } })()
    expect(err).toBeInstanceOf(LabValidationError)
    expect((err as Error).name).toBe('LabValidationError')
    expect((err as Error).message).toBe('birthDate must be a real calendar date')
    expect(() => lab.patients.update('nope', { firstName: 'x' }, alice)).toThrow(new LabNotFoundError('patient', 'nope'))
    expect(() => lab.patients.remove('nope', alice)).toThrow(LabNotFoundError)
    expect(() => lab.patients.create(jane, { name: '', peerId: 'p' })).toThrow(new LabValidationError('actor.name must be a non-empty string'))
    expect(lab.patients.list()).toEqual([])
  })

  it('hands out copies: changing a returned object or an input changes nothing stored', () => {
    const { lab } = setup()
    const input = { ...jane }
    const patient = lab.patients.create(input, alice)
    input.firstName = 'Changed'
    patient.firstName = 'Changed too'
    expect(lab.patients.get(patient.id)?.firstName).toBe('Jane')
  })

  it('writes and audits nothing for an update that changes nothing', () => {
    const { lab } = setup()
    const patient = lab.patients.create(jane, alice)
    const before = lab.audit().length
    expect(lab.patients.update(patient.id, { firstName: 'Jane', heightCm: 170 }, bob)).toEqual(patient)
    expect(lab.audit()).toHaveLength(before)
  })
})

describe('Lab: exams, workflows, tasks, results', () => {
  it('creates the tree in the patient document and finds each part by id alone', () => {
    const { lab, docs } = setup()
    const { patientId, examId, workflowId, taskIds } = plan(lab)
    expect(docs.ids()).toEqual(['lab', patientDocId(patientId)])
    expect(lab.exams.get(examId)).toMatchObject({ patientId, name: 'Knee', description: '', indication: 'pain', status: 'NEW' })
    expect(lab.workflows.get(workflowId)).toMatchObject({ examId, patientId, position: 0, status: 'NEW' })
    expect(lab.tasks.get(taskIds[0])).toMatchObject({
      workflowId, examId, patientId, type: 'ACQUISITION', status: 'NEW', position: 0,
      parameters: { fovScaling: [1, 1, 1], fovOffsetMm: [0, 0, 0], fovRotationDeg: [0, 0, 0], calibrations: [] }
    })
    expect(lab.exams.list({ patientId }).map((e) => e.id)).toEqual([examId])
    expect(lab.exams.list().map((e) => e.id)).toEqual([examId])
    expect(lab.workflows.list({ examId }).map((w) => w.id)).toEqual([workflowId])
    expect(lab.tasks.list({ workflowId }).map((t) => t.name)).toEqual(['a', 'b', 'c'])
    expect(lab.tasks.list({ examId }).map((t) => t.name)).toEqual(['a', 'b', 'c'])
    expect(lab.tasks.list({ workflowId: 'unknown' })).toEqual([])

    // A second Lab on the same documents has no index yet: it finds everything by scanning.
    const fresh = new Lab(docs)
    expect(fresh.tasks.get(taskIds[2])?.name).toBe('c')
    expect(fresh.exams.get('nope')).toBeUndefined()
  })

  it('refuses children of missing parents', () => {
    const { lab } = setup()
    expect(() => lab.exams.create({ patientId: 'ghost', name: 'Knee' }, alice)).toThrow(new LabNotFoundError('patient', 'ghost'))
    expect(() => lab.workflows.create({ examId: 'ghost', name: 'w' }, alice)).toThrow(new LabNotFoundError('exam', 'ghost'))
    expect(() => lab.tasks.create({ workflowId: 'ghost', type: 'ACQUISITION', name: 't' }, alice)).toThrow(new LabNotFoundError('workflow', 'ghost'))
    expect(() => lab.results.create({ taskId: 'ghost', type: 'RAW', files: [{ name: 'a.mrd', sha256: sha, size: 1, type: 'application/x-ismrmrd' }] }, alice))
      .toThrow(new LabNotFoundError('task', 'ghost'))
  })

  it('updates tasks, merging parameters', () => {
    const { lab } = setup()
    const { workflowId } = plan(lab)
    const recon = lab.tasks.create({ workflowId, type: 'RECONSTRUCTION', name: 'recon', parameters: { pipeline: 'cartesian', options: { zeroFill: 2 } } }, alice)
    const updated = lab.tasks.update(recon.id, { name: 'Recon', parameters: { preferredPeerId: 'laptop' } }, bob)
    expect(updated).toMatchObject({ name: 'Recon', parameters: { pipeline: 'cartesian', options: { zeroFill: 2 }, preferredPeerId: 'laptop' } })
    expect(() => lab.tasks.update(recon.id, { parameters: { fovScaling: [1, 1, 1] } }, bob)).toThrow("unknown field 'parameters.fovScaling'")
  })

  it('records status milestones and derives exam and workflow status', () => {
    const { lab } = setup()
    const { examId, workflowId, taskIds } = plan(lab)
    const started = lab.tasks.setStatus(taskIds[0], 'STARTED', alice)
    expect(started.startedAt).toBeDefined()
    expect(lab.workflows.get(workflowId)?.status).toBe('INPROGRESS')
    expect(lab.exams.get(examId)?.status).toBe('INPROGRESS')
    const auditLength = lab.audit().length
    expect(lab.tasks.setStatus(taskIds[0], 'STARTED', alice)).toEqual(started)
    expect(lab.audit()).toHaveLength(auditLength)

    const finished = lab.tasks.setStatus(taskIds[0], 'FINISHED', alice)
    expect(finished.finishedAt).toBeDefined()
    expect(lab.exams.get(examId)?.status).toBe('INPROGRESS')
    lab.tasks.setStatus(taskIds[1], 'ERROR', alice, { error: 'gradient amplifier fault' })
    expect(lab.tasks.get(taskIds[1])?.error).toBe('gradient amplifier fault')
    expect(lab.exams.get(examId)?.status).toBe('ERROR')
    lab.tasks.setStatus(taskIds[1], 'NEW', alice)
    expect(lab.tasks.get(taskIds[1])).not.toHaveProperty('error')
    lab.tasks.setStatus(taskIds[1], 'FINISHED', alice)
    lab.tasks.setStatus(taskIds[2], 'CANCELLED', alice)
    expect(lab.exams.list()[0].status).toBe('FINISHED')
    expect(lab.workflows.list({ examId })[0].status).toBe('FINISHED')

    expect(() => lab.tasks.setStatus(taskIds[0], 'DONE' as 'FINISHED', alice)).toThrow(LabValidationError)
    expect(() => lab.tasks.setStatus(taskIds[0], 'FINISHED', alice, { error: 'x' })).toThrow('error can only be given with status ERROR')
  })

  it('moves tasks, changing only the moved one’s position', () => {
    const { lab } = setup()
    const { workflowId, taskIds } = plan(lab)
    const names = (): string[] => lab.tasks.list({ workflowId }).map((t) => t.name)
    lab.tasks.move(taskIds[2], 0, alice)
    expect(names()).toEqual(['c', 'a', 'b'])
    expect(lab.tasks.get(taskIds[0])?.position).toBe(0)
    expect(lab.tasks.get(taskIds[1])?.position).toBe(1)
    lab.tasks.move(taskIds[2], 1, alice)
    expect(names()).toEqual(['a', 'c', 'b'])
    lab.tasks.move(taskIds[0], 2, alice)
    expect(names()).toEqual(['c', 'b', 'a'])
    lab.tasks.move(taskIds[0], 2, alice)
    expect(names()).toEqual(['c', 'b', 'a'])
    expect(() => lab.tasks.move(taskIds[0], 3, alice)).toThrow(new LabValidationError('index must be an integer between 0 and 2'))
    // Moving the first task behind the second, again and again, halves the gap before the third
    // until floating point has no number left in it; the list is then renumbered and stays right.
    const expected = names()
    let renumbered = false
    for (let i = 0; i < 70; i++) {
      const first = lab.tasks.list({ workflowId })[0]
      lab.tasks.move(first.id, 1, alice)
      expected.splice(1, 0, expected.shift() as string)
      expect(names()).toEqual(expected)
      renumbered ||= lab.tasks.list({ workflowId }).every((t, index) => t.position === index)
    }
    expect(renumbered).toBe(true)
    const appended = lab.tasks.create({ workflowId, type: 'PROCESSING', name: 'd', parameters: { pipeline: 'denoise' } }, alice)
    expect(names()).toEqual([...expected, 'd'])
    expect(appended.position).toBeGreaterThan(Math.max(...lab.tasks.list({ workflowId }).slice(0, 3).map((t) => t.position)))
  })

  it('moves workflows within their exam', () => {
    const { lab } = setup()
    const { examId, workflowId } = plan(lab)
    const second = lab.workflows.create({ examId, name: 'T2' }, alice)
    lab.workflows.move(second.id, 0, alice)
    expect(lab.workflows.list({ examId }).map((w) => w.id)).toEqual([second.id, workflowId])
  })

  it('records results of a task and lists them', () => {
    const { lab } = setup()
    const { taskIds, patientId } = plan(lab)
    const result = lab.results.create({ taskId: taskIds[0], type: 'DICOM', files: [{ name: 'img.dcm', sha256: sha, size: 1024, type: 'application/dicom' }], epoch: 3 }, alice)
    expect(result).toMatchObject({ taskId: taskIds[0], patientId, type: 'DICOM', epoch: 3, createdBy: 'alice' })
    expect(lab.results.get(result.id)).toEqual(result)
    expect(lab.results.list({ taskId: taskIds[0] })).toEqual([result])
    expect(lab.results.list({ taskId: taskIds[1] })).toEqual([])
    lab.results.remove(result.id, alice)
    expect(lab.results.get(result.id)).toBeUndefined()
  })

  it('removes an exam with its workflows, tasks and results, each audited', () => {
    const { lab } = setup()
    const { examId, workflowId, taskIds } = plan(lab)
    const result = lab.results.create({ taskId: taskIds[0], type: 'RAW', files: [{ name: 'a.mrd', sha256: sha, size: 1, type: 'application/x-ismrmrd' }] }, alice)
    const since = new Date(Date.parse(lab.results.get(result.id)?.createdAt ?? '') + 1)
    lab.exams.remove(examId, bob)
    expect(lab.exams.get(examId)).toBeUndefined()
    expect(lab.workflows.get(workflowId)).toBeUndefined()
    expect(taskIds.map((id) => lab.tasks.get(id))).toEqual([undefined, undefined, undefined])
    expect(lab.results.get(result.id)).toBeUndefined()
    const deletes = lab.audit({ since }).map((e) => `${e.action} ${e.entity} ${e.actor}`)
    expect(deletes).toEqual([
      'delete result bob', 'delete task bob', 'delete task bob', 'delete task bob', 'delete workflow bob', 'delete exam bob'
    ])
  })

  it('removes a workflow with its tasks, and a task with its results', () => {
    const { lab } = setup()
    const { examId, workflowId, taskIds } = plan(lab)
    lab.tasks.remove(taskIds[0], alice)
    expect(lab.tasks.list({ workflowId }).map((t) => t.name)).toEqual(['b', 'c'])
    lab.workflows.remove(workflowId, alice)
    expect(lab.tasks.list({ examId })).toEqual([])
    expect(lab.exams.get(examId)?.status).toBe('NEW')
    expect(() => lab.workflows.remove(workflowId, alice)).toThrow(new LabNotFoundError('workflow', workflowId))
  })

  it('removes a patient: the record, and everything in its document', () => {
    const { lab, docs } = setup()
    const { patientId } = plan(lab)
    lab.patients.remove(patientId, alice)
    expect(lab.patients.get(patientId)).toBeUndefined()
    expect(lab.exams.list()).toEqual([])
    expect(lab.tasks.list()).toEqual([])
    const doc = docs.get(patientDocId(patientId))
    for (const name of ['exams', 'workflows', 'tasks', 'results']) expect(doc.getMap(name).size).toBe(0)
    expect(lab.audit().filter((e) => e.action === 'delete').map((e) => e.entity))
      .toEqual(['task', 'task', 'task', 'workflow', 'exam', 'patient'])
  })
})

describe('Lab: lab meta, users, devices, sequences', () => {
  it('initializes the lab once, idempotently, and renames it', () => {
    const { lab } = setup()
    expect(lab.info()).toEqual({})
    const info = lab.initLab({ labName: ' MRI lab ', labId: 'lab-1' }, alice)
    expect(info).toMatchObject({ schemaVersion: 1, labId: 'lab-1', labName: 'MRI lab' })
    const entries = lab.audit().length
    expect(lab.initLab({ labName: 'Other name', labId: 'lab-1' }, bob)).toEqual(info)
    expect(lab.audit()).toHaveLength(entries)
    expect(() => lab.initLab({ labName: 'MRI lab', labId: 'lab-2' }, alice)).toThrow('this lab document belongs to lab lab-1, not lab-2')
    expect(lab.renameLab('Low-field lab', bob).labName).toBe('Low-field lab')
    expect(lab.audit().map((e) => `${e.action} ${e.entity} ${e.fields?.join(',') ?? ''}`))
      .toEqual(['create lab labId,labName,createdAt', 'update lab labName'])
  })

  it('keys users by username', () => {
    const { lab } = setup()
    const user = lab.users.create({ username: 'alice', firstName: 'Alice', lastName: 'A', email: '', role: 'admin', passwordHash: 'scrypt$x' }, alice)
    expect(user).toEqual({ username: 'alice', firstName: 'Alice', lastName: 'A', email: '', role: 'admin', passwordHash: 'scrypt$x', createdAt: user.createdAt })
    expect(() => lab.users.create({ username: 'alice', firstName: 'A', lastName: 'B', email: '', role: 'viewer', passwordHash: 'h' }, alice))
      .toThrow('user alice already exists')
    expect(lab.users.update('alice', { lastLoginAt: '2024-05-01T12:00:00.000Z' }, alice).lastLoginAt).toBe('2024-05-01T12:00:00.000Z')
    expect(lab.users.list().map((u) => u.username)).toEqual(['alice'])
    lab.users.remove('alice', alice)
    expect(lab.users.get('alice')).toBeUndefined()
  })

  it('stores devices and sequences', () => {
    const { lab } = setup()
    const device = lab.devices.create({ peerId: '12D3KooWabc', name: 'OSI² ONE', manufacturer: 'OSI²', model: 'ONE', fieldStrengthT: 0.05, driver: 'serial', parameters: { larmorHz: 2_100_000 } }, alice)
    expect(lab.devices.get(device.id)?.parameters).toEqual({ larmorHz: 2_100_000 })
    const sequence = lab.sequences.create({ id: 'builtin:gre', name: 'GRE', type: 'pulseq', blob: { sha256: sha, size: 2048 }, builtin: true, tags: ['2D'] }, alice)
    expect(sequence).toMatchObject({ id: 'builtin:gre', description: '', tags: ['2D'], builtin: true })
    expect(lab.sequences.update('builtin:gre', { tags: ['2D', 'fast'], builtin: null }, alice)).not.toHaveProperty('builtin')
  })
})

describe('Lab: audit and change events', () => {
  it('appends an audit entry per change with actor, peer and fields', () => {
    const { lab } = setup()
    const patient = lab.patients.create(jane, alice)
    lab.patients.update(patient.id, { firstName: 'Janet', comment: 'claustrophobic' }, bob)
    const entries = lab.audit()
    expect(entries).toEqual([
      { docId: 'lab', at: patient.createdAt, actor: 'alice', peerId: 'peer-a', action: 'create', entity: 'patient', entityId: patient.id },
      { docId: 'lab', at: expect.any(String), actor: 'bob', peerId: 'peer-b', action: 'update', entity: 'patient', entityId: patient.id, fields: ['firstName', 'comment'] }
    ])
    expect(lab.audit({ limit: 1 })).toEqual([entries[1]])
    expect(lab.audit({ since: entries[1].at })).toEqual([entries[1]])
    expect(() => lab.audit({ limit: -1 })).toThrow(LabValidationError)
  })

  it('tells listeners which documents changed, once per microtask', async () => {
    const { lab, docs } = setup()
    const patient = lab.patients.create(jane, alice)
    const heard: string[] = []
    const off = lab.onChange((docId) => heard.push(docId))
    lab.patients.update(patient.id, { firstName: 'A' }, alice)
    lab.patients.update(patient.id, { firstName: 'B' }, alice)
    lab.exams.create({ patientId: patient.id, name: 'Knee' }, alice)
    await Promise.resolve()
    expect(heard).toEqual(['lab', patientDocId(patient.id)])

    // A document that arrives from elsewhere (sync) is heard too.
    docs.get('patient:other').getMap('exams').set('x', new Y.Map())
    await Promise.resolve()
    expect(heard).toEqual(['lab', patientDocId(patient.id), 'patient:other'])

    off()
    lab.patients.update(patient.id, { firstName: 'C' }, alice)
    await Promise.resolve()
    expect(heard).toHaveLength(3)
    lab.destroy()
  })

  it('finds documents a plain DocSource gained by sync at the next change it hears', async () => {
    const memory = new MemoryDocSource()
    const plain: DocSource = { get: (id) => memory.get(id), ids: () => memory.ids() }
    const lab = new Lab(plain, { now: steppingClock() })
    const patient = lab.patients.create(jane, alice)
    const heard: string[] = []
    lab.onChange((docId) => heard.push(docId))
    memory.get('patient:synced').getMap('exams').set('x', new Y.Map())
    lab.patients.update(patient.id, { firstName: 'A' }, alice)
    await Promise.resolve()
    expect(heard).toEqual(['lab', 'patient:synced'])
    memory.get('patient:synced').getMap('exams').delete('x')
    await Promise.resolve()
    expect(heard).toEqual(['lab', 'patient:synced', 'patient:synced'])
    lab.destroy()
  })

  it('records the trimmed actor name', () => {
    const { lab } = setup()
    const patient = lab.patients.create(jane, { name: ' alice ', peerId: 'peer-a' })
    expect(patient.createdBy).toBe('alice')
    expect(lab.audit()[0].actor).toBe('alice')
  })
})
