import { promises as fs } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { Lab } from '../../protocol/lab/index.ts'
import type { Actor } from '../../protocol/lab/index.ts'
import { PIPELINES } from '../../protocol/reconstruction-pipelines.ts'
import { BUILTIN_SEQUENCES } from '../../protocol/pulseq/index.ts'
import { DocStore } from '../storage/doc-store.ts'
import { STARTER_TEMPLATES, seedStarterTemplates } from './starter-templates.ts'

const hub: Actor = { name: 'peer:hub', peerId: 'peer-hub' }
const ada: Actor = { name: 'ada', peerId: 'peer-browser' }

let dir: string
let logged: string[]

beforeEach(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'scanhub-starter-templates-'))
  logged = []
})

afterEach(async () => {
  await fs.rm(dir, { recursive: true, force: true })
})

/** A hub's start: its documents opened from disk, and the starters seeded. */
async function startHub (): Promise<{ lab: Lab, docs: DocStore, added: string[] }> {
  const docs = await DocStore.open(dir)
  const lab = new Lab(docs)
  lab.initLab({ labId: 'lab-1', labName: 'Test lab' }, hub)
  const added = await seedStarterTemplates({ lab, docs, actor: hub, log: (m) => { logged.push(m) } })
  return { lab, docs, added }
}

describe('starter templates', () => {
  it('a new lab has them once, also after a restart, and a deleted one does not come back', async () => {
    const first = await startHub()
    expect(first.added).toEqual(['head', 'phantom-qa'])
    expect(first.lab.examTemplates.list().map((t) => t.name)).toEqual(['Head examination', 'Phantom QA'])
    expect(logged).toEqual(['templates: the lab starts with "Head examination", "Phantom QA" (Library → Templates)'])
    await first.docs.close()

    const second = await startHub()
    expect(second.added).toEqual([])
    expect(second.lab.examTemplates.list()).toHaveLength(2)
    expect(second.lab.workflowTemplates.list()).toHaveLength(5)
    expect(second.lab.taskTemplates.list()).toHaveLength(10)
    second.lab.examTemplates.remove('starter-head', ada)
    await second.docs.close()

    const third = await startHub()
    expect(third.added).toEqual([])
    expect(third.lab.examTemplates.list().map((t) => t.name)).toEqual(['Phantom QA'])
    expect(logged).toHaveLength(1)
    await third.docs.close()
  })

  it('name built-in sequences and standard pipelines, and reconstruct the acquisition of their own workflow', () => {
    // the ids node/lab/seed-sequences.ts gives the built-ins
    const sequences = new Set(Object.keys(BUILTIN_SEQUENCES).map((name) => `builtin-${name}`))
    const pipelines = new Set(PIPELINES.map((p) => p.name))
    for (const { tree } of STARTER_TEMPLATES) {
      for (const workflow of tree.workflows) {
        const acquisitions = workflow.tasks.filter((t) => t.type === 'ACQUISITION')
        expect(acquisitions).toHaveLength(1)
        const acquisition = acquisitions[0].parameters as { sequenceId?: string, deviceId?: string }
        expect(sequences).toContain(acquisition.sequenceId)
        // no device: any scanner of the lab
        expect(acquisition.deviceId).toBeUndefined()
        for (const task of workflow.tasks.filter((t) => t.type === 'RECONSTRUCTION')) {
          const p = task.parameters as { pipeline: string, inputTaskId?: string }
          expect(pipelines).toContain(p.pipeline)
          expect(p.inputTaskId).toBe(acquisitions[0].id)
        }
      }
    }
  })

  it('make an exam whose every task can start without an edit', async () => {
    const { lab, docs } = await startHub()
    const patient = lab.patients.create({ firstName: 'Hana', lastName: 'Head', birthDate: '1990-01-01', sex: 'FEMALE' }, ada)
    const exam = lab.instantiateExam('starter-head', patient.id, ada)
    const workflows = lab.workflows.list({ examId: exam.id })
    expect(workflows.map((w) => w.name)).toEqual(['Localiser', 'T1-weighted GRE', 'T2-weighted TSE'])
    for (const workflow of workflows) {
      const [acquisition, reconstruction] = lab.tasks.list({ workflowId: workflow.id })
      expect(acquisition.parameters).toMatchObject({ sequenceId: expect.stringMatching(/^builtin-/) })
      expect(reconstruction.parameters).toMatchObject({ inputTaskId: acquisition.id })
    }
    await docs.close()
  })
})
