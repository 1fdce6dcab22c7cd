import { describe, expect, it } from 'vitest'
import { Lab } from './lab.ts'
import { MemoryDocSource } from './memory-doc-source.ts'
import { isStale, resultsByRun, runFileName, runOf } from './runs.ts'
import type { Result } from './schema.ts'
import { alice, bob, jane, steppingClock, sync } from './test-support.ts'

const sha = 'cd'.repeat(32)

/** A patient with an acquisition and its reconstruction in one workflow. */
function setup (): { lab: Lab, docs: MemoryDocSource, acquisition: string, recon: string } {
  const docs = new MemoryDocSource()
  const lab = new Lab(docs, { now: steppingClock() })
  const patient = lab.patients.create(jane, alice)
  const exam = lab.exams.create({ patientId: patient.id, name: 'Head' }, alice)
  const workflow = lab.workflows.create({ examId: exam.id, name: 'T1' }, alice)
  const acquisition = lab.tasks.create({ workflowId: workflow.id, type: 'ACQUISITION', name: 'GRE' }, alice).id
  const recon = lab.tasks.create({ workflowId: workflow.id, type: 'RECONSTRUCTION', name: 'Images', parameters: { pipeline: 'default', inputTaskId: acquisition } }, alice).id
  return { lab, docs, acquisition, recon }
}

/** One run of a task to its end, with a result of the given type. */
function runOnce (lab: Lab, taskId: string, type: 'RAW' | 'DICOM', name: string): Result {
  lab.tasks.setStatus(taskId, 'STARTED', alice)
  lab.tasks.setStatus(taskId, 'INPROGRESS', bob)
  const result = lab.results.create({ taskId, type, files: [{ name, sha256: sha, size: 10, type: 'application/octet-stream' }] }, bob)
  lab.tasks.setStatus(taskId, 'FINISHED', bob)
  return result
}

describe('runs of a task', () => {
  it('counts a run at each start and stamps every result with its run', () => {
    const { lab, acquisition } = setup()
    expect(lab.tasks.get(acquisition)?.run).toBeUndefined()
    expect(runOf(lab.tasks.get(acquisition)!)).toBe(0)
    expect(runOnce(lab, acquisition, 'RAW', 'GRE.mrd').run).toBe(1)
    expect(lab.tasks.get(acquisition)?.run).toBe(1)
    // starting twice in a row is one run
    lab.tasks.setStatus(acquisition, 'STARTED', alice)
    lab.tasks.setStatus(acquisition, 'STARTED', bob)
    expect(lab.tasks.get(acquisition)?.run).toBe(2)
    lab.tasks.setStatus(acquisition, 'CANCELLED', alice)
    // a cancelled run still counts: the next start is run 3
    expect(runOnce(lab, acquisition, 'RAW', 'GRE.mrd').run).toBe(3)
    // an explicitly given run is kept (an import of an older run)
    expect(lab.results.create({ taskId: acquisition, type: 'RAW', run: 1, files: [{ name: 'old.mrd', sha256: sha, size: 1, type: 'x' }] }, alice).run).toBe(1)
  })

  it('refuses run numbers set by hand on a task', () => {
    const { lab, acquisition } = setup()
    expect(() => lab.tasks.update(acquisition, { run: 5 } as never, alice)).toThrow('run cannot be changed')
  })

  it('counts a task that ran before runs were counted as one run', () => {
    expect(runOf({ status: 'FINISHED' })).toBe(1)
    expect(runOf({ status: 'NEW', startedAt: '2024-01-01T00:00:00Z' })).toBe(1)
    expect(runOf({ status: 'NEW' })).toBe(0)
    expect(runOf({ status: 'FINISHED', run: 4 })).toBe(4)
  })

  it('makes a finished reconstruction stale when its acquisition has new raw data, until it runs again', () => {
    const { lab, acquisition, recon } = setup()
    const stale = (): boolean => isStale(lab.tasks.get(recon)!, lab.tasks.get(acquisition), lab.results.list({ taskId: acquisition }))
    runOnce(lab, acquisition, 'RAW', 'GRE.mrd')
    runOnce(lab, recon, 'DICOM', 'image.dcm')
    expect(lab.tasks.get(recon)?.inputRun).toBe(1)
    expect(stale()).toBe(false)

    // the acquisition runs again: while it runs, the images still show the only raw data there is
    lab.tasks.setStatus(acquisition, 'STARTED', alice)
    expect(stale()).toBe(false)
    // a stopped re-run leaves no new raw data: nothing is stale
    lab.tasks.setStatus(acquisition, 'CANCELLED', alice)
    expect(stale()).toBe(false)
    // a re-run that records raw data makes the images stale
    runOnce(lab, acquisition, 'RAW', 'GRE.mrd')
    expect(lab.tasks.get(acquisition)?.run).toBe(3)
    expect(stale()).toBe(true)

    // re-running the reconstruction reads the newest run and is its second run
    const second = runOnce(lab, recon, 'DICOM', 'image.dcm')
    expect(second.run).toBe(2)
    expect(lab.tasks.get(recon)?.inputRun).toBe(3)
    expect(stale()).toBe(false)
  })

  it('notes the input run when the reconstruction takes its input, not only when it is started', () => {
    const { lab, acquisition, recon } = setup()
    // started before its acquisition ever ran: it waits, then reads the first run
    lab.tasks.setStatus(recon, 'STARTED', alice)
    expect(lab.tasks.get(recon)?.inputRun).toBe(0)
    runOnce(lab, acquisition, 'RAW', 'GRE.mrd')
    lab.tasks.setStatus(recon, 'INPROGRESS', bob)
    lab.tasks.setStatus(recon, 'FINISHED', bob)
    expect(lab.tasks.get(recon)?.inputRun).toBe(1)
    expect(isStale(lab.tasks.get(recon)!, lab.tasks.get(acquisition), lab.results.list({ taskId: acquisition }))).toBe(false)
  })

  it('derives staleness the same way on two peers that changed the tasks while apart', () => {
    const { lab, docs, acquisition, recon } = setup()
    runOnce(lab, acquisition, 'RAW', 'GRE.mrd')
    runOnce(lab, recon, 'DICOM', 'image.dcm')
    const otherDocs = new MemoryDocSource()
    sync(docs, otherDocs)
    const other = new Lab(otherDocs, { now: steppingClock('2024-05-01T11:00:00.000Z') })
    // the scanner's side acquires again; the tablet's side has not heard of it yet
    runOnce(other, acquisition, 'RAW', 'GRE.mrd')
    expect(isStale(lab.tasks.get(recon)!, lab.tasks.get(acquisition), lab.results.list({ taskId: acquisition }))).toBe(false)
    sync(docs, otherDocs)
    for (const l of [lab, other]) {
      expect(isStale(l.tasks.get(recon)!, l.tasks.get(acquisition), l.results.list({ taskId: acquisition }))).toBe(true)
    }
  })

  it('treats a reconstruction that finished before input runs were noted as having read the first run', () => {
    const raw = (run?: number): Result => ({ id: `r${run ?? 0}`, taskId: 'a', patientId: 'p', type: 'RAW', files: [], createdAt: '', createdBy: '', ...(run !== undefined ? { run } : {}) })
    const legacy = { type: 'RECONSTRUCTION' as const, status: 'FINISHED' as const }
    expect(isStale(legacy, { type: 'ACQUISITION' }, [raw()])).toBe(false)
    expect(isStale(legacy, { type: 'ACQUISITION' }, [raw(), raw(2)])).toBe(true)
    // only a finished reconstruction shows images that can be stale
    expect(isStale({ ...legacy, status: 'INPROGRESS' }, { type: 'ACQUISITION' }, [raw(2)])).toBe(false)
    // calibrations of a run are no raw data
    expect(isStale(legacy, { type: 'ACQUISITION' }, [{ ...raw(3), type: 'CALIBRATION' }])).toBe(false)
  })
})

describe('results by run', () => {
  it('groups the newest run first, oldest result first within a run, and older results as run 1', () => {
    const r = (id: string, createdAt: string, run?: number): Pick<Result, 'run' | 'createdAt'> & { id: string } => ({ id, createdAt, ...(run !== undefined ? { run } : {}) })
    const groups = resultsByRun([r('a', '1'), r('c', '4', 2), r('b', '3', 2), r('d', '5', 3)])
    expect(groups.map((g) => [g.run, g.results.map((x) => x.id)])).toEqual([[3, ['d']], [2, ['b', 'c']], [1, ['a']]])
    expect(resultsByRun([])).toEqual([])
  })

  it('names the files of later runs apart', () => {
    expect(runFileName('FID.mrd', 1)).toBe('FID.mrd')
    expect(runFileName('FID.mrd', 2)).toBe('FID-run2.mrd')
    expect(runFileName('FID-run2.mrd', 2)).toBe('FID-run2.mrd')
    expect(runFileName('image', 3)).toBe('image-run3')
    expect(runFileName('.hidden', 2)).toBe('.hidden-run2')
    expect(runFileName('slice.001.dcm', 2)).toBe('slice.001-run2.dcm')
  })
})
