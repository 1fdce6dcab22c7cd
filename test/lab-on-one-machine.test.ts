// `npm start`'s lab: one process with every role (hub, scanner, recon) plans, scans and reconstructs.
import { afterEach, describe, expect, it } from 'vitest'
import { readDicom } from '../protocol/dicom/index.ts'
import { TestLab, eventually } from './support/peer-process.ts'

let lab: TestLab
afterEach(async () => { await lab?.cleanup() })

describe('a whole lab in one process', () => {
  it('scans on the virtual scanner and reconstructs DICOM images of the phantom', async () => {
    lab = new TestLab()
    const peer = await lab.peer({ name: 'laptop', roles: 'hub,scanner,recon' })
    await peer.start()
    const device = (await peer.api<Array<{ id: string }>>('GET', '/api/v1/devices')).body[0]
    const p = (await peer.api('POST', '/api/v1/patients', { firstName: 'Ada', lastName: 'Lovelace', birthDate: '1985-12-10', sex: 'FEMALE' })).body
    const exam = (await peer.api('POST', '/api/v1/exams', { patientId: p.id, name: 'Head' })).body
    const wf = (await peer.api('POST', '/api/v1/workflows', { examId: exam.id, name: 'Routine' })).body
    const acq = (await peer.api('POST', '/api/v1/tasks', { workflowId: wf.id, type: 'ACQUISITION', name: 'GRE', parameters: { sequenceId: 'builtin-gre', deviceId: device.id } })).body
    const recon = (await peer.api('POST', '/api/v1/tasks', { workflowId: wf.id, type: 'RECONSTRUCTION', name: 'Images', parameters: { pipeline: 'cartesian', inputTaskId: acq.id } })).body
    expect((await peer.api('POST', `/api/v1/tasks/${acq.id}/start`)).status).toBe(202)
    const done = await eventually(async () => {
      const t = (await peer.api('GET', `/api/v1/tasks/${recon.id}`)).body
      if (t.status === 'ERROR') throw new Error(`reconstruction failed: ${t.error}`)
      return t.status === 'FINISHED' ? t : undefined
    }, 60_000, 'reconstruction FINISHED')
    const dicom = done.results.filter((r: { type: string }) => r.type === 'DICOM')
    expect(dicom.length).toBeGreaterThan(0)
    const file = dicom[0].files[0]
    const bytes = await fetch(`${peer.baseUrl}/api/v1/blobs/${file.sha256}`, { headers: { 'x-api-key': peer.apiKey } }).then(async (r) => await r.arrayBuffer())
    const image = readDicom(bytes)
    expect([image.columns, image.rows]).toEqual([64, 64])
    // the phantom: bright inside the head, dark in the corners
    const at = (x: number, y: number): number => image.pixels[y * image.columns + x]
    expect(at(32, 32)).toBeGreaterThan(10 * Math.max(at(1, 1), 1))
    expect((await peer.api('GET', `/api/v1/exams/${exam.id}`)).body.status).toBe('FINISHED')
  }, 120_000)
})
