import { describe, expect, it } from 'vitest'
import { LabNotFoundError } from './errors.ts'
import { Lab } from './lab.ts'
import { MemoryDocSource } from './memory-doc-source.ts'
import { LAB_DOC_ID, META } from './schema.ts'
import type { ExamTemplateTree, StarterTemplate } from './templates.ts'
import { STARTER_TEMPLATES_META } from './templates.ts'
import { alice, bob, jane, steppingClock, sync } from './test-support.ts'

function setup (): { lab: Lab, patientId: string, examTemplateId: string, localizerId: string, acquisitionId: string } {
  const lab = new Lab(new MemoryDocSource(), { now: steppingClock() })
  const patientId = lab.patients.create(jane, alice).id
  const examTemplate = lab.examTemplates.create({ name: 'Knee', description: 'routine knee', indication: 'pain' }, alice)
  const localizer = lab.workflowTemplates.create({ examTemplateId: examTemplate.id, name: 'Localizer' }, alice)
  const acquisition = lab.taskTemplates.create({
    workflowTemplateId: localizer.id, type: 'ACQUISITION', name: 'Tri-plane', parameters: { sequenceId: 'builtin:gre', calibrations: ['FREQUENCY'] }
  }, alice)
  lab.taskTemplates.create({
    workflowTemplateId: localizer.id, type: 'RECONSTRUCTION', name: 'Recon', parameters: { pipeline: 'cartesian', inputTaskId: acquisition.id, options: { zeroFill: 2 } }
  }, alice)
  lab.workflowTemplates.create({ examTemplateId: examTemplate.id, name: 'T2' }, alice)
  return { lab, patientId, examTemplateId: examTemplate.id, localizerId: localizer.id, acquisitionId: acquisition.id }
}

describe('templates', () => {
  it('list workflow and task templates of their parent, in order', () => {
    const { lab, examTemplateId, localizerId } = setup()
    expect(lab.workflowTemplates.list({ examTemplateId }).map((t) => [t.name, t.position])).toEqual([['Localizer', 0], ['T2', 1]])
    expect(lab.taskTemplates.list({ workflowTemplateId: localizerId }).map((t) => t.name)).toEqual(['Tri-plane', 'Recon'])
    const recon = lab.taskTemplates.list({ workflowTemplateId: localizerId })[1]
    lab.taskTemplates.move(recon.id, 0, alice)
    expect(lab.taskTemplates.list({ workflowTemplateId: localizerId }).map((t) => t.name)).toEqual(['Recon', 'Tri-plane'])
    expect(() => lab.workflowTemplates.create({ examTemplateId: 'ghost', name: 'x' }, alice)).toThrow(new LabNotFoundError('examTemplate', 'ghost'))
  })

  it('instantiate an exam template as a deep copy with new ids', () => {
    const { lab, patientId, examTemplateId, acquisitionId } = setup()
    const exam = lab.instantiateExam(examTemplateId, patientId, alice)
    expect(exam).toMatchObject({ patientId, name: 'Knee', description: 'routine knee', indication: 'pain', status: 'NEW' })
    expect(exam.id).not.toBe(examTemplateId)
    const workflows = lab.workflows.list({ examId: exam.id })
    expect(workflows.map((w) => w.name)).toEqual(['Localizer', 'T2'])
    const tasks = lab.tasks.list({ workflowId: workflows[0].id })
    expect(tasks.map((t) => [t.name, t.type, t.status, t.examId, t.patientId])).toEqual([
      ['Tri-plane', 'ACQUISITION', 'NEW', exam.id, patientId],
      ['Recon', 'RECONSTRUCTION', 'NEW', exam.id, patientId]
    ])
    expect(tasks[0].parameters).toMatchObject({ sequenceId: 'builtin:gre', calibrations: ['FREQUENCY'] })
    // The reconstruction's input now names the copied acquisition, not its template.
    expect(tasks[1].parameters).toEqual({ pipeline: 'cartesian', inputTaskId: tasks[0].id, options: { zeroFill: 2 } })
    expect(tasks[1].parameters).not.toMatchObject({ inputTaskId: acquisitionId })

    // Editing the copy leaves the template as it was, and a second copy is independent.
    lab.tasks.update(tasks[0].id, { name: 'Edited', parameters: { calibrations: ['SHIM'] } }, alice)
    lab.exams.update(exam.id, { name: 'Knee left' }, alice)
    expect(lab.taskTemplates.get(acquisitionId)).toMatchObject({ name: 'Tri-plane', parameters: { calibrations: ['FREQUENCY'] } })
    expect(lab.examTemplates.get(examTemplateId)?.name).toBe('Knee')
    const second = lab.instantiateExam(examTemplateId, patientId, alice)
    expect(lab.tasks.list({ examId: second.id })[0]).toMatchObject({ name: 'Tri-plane', parameters: { calibrations: ['FREQUENCY'] } })
  })

  it('instantiate a workflow template into an existing exam and a task template into an existing workflow', () => {
    const { lab, patientId, localizerId, acquisitionId } = setup()
    const exam = lab.exams.create({ patientId, name: 'Custom' }, alice)
    const first = lab.workflows.create({ examId: exam.id, name: 'Own' }, alice)
    const workflow = lab.instantiateWorkflow(localizerId, exam.id, alice)
    expect(lab.workflows.list({ examId: exam.id }).map((w) => w.id)).toEqual([first.id, workflow.id])
    expect(lab.tasks.list({ workflowId: workflow.id }).map((t) => t.name)).toEqual(['Tri-plane', 'Recon'])
    const task = lab.instantiateTask(acquisitionId, first.id, alice)
    expect(task).toMatchObject({ workflowId: first.id, examId: exam.id, name: 'Tri-plane', position: 0 })
    expect(() => lab.instantiateTask('ghost', first.id, alice)).toThrow(new LabNotFoundError('taskTemplate', 'ghost'))
    expect(() => lab.instantiateWorkflow(localizerId, 'ghost', alice)).toThrow(new LabNotFoundError('exam', 'ghost'))
    expect(() => lab.instantiateExam('ghost', patientId, alice)).toThrow(new LabNotFoundError('examTemplate', 'ghost'))
  })

  it('drop a task template input that names a template not copied along', () => {
    const { lab, patientId, localizerId } = setup()
    const exam = lab.exams.create({ patientId, name: 'Custom' }, alice)
    const workflow = lab.workflows.create({ examId: exam.id, name: 'Own' }, alice)
    const recon = lab.taskTemplates.list({ workflowTemplateId: localizerId })[1]
    expect(lab.instantiateTask(recon.id, workflow.id, alice).parameters).toEqual({ pipeline: 'cartesian', options: { zeroFill: 2 } })
  })

  it('remove an exam template with its workflow and task templates', () => {
    const { lab, examTemplateId } = setup()
    lab.examTemplates.remove(examTemplateId, alice)
    expect(lab.examTemplates.list()).toEqual([])
    expect(lab.workflowTemplates.list()).toEqual([])
    expect(lab.taskTemplates.list()).toEqual([])
    expect(lab.audit().filter((e) => e.action === 'delete').map((e) => e.entity))
      .toEqual(['taskTemplate', 'taskTemplate', 'workflowTemplate', 'workflowTemplate', 'examTemplate'])
  })

  it('copy every parameter of a task template into the task, whole', () => {
    const { lab, patientId } = setup()
    const device = lab.devices.create({ peerId: 'peer-s', name: 'Virtual 0.5 T', manufacturer: 'ScanHub', model: 'virtual', fieldStrengthT: 0.5, driver: 'virtual' }, alice)
    const exam = lab.examTemplates.create({ name: 'Spine' }, alice)
    const workflow = lab.workflowTemplates.create({ examTemplateId: exam.id, name: 'Sagittal' }, alice)
    const acquisition = {
      sequenceId: 'builtin-tse', deviceId: device.id, fovScaling: [1, 1.5, 1], fovOffsetMm: [0, -20, 5], fovRotationDeg: [0, 0, 90], calibrations: ['FREQUENCY', 'SHIM']
    }
    const acq = lab.taskTemplates.create({ workflowTemplateId: workflow.id, type: 'ACQUISITION', name: 'T2 TSE', description: 'sagittal', parameters: acquisition } as never, alice)
    const recon = { pipeline: 'grappa', options: { kernel: [5, 4], lambda: 0.01 }, preferredPeerId: 'peer-r', inputTaskId: acq.id }
    lab.taskTemplates.create({ workflowTemplateId: workflow.id, type: 'RECONSTRUCTION', name: 'Images', parameters: recon }, alice)
    const made = lab.instantiateExam(exam.id, patientId, alice)
    const [t2, images] = lab.tasks.list({ examId: made.id })
    expect(t2).toMatchObject({ name: 'T2 TSE', description: 'sagittal', type: 'ACQUISITION', status: 'NEW' })
    expect(t2.parameters).toEqual(acquisition)
    expect(images.parameters).toEqual({ ...recon, inputTaskId: t2.id })
  })

  it('write a whole template tree at once, its reconstruction inputs naming acquisitions of the tree', () => {
    const { lab, patientId } = setup()
    const tree = headTree()
    const template = lab.createTemplateTree(tree, alice)
    expect(template).toMatchObject({ id: 'tpl-head', name: 'Head', description: 'routine head', createdBy: 'alice' })
    expect(lab.workflowTemplates.list({ examTemplateId: template.id }).map((w) => [w.id, w.name, w.position])).toEqual([['tpl-loc', 'Localiser', 0], ['tpl-t1', 'T1', 1]])
    expect(lab.taskTemplates.list({ workflowTemplateId: 'tpl-t1' }).map((t) => [t.name, t.type, t.position])).toEqual([['T1 GRE', 'ACQUISITION', 0], ['T1 images', 'RECONSTRUCTION', 1]])
    expect(lab.taskTemplates.get('tpl-t1-recon')?.parameters).toEqual({ pipeline: 'cartesian', inputTaskId: 'tpl-t1-acq', options: {} })

    const exam = lab.instantiateExam(template.id, patientId, alice)
    const tasks = lab.tasks.list({ examId: exam.id })
    expect(tasks.map((t) => t.name)).toEqual(['Localiser GRE', 'Localiser images', 'T1 GRE', 'T1 images'])
    expect(tasks[1].parameters).toMatchObject({ inputTaskId: tasks[0].id })
    expect(tasks[3].parameters).toMatchObject({ inputTaskId: tasks[2].id })

    // A tree that is wrong anywhere writes nothing.
    const before = lab.taskTemplates.list().length
    const wrongInput = { ...headTree('other'), id: 'tpl-other' }
    wrongInput.workflows[1].tasks[1] = { id: 'x-recon', name: 'Bad', type: 'RECONSTRUCTION', parameters: { pipeline: 'cartesian', inputTaskId: 'other-loc-recon' } }
    expect(() => lab.createTemplateTree(wrongInput, alice)).toThrow(/its input other-loc-recon is no acquisition of the template/)
    const badName = headTree('third')
    badName.workflows[0].tasks[0].name = ''
    expect(() => lab.createTemplateTree(badName, alice)).toThrow(/task template "": name/)
    expect(() => lab.createTemplateTree(headTree(), alice)).toThrow(/already exists/)
    expect(lab.taskTemplates.list()).toHaveLength(before)
    expect(lab.examTemplates.list().map((t) => t.name)).toEqual(['Head', 'Knee'])
  })

  it('save an exam as a template and make the same exam again from it', () => {
    const { lab, patientId } = setup()
    lab.createTemplateTree(headTree(), alice)
    const exam = lab.instantiateExam('tpl-head', patientId, alice)
    const [locAcq, , t1Acq] = lab.tasks.list({ examId: exam.id })
    // The technician adapts the exam, runs part of it, then keeps it as a protocol of the lab.
    lab.tasks.update(t1Acq.id, { name: 'T1 GRE thin', parameters: { calibrations: ['SHIM'], fovScaling: [1, 1, 0.5] } }, alice)
    lab.exams.update(exam.id, { indication: 'headache' }, alice)
    lab.tasks.setStatus(locAcq.id, 'STARTED', alice)
    lab.tasks.setStatus(locAcq.id, 'FINISHED', alice)
    lab.results.create({ taskId: locAcq.id, type: 'RAW', files: [{ name: 'loc.mrd', sha256: 'a'.repeat(64), size: 1, type: 'application/octet-stream' }] }, alice)
    const t1Recon = lab.tasks.list({ examId: exam.id })[3]

    const saved = lab.saveExamAsTemplate(exam.id, 'Head, thin T1', bob)
    expect(saved).toMatchObject({ name: 'Head, thin T1', description: 'routine head', indication: 'headache', createdBy: 'bob' })
    expect(saved.id).not.toBe('tpl-head')
    const workflows = lab.workflowTemplates.list({ examTemplateId: saved.id })
    expect(workflows.map((w) => w.name)).toEqual(['Localiser', 'T1'])
    const taskTemplates = workflows.flatMap((w) => lab.taskTemplates.list({ workflowTemplateId: w.id }))
    expect(taskTemplates.map((t) => t.name)).toEqual(['Localiser GRE', 'Localiser images', 'T1 GRE thin', 'T1 images'])
    // nothing of the exam's run or ids travels: only what a task is
    for (const t of taskTemplates) {
      expect(Object.keys(t).sort()).toEqual(['createdAt', 'createdBy', 'description', 'id', 'name', 'parameters', 'position', 'type', 'updatedAt', 'updatedBy', 'workflowTemplateId'])
      expect(lab.tasks.get(t.id)).toBeUndefined()
    }
    expect(taskTemplates[2].parameters).toEqual(lab.tasks.get(t1Acq.id)?.parameters)
    expect(taskTemplates[3].parameters).toEqual({ ...t1Recon.parameters, inputTaskId: taskTemplates[2].id })
    expect(taskTemplates[1].parameters).toMatchObject({ inputTaskId: taskTemplates[0].id })

    const again = lab.instantiateExam(saved.id, patientId, alice)
    const copies = lab.tasks.list({ examId: again.id })
    expect(copies.map((t) => [t.name, t.status])).toEqual([['Localiser GRE', 'NEW'], ['Localiser images', 'NEW'], ['T1 GRE thin', 'NEW'], ['T1 images', 'NEW']])
    expect(copies[2].parameters).toEqual(lab.tasks.get(t1Acq.id)?.parameters)
    expect(copies[3].parameters).toMatchObject({ inputTaskId: copies[2].id })
    expect(lab.results.list({ taskId: copies[0].id })).toEqual([])
    expect(() => lab.saveExamAsTemplate('ghost', undefined, alice)).toThrow(new LabNotFoundError('exam', 'ghost'))
  })

  it('give a lab its starter templates once, recorded in its meta, and never again once deleted', () => {
    const source = new MemoryDocSource()
    const lab = new Lab(source, { now: steppingClock() })
    const starters: StarterTemplate[] = [{ key: 'head', tree: headTree() }]
    expect(lab.seedStarterTemplates(starters, alice)).toEqual(['head'])
    expect(source.get(LAB_DOC_ID).getMap(META).get(STARTER_TEMPLATES_META)).toEqual(['head'])
    // again, and after a restart (a new Lab over the same documents): nothing more
    expect(lab.seedStarterTemplates(starters, alice)).toEqual([])
    expect(new Lab(source).seedStarterTemplates(starters, alice)).toEqual([])
    expect(lab.examTemplates.list().map((t) => t.name)).toEqual(['Head'])
    // deleted by a user: stays deleted; a starter added later (a new release) is still given
    lab.examTemplates.remove('tpl-head', alice)
    const later = [...starters, { key: 'knee', tree: { ...headTree('knee'), id: 'tpl-knee', name: 'Knee' } }]
    expect(lab.seedStarterTemplates(later, alice)).toEqual(['knee'])
    expect(lab.examTemplates.list().map((t) => t.name)).toEqual(['Knee'])
    expect(source.get(LAB_DOC_ID).getMap(META).get(STARTER_TEMPLATES_META)).toEqual(['head', 'knee'])
    expect(lab.audit().filter((e) => e.entity === 'lab').map((e) => e.fields)).toEqual([[STARTER_TEMPLATES_META], [STARTER_TEMPLATES_META]])
  })

  it('two peers seeding the same starters before they sync end with one copy', () => {
    const a = new MemoryDocSource()
    const b = new MemoryDocSource()
    const labA = new Lab(a, { now: steppingClock() })
    const labB = new Lab(b, { now: steppingClock('2024-05-01T11:00:00.000Z') })
    const starters: StarterTemplate[] = [{ key: 'head', tree: headTree() }]
    labA.seedStarterTemplates(starters, alice)
    labB.seedStarterTemplates(starters, bob)
    sync(a, b)
    for (const lab of [labA, labB]) {
      expect(lab.examTemplates.list().map((t) => t.id)).toEqual(['tpl-head'])
      expect(lab.workflowTemplates.list()).toHaveLength(2)
      expect(lab.taskTemplates.list()).toHaveLength(4)
    }
    // a peer that receives the record before seeding adds nothing
    const c = new MemoryDocSource()
    sync(a, c)
    expect(new Lab(c).seedStarterTemplates(starters, alice)).toEqual([])
  })
})

/** A small head template: localiser and T1, each an acquisition and its reconstruction. */
function headTree (prefix = 'tpl'): ExamTemplateTree {
  const pair = (key: string, name: string, sequenceId: string): ExamTemplateTree['workflows'][number] => ({
    id: `${prefix}-${key}`,
    name,
    tasks: [
      { id: `${prefix}-${key}-acq`, name: `${name} GRE`, type: 'ACQUISITION', parameters: { sequenceId } },
      { id: `${prefix}-${key}-recon`, name: `${name} images`, type: 'RECONSTRUCTION', parameters: { pipeline: 'cartesian', inputTaskId: `${prefix}-${key}-acq` } }
    ]
  })
  return { id: `${prefix}-head`, name: 'Head', description: 'routine head', workflows: [pair('loc', 'Localiser', 'builtin-gre'), pair('t1', 'T1', 'builtin-gre-multislice')] }
}
