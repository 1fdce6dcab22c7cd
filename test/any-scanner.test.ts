// The hub's start route for an acquisition on "any scanner", as a starter template makes them: the
// lab's scanner is written into the task, whose scanner peer then plays it.
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
})
