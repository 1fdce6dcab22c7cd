// Raw data to images across real peers, as a lab runs them: three `scanhub start` processes (a scanner
// and two reconstruction peers) joined by invites. A scan started through the REST API starts the
// reconstruction task that follows it in the workflow; a reconstruction peer takes the job, streams
// the raw data while it is acquired, and the DICOM images it stores are recorded on the scanner and can
// be fetched from any peer.
import { afterEach, describe, expect, it } from 'vitest'
import { readDicom } from '../protocol/dicom/index.ts'
import { TestLab, eventually, type PeerProcess } from './support/peer-process.ts'

let lab: TestLab
afterEach(async () => { await lab?.cleanup() })

const patient = { firstName: 'Ada', lastName: 'Lovelace', birthDate: '1985-12-10', sex: 'FEMALE' }

async function connected (peer: PeerProcess): Promise<string[]> {
  const { body } = await peer.api<{ peers: Array<{ name: string, connected: boolean }> }>('GET', '/api/v1/status')
  return body.peers.filter((p) => p.connected).map((p) => p.name).sort()
}

describe('reconstruction across peers', () => {
  it('a scan on the scanner peer gives DICOM images that every peer can fetch', async () => {
    lab = new TestLab()
    const scanner = await lab.peer({ name: 'scanner', roles: 'hub,scanner' })
    await scanner.start()
    // one-time invites, one per laptop, each for a recon peer
    const recon1 = await lab.peer({ name: 'recon1', roles: 'recon', join: scanner.invite({ kind: 'recon' }) })
    const recon2 = await lab.peer({ name: 'recon2', roles: 'recon', join: scanner.invite({ kind: 'recon' }) })
    await Promise.all([recon1.start(), recon2.start()])
    for (const peer of [recon1, recon2]) {
      await eventually(async () => (await connected(peer)).includes('scanner'), 15_000, `${peer.name} connected to the scanner`)
    }
    const device = (await scanner.api<Array<{ id: string }>>('GET', '/api/v1/devices')).body[0]
    const p = (await scanner.api('POST', '/api/v1/patients', patient)).body
    const exam = (await scanner.api('POST', '/api/v1/exams', { patientId: p.id, name: 'Head' })).body
    const wf = (await scanner.api('POST', '/api/v1/workflows', { examId: exam.id, name: 'Routine' })).body
    const acquisition = (await scanner.api('POST', '/api/v1/tasks', {
      workflowId: wf.id, type: 'ACQUISITION', name: 'GRE', parameters: { sequenceId: 'builtin-gre-multislice', deviceId: device.id }
    })).body
    const recon = await scanner.api('POST', '/api/v1/tasks', {
      workflowId: wf.id, type: 'RECONSTRUCTION', name: 'Images', parameters: { pipeline: 'default', inputTaskId: acquisition.id }
    })
    expect(recon.status, JSON.stringify(recon.body)).toBe(201)
    expect((await scanner.api('POST', `/api/v1/tasks/${acquisition.id}/start`)).status).toBe(202)

    // the reconstruction starts with the acquisition, and finishes after it
    const done = await eventually(async () => {
      const t = (await scanner.api('GET', `/api/v1/tasks/${recon.body.id}`)).body
      if (t.status === 'ERROR') throw new Error(`reconstruction failed: ${t.error}`)
      return t.status === 'FINISHED' ? t : undefined
    }, 60_000, 'reconstruction FINISHED')
    const dicom = done.results.filter((r: { type: string }) => r.type === 'DICOM')
    // the built-in multi-slice GRE has 5 slices: one result each
    expect(dicom).toHaveLength(5)
    expect(new Set(dicom.map((r: { epoch: number }) => r.epoch))).toEqual(new Set([1]))
    const acquired = (await scanner.api('GET', `/api/v1/tasks/${acquisition.id}`)).body
    expect(acquired.status).toBe('FINISHED')

    // every peer serves every image: from its own store or fetched from a peer that has it
    const instanceNumbers: number[] = []
    for (const result of dicom) {
      const file = result.files[0]
      expect(file.type).toBe('application/dicom')
      for (const peer of [scanner, recon1, recon2]) {
        const res = await fetch(`${peer.baseUrl}/api/v1/blobs/${file.sha256}`, { headers: { 'x-api-key': peer.apiKey } })
        expect(res.status, `${peer.name} serves ${file.name}`).toBe(200)
        const image = readDicom(new Uint8Array(await res.arrayBuffer()))
        if (peer === recon2) instanceNumbers.push(Number(image.dataset.InstanceNumber))
        expect(image.dataset.PatientID).toBe(p.id)
      }
    }
    expect(instanceNumbers.sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5])
  }, 150_000)
})
