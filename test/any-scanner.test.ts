// The hub's start route for an acquisition on "any scanner", as a starter template makes them: the
// lab's scanner is written into the task, whose scanner peer then plays it; and the starter Phantom QA
// runs through (its calibrations, gradient echo and EPI, each reconstructed by its pipeline).
import { afterEach, describe, expect, it } from 'vitest'
import { TestLab, eventually } from './support/peer-process.ts'

let lab: TestLab
afterEach(async () => { await lab?.cleanup() })

interface TaskJson { id: string, name: string, type: string, status: string, error?: string, parameters: { deviceId?: string, inputTaskId?: string } }

describe('an acquisition on any scanner, started through the hub', () => {
  it('runs on the lab\'s scanner, and its reconstruction reads it', async () => {
    lab = new TestLab()
    const peer = await lab.peer({ name: 'console', roles: 'hub,scanner,recon' })
    await peer.start()
    const device = await eventually(async () => (await peer.api<Array<{ id: string }>>('GET', '/api/v1/devices')).body[0], 15_000, 'the virtual scanner')
    const patient = (await peer.api('POST', '/api/v1/patients', { firstName: 'Ada', lastName: 'Lovelace', birthDate: '1985-12-10', sex: 'FEMALE', heightCm: 170, weightKg: 60 })).body
    const exam = (await peer.api('POST', '/api/v1/templates/exams/starter-head/instantiate', { patientId: patient.id })).body
    const tasks = (await peer.api<TaskJson[]>('GET', `/api/v1/tasks?examId=${encodeURIComponent(exam.id as string)}`)).body
    const localiser = tasks.find((t) => t.name === 'Localiser') as TaskJson
    const images = tasks.find((t) => t.name === 'Localiser images') as TaskJson
    expect(localiser.parameters.deviceId).toBeUndefined()
    expect(images.parameters.inputTaskId).toBe(localiser.id)

    const started = await peer.api<TaskJson>('POST', `/api/v1/tasks/${localiser.id}/start`)
    expect(started.status).toBe(202)
    expect(started.body.parameters.deviceId).toBe(device.id)
    await eventually(async () => {
      const t = (await peer.api<TaskJson>('GET', `/api/v1/tasks/${images.id}`)).body
      if (t.status === 'ERROR') throw new Error(`reconstruction failed: ${t.error ?? ''}`)
      if (t.status === 'NEW') await peer.api('POST', `/api/v1/tasks/${images.id}/start`)
      return t.status === 'FINISHED' ? t : undefined
    }, 90_000, 'the localiser reconstructed')
    expect((await peer.api<TaskJson>('GET', `/api/v1/tasks/${localiser.id}`)).body.status).toBe('FINISHED')
  }, 150_000)

  it('runs the starter Phantom QA: calibrations, gradient echo and EPI, each reconstructed', async () => {
    lab = new TestLab()
    const peer = await lab.peer({ name: 'console', roles: 'hub,scanner,recon' })
    await peer.start()
    await eventually(async () => (await peer.api<unknown[]>('GET', '/api/v1/devices')).body[0], 15_000, 'the virtual scanner')
    const patient = (await peer.api('POST', '/api/v1/patients', { firstName: 'Quality', lastName: 'Phantom', birthDate: '2000-01-01', sex: 'OTHER', heightCm: 30, weightKg: 5 })).body
    const exam = (await peer.api('POST', '/api/v1/templates/exams/starter-phantom-qa/instantiate', { patientId: patient.id })).body
    const tasks = (await peer.api<TaskJson[]>('GET', `/api/v1/tasks?examId=${encodeURIComponent(exam.id as string)}`)).body
    expect(tasks.map((t) => t.name)).toEqual(['QA gradient echo', 'QA gradient echo images', 'QA EPI', 'QA EPI images'])
    for (const t of tasks.filter((t) => t.type === 'ACQUISITION')) expect((await peer.api('POST', `/api/v1/tasks/${t.id}/start`)).status).toBe(202)
    for (const t of tasks.filter((t) => t.type === 'RECONSTRUCTION')) {
      await eventually(async () => {
        const now = (await peer.api<TaskJson & { results: Array<{ type: string }> }>('GET', `/api/v1/tasks/${t.id}`)).body
        if (now.status === 'ERROR') throw new Error(`${t.name} failed: ${now.error ?? ''}`)
        if (now.status === 'NEW') await peer.api('POST', `/api/v1/tasks/${t.id}/start`)
        return now.status === 'FINISHED' && now.results.some((r) => r.type === 'DICOM') ? now : undefined
      }, 90_000, `${t.name} reconstructed`)
    }
    // the calibrations ran and left their records
    const gre = (await peer.api<{ results: Array<{ type: string }> }>('GET', `/api/v1/tasks/${tasks[0].id}`)).body
    expect(gre.results.filter((r) => r.type === 'CALIBRATION')).toHaveLength(3)
  }, 150_000)
})
