// The modality worklist against a real provider (dcmtk's wlmscpfs): the query lists the scheduled
// procedures, a pick makes the patient and exam with the hospital's identifiers, and the DICOM of a
// reconstruction in that exam carries its accession number and study instance UID (read with pydicom).
import { spawnSync } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DEBIAN_PYTHON, hasPythonModules } from './support/external-tools.ts'
import { freePort } from './support/orthanc.ts'
import { TestLab, eventually, type PeerProcess } from './support/peer-process.ts'
import { hasWorklistTools, WorklistProvider } from './support/worklist-provider.ts'

const ready = hasWorklistTools()
const STUDY_UID = '1.2.826.0.1.3680043.8.498.4711.20260412'
const DAY = '20260412'

const provider = new WorklistProvider('HOSPITALRIS', [
  {
    patientId: 'PID-WL-1', patientName: 'Curie^Marie', birthDate: '19671107', sex: 'F', accessionNumber: 'ACC-WL-1',
    requestedProcedureId: 'RP-1', requestedProcedureDescription: 'MR Brain without contrast', studyInstanceUid: STUDY_UID,
    modality: 'MR', stationAeTitle: 'SCANHUB01', startDate: DAY, startTime: '083000', stepId: 'SPS-1'
  },
  {
    patientId: 'PID-WL-2', patientName: 'Bohr^Niels', birthDate: '19851007', sex: 'M', accessionNumber: 'ACC-WL-2',
    requestedProcedureId: 'RP-2', requestedProcedureDescription: 'CT Thorax', studyInstanceUid: '1.2.826.0.1.3680043.8.498.4712',
    modality: 'CT', stationAeTitle: 'CT01', startDate: DAY, startTime: '093000', stepId: 'SPS-2'
  },
  // an order the hospital has not completed: no patient ID, birth date, sex or study UID
  { patientName: 'Nobody^Known', accessionNumber: 'ACC-WL-3', modality: 'MR', stationAeTitle: 'SCANHUB02', startDate: DAY, startTime: '1015', stepId: 'SPS-3', stepDescription: 'MR Knee' }
])

interface Entry { patientId?: string, accessionNumber?: string, scheduledProcedureStepId?: string, missing: string[], [key: string]: unknown }

let lab: TestLab
let peer: PeerProcess
let destinationId: string

describe.skipIf(!ready)('modality worklist from wlmscpfs', () => {
  beforeAll(async () => {
    await provider.start()
    lab = new TestLab()
    peer = await lab.peer({ name: 'scanner', roles: 'hub,scanner,recon' })
    await peer.start()
    const created = await peer.api('POST', '/api/v1/destinations', { name: 'Hospital RIS', kind: 'dimse', aeTitle: 'HOSPITALRIS', host: '127.0.0.1', port: provider.port })
    expect(created.status, JSON.stringify(created.body)).toBe(201)
    destinationId = created.body.id
  }, 120_000)

  afterAll(async () => {
    await lab?.cleanup()
    await provider.stop()
  })

  it('lists the scheduled MR procedures of a day, with what an incomplete answer lacks', async () => {
    const answer = await peer.api('GET', `/api/v1/worklist?date=${DAY}&modality=MR`)
    expect(answer.status, JSON.stringify(answer.body)).toBe(200)
    expect(answer.body.provider).toMatchObject({ id: destinationId, aeTitle: 'HOSPITALRIS' })
    const entries = answer.body.entries as Entry[]
    expect(entries.map((e) => e.accessionNumber).sort()).toEqual(['ACC-WL-1', 'ACC-WL-3'])
    const complete = entries.find((e) => e.accessionNumber === 'ACC-WL-1')
    expect(complete).toEqual({
      patientId: 'PID-WL-1', patientName: 'Curie^Marie', birthDate: '1967-11-07', sex: 'FEMALE', accessionNumber: 'ACC-WL-1',
      requestedProcedureId: 'RP-1', requestedProcedureDescription: 'MR Brain without contrast', studyInstanceUid: STUDY_UID,
      scheduledStart: '2026-04-12T08:30:00', modality: 'MR', stationAeTitle: 'SCANHUB01', scheduledProcedureStepId: 'SPS-1',
      missing: [], problems: []
    })
    const incomplete = entries.find((e) => e.accessionNumber === 'ACC-WL-3')
    expect(incomplete?.missing.sort()).toEqual(['birthDate', 'patientId', 'requestedProcedureId', 'sex', 'studyInstanceUid'])
    expect(incomplete).toMatchObject({ patientName: 'Nobody^Known', requestedProcedureDescription: 'MR Knee', scheduledStart: '2026-04-12T10:15' })

    // by station, by another modality, by a range that misses the day
    expect((await peer.api('GET', `/api/v1/worklist?date=${DAY}&station=SCANHUB01`)).body.entries.map((e: Entry) => e.accessionNumber)).toEqual(['ACC-WL-1'])
    expect((await peer.api('GET', `/api/v1/worklist?date=${DAY}&modality=CT`)).body.entries.map((e: Entry) => e.accessionNumber)).toEqual(['ACC-WL-2'])
    expect((await peer.api('GET', '/api/v1/worklist?date=20260401-20260411')).body.entries).toEqual([])
    expect((await peer.api('GET', '/api/v1/worklist?date=2026-04-12')).status).toBe(400)
  }, 60_000)

  it('refuses to pick an entry without a patient ID, in words', async () => {
    const { entries } = (await peer.api('GET', `/api/v1/worklist?date=${DAY}`)).body as { entries: Entry[] }
    const incomplete = entries.find((e) => e.accessionNumber === 'ACC-WL-3')
    const refused = await peer.api('POST', '/api/v1/worklist/pick', { entry: incomplete })
    expect(refused.status).toBe(400)
    expect(refused.body.error).toMatch(/no patient ID/)
    expect((await peer.api('GET', '/api/v1/patients')).body).toEqual([])
  }, 60_000)

  it('picks an entry into a patient and exam, and a reconstruction in it carries the accession number and study UID', async () => {
    const { entries } = (await peer.api('GET', `/api/v1/worklist?date=${DAY}`)).body as { entries: Entry[] }
    const entry = entries.find((e) => e.accessionNumber === 'ACC-WL-1')
    const picked = await peer.api('POST', '/api/v1/worklist/pick', { entry })
    expect(picked.status, JSON.stringify(picked.body)).toBe(201)
    expect(picked.body).toMatchObject({ patientCreated: true, examCreated: true })
    const patient = (await peer.api('GET', `/api/v1/patients/${picked.body.patientId}`)).body
    expect(patient).toMatchObject({ mrn: 'PID-WL-1', lastName: 'Curie', firstName: 'Marie', birthDate: '1967-11-07', sex: 'FEMALE' })
    const exam = (await peer.api('GET', `/api/v1/exams/${picked.body.examId}`)).body
    expect(exam).toMatchObject({ patientId: patient.id, name: 'MR Brain without contrast', accessionNumber: 'ACC-WL-1', studyInstanceUid: STUDY_UID })

    // found again at the provider by its accession number and step: the same patient and exam
    const again = await peer.api('POST', '/api/v1/worklist/pick', { accessionNumber: 'ACC-WL-1', scheduledProcedureStepId: 'SPS-1', date: DAY })
    expect(again.status, JSON.stringify(again.body)).toBe(201)
    expect(again.body).toEqual({ patientId: patient.id, examId: exam.id, patientCreated: false, examCreated: false })
    expect((await peer.api('GET', `/api/v1/exams?patientId=${patient.id}`)).body).toHaveLength(1)

    const device = (await peer.api<Array<{ id: string }>>('GET', '/api/v1/devices')).body[0]
    const wf = (await peer.api('POST', '/api/v1/workflows', { examId: exam.id, name: 'Routine' })).body
    const acq = (await peer.api('POST', '/api/v1/tasks', { workflowId: wf.id, type: 'ACQUISITION', name: 'GRE', parameters: { sequenceId: 'builtin-gre', deviceId: device.id } })).body
    const recon = (await peer.api('POST', '/api/v1/tasks', { workflowId: wf.id, type: 'RECONSTRUCTION', name: 'Images', parameters: { pipeline: 'cartesian', inputTaskId: acq.id } })).body
    expect((await peer.api('POST', `/api/v1/tasks/${acq.id}/start`)).status).toBe(202)
    const done = await eventually(async () => {
      const t = (await peer.api('GET', `/api/v1/tasks/${recon.id}`)).body
      if (t.status === 'ERROR') throw new Error(`reconstruction failed: ${t.error}`)
      return t.status === 'FINISHED' ? t : undefined
    }, 60_000, 'reconstruction FINISHED')
    const file = done.results.find((r: { type: string }) => r.type === 'DICOM').files[0]
    const response = await fetch(`${peer.baseUrl}/api/v1/blobs/${file.sha256}`, { headers: { 'x-api-key': peer.apiKey } })
    const bytes = Buffer.from(await response.arrayBuffer())

    if (!hasPythonModules('pydicom')) return
    const dir = await mkdtemp(join(tmpdir(), 'scanhub-worklist-dicom-'))
    try {
      await writeFile(join(dir, 'image.dcm'), bytes)
      const read = spawnSync(DEBIAN_PYTHON, ['-c', 'import json, sys, pydicom; d = pydicom.dcmread(sys.argv[1]); print(json.dumps({k: str(d.get(k, "")) for k in ["AccessionNumber", "StudyInstanceUID", "PatientID", "PatientName", "PatientBirthDate", "PatientSex"]}))', join(dir, 'image.dcm')], { encoding: 'utf8' })
      expect(read.status, read.stderr).toBe(0)
      expect(JSON.parse(read.stdout)).toEqual({
        AccessionNumber: 'ACC-WL-1', StudyInstanceUID: STUDY_UID, PatientID: 'PID-WL-1', PatientName: 'Curie^Marie', PatientBirthDate: '19671107', PatientSex: 'F'
      })
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  }, 120_000)

  it('lets admin, medical and scientist users ask and pick, and nobody else', async () => {
    const token = async (username: string, role: string): Promise<string> => {
      const password = 'correct horse battery staple'
      const made = await peer.api('POST', '/api/v1/users', { username, firstName: 'A', lastName: role, email: `${username}@lab.example`, role, password })
      expect(made.status, JSON.stringify(made.body)).toBe(201)
      const login = await fetch(`${peer.baseUrl}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username, password }) })
      return (await login.json() as { token: string }).token
    }
    const ask = async (bearer: string | undefined): Promise<number> => (await fetch(`${peer.baseUrl}/api/v1/worklist?date=${DAY}&destinationId=${destinationId}`, {
      headers: bearer === undefined ? {} : { authorization: `Bearer ${bearer}` }
    })).status
    expect(await ask(await token('marie', 'medical'))).toBe(200)
    const engineer = await token('ed', 'engineer')
    expect(await ask(engineer)).toBe(403)
    expect(await ask(await token('vera', 'viewer'))).toBe(403)
    expect(await ask(undefined)).toBe(401)
    const pick = await fetch(`${peer.baseUrl}/api/v1/worklist/pick`, { method: 'POST', headers: { authorization: `Bearer ${engineer}`, 'content-type': 'application/json' }, body: JSON.stringify({ accessionNumber: 'ACC-WL-2' }) })
    expect(pick.status).toBe(403)
    expect((await pick.json() as { error: string }).error).toMatch(/admin, medical, scientist/)
  }, 60_000)

  it('says why when the provider rejects the AE title or cannot be reached', async () => {
    const wrongAe = (await peer.api('POST', '/api/v1/destinations', { name: 'Wrong AE', kind: 'dimse', aeTitle: 'NOTTHERIS', host: '127.0.0.1', port: provider.port })).body
    const rejected = await peer.api('GET', `/api/v1/worklist?date=${DAY}&destinationId=${wrongAe.id}`)
    expect(rejected.status).toBe(502)
    expect(rejected.body.error).toMatch(/rejected the association: the called AE title is not recognised/)

    const closedPort = await freePort()
    const nowhere = (await peer.api('POST', '/api/v1/destinations', { name: 'Switched off', kind: 'dimse', aeTitle: 'HOSPITALRIS', host: '127.0.0.1', port: closedPort })).body
    const unreachable = await peer.api('GET', `/api/v1/worklist?date=${DAY}&destinationId=${nowhere.id}`)
    expect(unreachable.status).toBe(502)
    expect(unreachable.body.error).toMatch(/cannot reach the worklist provider at 127\.0\.0\.1:\d+: connection refused/)

    // with several DICOM destinations, the query must say which one provides the worklist
    const ambiguous = await peer.api('GET', `/api/v1/worklist?date=${DAY}`)
    expect(ambiguous.status).toBe(400)
    expect(ambiguous.body.error).toMatch(/destinationId/)
    // and the peer still answers the right one
    expect((await peer.api('GET', `/api/v1/worklist?date=${DAY}&destinationId=${destinationId}`)).status).toBe(200)
  }, 60_000)
})
