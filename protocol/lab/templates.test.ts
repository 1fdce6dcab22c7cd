import { describe, expect, it } from 'vitest'
import { LabNotFoundError } from './errors.ts'
import { Lab } from './lab.ts'
import { MemoryDocSource } from './memory-doc-source.ts'
import { alice, jane, steppingClock } from './test-support.ts'

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
})
