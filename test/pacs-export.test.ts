// Sending a lab's images to a real PACS: Orthanc (Debian's orthanc and orthanc-dicomweb) started here on
// loopback, a ScanHub peer with every role (hub, scanner, recon) scanning the virtual scanner's phantom,
// and what arrives read back through Orthanc's REST API.
import { connect, createServer, type Server, type Socket } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { readDicom } from '../protocol/dicom/index.ts'
import { Orthanc, freePort, hasOrthanc } from './support/orthanc.ts'
import { TestLab, eventually, type PeerProcess } from './support/peer-process.ts'

const withOrthanc = hasOrthanc()

let lab: TestLab
let peer: PeerProcess
let orthanc: Orthanc
let deviceId: string

interface ExportView { id: string, state: string, total: number, sent: number, skipped: number, failed: number, attempts: number, lastError?: string, errors: unknown[], automatic: boolean }

async function settled (id: string, timeoutMs = 60_000): Promise<ExportView> {
  return await eventually(async () => {
    const view = (await peer.api<ExportView>('GET', `/api/v1/exports/${id}`)).body
    return view.state === 'done' || view.state === 'failed' ? view : undefined
  }, timeoutMs, `export ${id} done or failed`)
}

/** A patient with one exam whose GRE scan of the phantom has been reconstructed; its exam and reconstruction task. */
async function scannedExam (patient: Record<string, unknown>, examFields: Record<string, unknown> = {}): Promise<{ patientId: string, examId: string, reconId: string }> {
  const p = (await peer.api('POST', '/api/v1/patients', { birthDate: '1985-12-10', sex: 'FEMALE', ...patient })).body
  const exam = (await peer.api('POST', '/api/v1/exams', { patientId: p.id, name: 'Head', ...examFields })).body
  const wf = (await peer.api('POST', '/api/v1/workflows', { examId: exam.id, name: 'Routine' })).body
  const acq = (await peer.api('POST', '/api/v1/tasks', { workflowId: wf.id, type: 'ACQUISITION', name: 'GRE', parameters: { sequenceId: 'builtin-gre', deviceId } })).body
  const recon = (await peer.api('POST', '/api/v1/tasks', { workflowId: wf.id, type: 'RECONSTRUCTION', name: 'Images', parameters: { pipeline: 'cartesian', inputTaskId: acq.id } })).body
  expect((await peer.api('POST', `/api/v1/tasks/${acq.id}/start`)).status).toBe(202)
  await finished(recon.id)
  return { patientId: p.id, examId: exam.id, reconId: recon.id }
}

async function finished (taskId: string, timeoutMs = 60_000): Promise<void> {
  await eventually(async () => {
    const t = (await peer.api('GET', `/api/v1/tasks/${taskId}`)).body
    if (t.status === 'ERROR') throw new Error(`reconstruction failed: ${t.error}`)
    return t.status === 'FINISHED'
  }, timeoutMs, `task ${taskId} FINISHED`)
}

async function dicomOf (taskId: string): Promise<Array<ReturnType<typeof readDicom>>> {
  const task = (await peer.api('GET', `/api/v1/tasks/${taskId}`)).body
  const files = task.results.filter((r: { type: string }) => r.type === 'DICOM').flatMap((r: { files: unknown[] }) => r.files) as Array<{ sha256: string }>
  return await Promise.all(files.map(async (f) => readDicom(await fetch(`${peer.baseUrl}/api/v1/blobs/${f.sha256}`, { headers: { 'x-api-key': peer.apiKey } }).then(async (r) => await r.arrayBuffer()))))
}

async function createDestination (body: Record<string, unknown>): Promise<string> {
  const created = await peer.api('POST', '/api/v1/destinations', body)
  expect(created.status).toBe(201)
  return created.body.id
}

/**
 * A TCP relay that hands each chunk on after a pause, so that sending takes long enough to stop the PACS
 * in the middle of it. The PACS behind it is real; only the wire is slow.
 */
function slowRelay (targetPort: number, delayMs: number): Promise<{ port: number, server: Server }> {
  const sockets = new Set<Socket>()
  const server = createServer((client) => {
    const upstream = connect(targetPort, '127.0.0.1')
    sockets.add(client).add(upstream)
    const end = (): void => { client.destroy(); upstream.destroy() }
    client.on('error', end).on('close', end)
    upstream.on('error', end).on('close', end)
    upstream.pipe(client)
    client.on('data', (chunk) => {
      client.pause()
      setTimeout(() => { if (!upstream.destroyed) upstream.write(chunk); client.resume() }, delayMs)
    })
  })
  server.on('close', () => { for (const s of sockets) s.destroy() })
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ port: (server.address() as { port: number }).port, server })))
}

beforeAll(async () => {
  if (!withOrthanc) return
  orthanc = new Orthanc()
  await orthanc.start()
  lab = new TestLab()
  peer = await lab.peer({ name: 'scanner-room', roles: 'hub,scanner,recon' })
  await peer.start()
  deviceId = (await peer.api<Array<{ id: string }>>('GET', '/api/v1/devices')).body[0].id
}, 60_000)

afterAll(async () => {
  await lab?.cleanup()
  await orthanc?.cleanup()
})

describe.skipIf(!withOrthanc)('sending images to a PACS', () => {
  it('destinations: validated, "test connection" by C-ECHO and QIDO-RS with clear errors, the password never answered', async () => {
    const bad = await peer.api('POST', '/api/v1/destinations', { name: 'Bad', kind: 'dimse', aeTitle: 'WAY-TOO-LONG-AE-TITLE', host: '127.0.0.1', port: 104 })
    expect(bad.status).toBe(400)
    expect(bad.body.error).toMatch(/aeTitle must be a DICOM AE title/)
    expect((await peer.api('POST', '/api/v1/destinations', { name: 'Bad', kind: 'dimse', aeTitle: 'A', host: '127.0.0.1', port: 70000 })).body.error).toMatch(/port must be a port number from 1 to 65535/)

    const good = await createDestination({ name: 'Orthanc', kind: 'dimse', aeTitle: orthanc.aeTitle, host: '127.0.0.1', port: orthanc.dicomPort })
    const echo = (await peer.api('POST', `/api/v1/destinations/${good}/echo`)).body
    expect(echo).toMatchObject({ ok: true })
    expect(typeof echo.ms).toBe('number')

    const wrongAe = await createDestination({ name: 'Wrong AE', kind: 'dimse', aeTitle: 'NOT-ORTHANC', host: '127.0.0.1', port: orthanc.dicomPort })
    const rejected = (await peer.api('POST', `/api/v1/destinations/${wrongAe}/echo`)).body
    expect(rejected.ok).toBe(false)
    expect(rejected.error).toMatch(/rejected the association permanently: the called AE title is not recognised/)

    const closed = await createDestination({ name: 'Nobody', kind: 'dimse', aeTitle: 'PACS', host: '127.0.0.1', port: await freePort() })
    expect((await peer.api('POST', `/api/v1/destinations/${closed}/echo`)).body.error).toMatch(/connection refused by 127\.0\.0\.1:\d+/)

    const web = await createDestination({ name: 'Orthanc DICOMweb', kind: 'dicomweb', url: orthanc.dicomWebUrl, username: 'lab', password: 'secret' })
    expect((await peer.api('POST', `/api/v1/destinations/${web}/echo`)).body).toMatchObject({ ok: true })
    const listed = (await peer.api<Array<Record<string, unknown>>>('GET', '/api/v1/destinations')).body.find((d) => d.id === web)
    expect(listed).toMatchObject({ kind: 'dicomweb', username: 'lab', hasPassword: true })
    expect(listed).not.toHaveProperty('password')
    expect((await peer.api('PATCH', `/api/v1/destinations/${web}`, { kind: 'dimse' })).body.error).toBe('kind cannot be changed')
    for (const id of [wrongAe, closed, web]) expect((await peer.api('DELETE', `/api/v1/destinations/${id}`)).status).toBe(204)
    expect((await peer.api('GET', `/api/v1/destinations/${web}`)).status).toBe(404)
    // what the app builds on is in the API's own description
    const paths = Object.keys((await peer.api('GET', '/api/v1/openapi.json')).body.paths)
    expect(paths).toEqual(expect.arrayContaining(['/api/v1/destinations', '/api/v1/destinations/{id}/echo', '/api/v1/exports', '/api/v1/exports/{id}']))
  }, 30_000)

  it('users: an engineer may change destinations, a medical user may test and send but not change them, a viewer only reads', async () => {
    const tokens: Record<string, string> = {}
    for (const role of ['engineer', 'medical', 'viewer']) {
      const user = { username: `${role}1`, firstName: role, lastName: 'User', role, password: 'correct horse battery staple' }
      expect((await peer.api('POST', '/api/v1/users', user)).status).toBe(201)
      const login = await fetch(`${peer.baseUrl}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: user.username, password: user.password }) })
      tokens[role] = (await login.json() as { token: string }).token
    }
    const as = async (role: string, method: string, path: string, body?: unknown): Promise<{ status: number, body: Record<string, unknown> }> => {
      const response = await fetch(peer.baseUrl + path, {
        method,
        headers: { authorization: `Bearer ${tokens[role]}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {})
      })
      return { status: response.status, body: await response.json().catch(() => ({})) as Record<string, unknown> }
    }
    const destination = { name: 'By engineer', kind: 'dimse', aeTitle: orthanc.aeTitle, host: '127.0.0.1', port: orthanc.dicomPort }
    const created = await as('engineer', 'POST', '/api/v1/destinations', destination)
    expect(created.status).toBe(201)
    expect(created.body.createdBy).toBe('engineer1')
    const id = created.body.id as string
    expect((await as('medical', 'POST', '/api/v1/destinations', destination)).status).toBe(401)
    expect((await as('medical', 'PATCH', `/api/v1/destinations/${id}`, { port: 1 })).status).toBe(401)
    expect((await as('medical', 'POST', `/api/v1/destinations/${id}/echo`)).body).toMatchObject({ ok: true })
    expect((await as('medical', 'POST', '/api/v1/exports', { destinationId: id, examId: 'no-such-exam' })).status).toBe(404)
    expect((await as('viewer', 'GET', '/api/v1/destinations')).status).toBe(200)
    expect((await as('viewer', 'POST', `/api/v1/destinations/${id}/echo`)).status).toBe(401)
    expect((await as('viewer', 'POST', '/api/v1/exports', { destinationId: id, examId: 'x' })).status).toBe(401)
    expect((await as('engineer', 'DELETE', `/api/v1/destinations/${id}`)).status).toBe(204)
  }, 30_000)

  it('a scan\'s series arrives in Orthanc with its patient, study and every image; sending it again sends nothing twice', async () => {
    const destinationId = await createDestination({ name: 'Orthanc C-STORE', kind: 'dimse', aeTitle: orthanc.aeTitle, host: '127.0.0.1', port: orthanc.dicomPort })
    const { examId, reconId } = await scannedExam({ firstName: 'Ada', lastName: 'Lovelace', mrn: 'MRN-0815' }, { accessionNumber: 'ACC-42' })
    const images = await dicomOf(reconId)
    expect(images.length).toBeGreaterThan(0)
    const studyUid = images[0].dataset.StudyInstanceUID as string

    const queued = await peer.api('POST', '/api/v1/exports', { destinationId, examId })
    expect(queued.status).toBe(202)
    const done = await settled(queued.body.id)
    expect(done).toMatchObject({ state: 'done', total: images.length, sent: images.length, skipped: 0, failed: 0, errors: [] })

    const patients = await orthanc.get<string[]>('/patients?expand')
    const patient = (patients as unknown as Array<{ MainDicomTags: Record<string, string>, Studies: string[] }>).find((p) => p.MainDicomTags.PatientID === 'MRN-0815')
    expect(patient?.MainDicomTags.PatientName).toBe('Lovelace^Ada')
    expect(patient?.Studies).toHaveLength(1)
    const study = await orthanc.get(`/studies/${patient!.Studies[0]}`)
    expect(study.MainDicomTags.StudyInstanceUID).toBe(studyUid)
    expect(study.MainDicomTags.AccessionNumber).toBe('ACC-42')
    expect(study.Series).toHaveLength(1)
    const instances = await orthanc.get<unknown[]>(`/series/${study.Series[0]}/instances`)
    expect(instances).toHaveLength(images.length)

    const again = await settled((await peer.api('POST', '/api/v1/exports', { destinationId, taskId: reconId })).body.id)
    expect(again).toMatchObject({ state: 'done', sent: 0, skipped: images.length })
    expect((await peer.api<ExportView[]>('GET', '/api/v1/exports')).body.map((e) => e.id)).toEqual(expect.arrayContaining([queued.body.id, again.id]))
    expect((await peer.api('POST', '/api/v1/exports', { destinationId, examId: 'no-such-exam' })).status).toBe(404)
    expect((await peer.api('POST', '/api/v1/exports', { destinationId, examId, taskId: reconId })).status).toBe(400)
  }, 90_000)

  it('ten patients scanned with an exam template that sends automatically make ten studies in Orthanc; a restart of Orthanc and of the peer mid-send loses and doubles nothing', async () => {
    // a second Orthanc, reached through a slow wire so that it can be stopped in the middle of sending
    const pacs = new Orthanc({ aeTitle: 'PACS2' })
    await pacs.start()
    const relay = await slowRelay(pacs.dicomPort, 120)
    try {
      const destinationId = await createDestination({ name: 'PACS2', kind: 'dimse', aeTitle: 'PACS2', host: '127.0.0.1', port: relay.port })
      const template = (await peer.api('POST', '/api/v1/templates/exams', { name: 'Head (to PACS)', autoExportDestinationIds: [destinationId] })).body
      const wfTemplate = (await peer.api('POST', '/api/v1/templates/workflows', { examTemplateId: template.id, name: 'Routine' })).body
      const acqTemplate = (await peer.api('POST', '/api/v1/templates/tasks', { workflowTemplateId: wfTemplate.id, type: 'ACQUISITION', name: 'GRE', parameters: { sequenceId: 'builtin-gre', deviceId } })).body
      await peer.api('POST', '/api/v1/templates/tasks', { workflowTemplateId: wfTemplate.id, type: 'RECONSTRUCTION', name: 'Images', parameters: { pipeline: 'cartesian', inputTaskId: acqTemplate.id } })

      // stop Orthanc as soon as the first image is in: the rest is mid-send or still to be scanned
      const pacsStopped = (async () => {
        await eventually(async () => ((await pacs.get<{ CountInstances: number }>('/statistics')).CountInstances > 0), 120_000, 'a first image in PACS2')
        await pacs.stop('SIGKILL')
      })()
      // one scan after the other, as on a scanner; each finished reconstruction queues its export
      const exams: Array<{ examId: string, reconId: string }> = []
      for (let i = 0; i < 10; i++) {
        const p = (await peer.api('POST', '/api/v1/patients', { firstName: `Test${i}`, lastName: 'Patient', birthDate: '1970-01-01', sex: 'OTHER', mrn: `P-${i}` })).body
        const exam = (await peer.api('POST', `/api/v1/templates/exams/${template.id}/instantiate`, { patientId: p.id })).body
        expect(exam.autoExportDestinationIds).toEqual([destinationId])
        const tasks = (await peer.api<Array<{ id: string, type: string }>>('GET', `/api/v1/tasks?examId=${exam.id}`)).body
        const acq = tasks.find((t) => t.type === 'ACQUISITION')!
        const recon = tasks.find((t) => t.type === 'RECONSTRUCTION')!
        expect((await peer.api('POST', `/api/v1/tasks/${acq.id}/start`)).status).toBe(202)
        await finished(recon.id)
        exams.push({ examId: exam.id, reconId: recon.id })
      }
      await pacsStopped
      const retried = await eventually(async () => {
        const automatic = (await peer.api<ExportView[]>('GET', '/api/v1/exports')).body.filter((e) => e.automatic)
        return automatic.find((e) => e.attempts > 0)
      }, 60_000, 'an automatic export that could not reach PACS2')
      expect(retried.lastError).toMatch(/connection|closed|refused|ended the association/)
      // the peer restarts while the PACS is down; then the PACS comes back
      await peer.kill('SIGTERM')
      await peer.start()
      await pacs.start()
      const automatic = await eventually(async () => {
        const all = (await peer.api<Array<ExportView & { taskId: string }>>('GET', '/api/v1/exports')).body.filter((e) => e.automatic)
        return all.length === 10 && all.every((e) => e.state === 'done') ? all : undefined
      }, 60_000, 'ten automatic exports done')
      expect(new Set(automatic.map((e) => e.taskId))).toEqual(new Set(exams.map((e) => e.reconId)))
      const total = automatic.reduce((n, e) => n + e.total, 0)
      expect(automatic.reduce((n, e) => n + e.sent, 0)).toBe(total)
      expect(automatic.every((e) => e.failed === 0 && e.skipped === 0)).toBe(true)
      expect(automatic.some((e) => e.attempts > 0)).toBe(true)
      const stats = await pacs.get<{ CountStudies: number, CountInstances: number, CountPatients: number }>('/statistics')
      expect(stats).toMatchObject({ CountStudies: 10, CountPatients: 10, CountInstances: total })
    } finally {
      await new Promise((resolve) => relay.server.close(resolve))
      await pacs.cleanup()
    }
  }, 240_000)

  it('STOW-RS sends an exam to Orthanc\'s DICOMweb plugin; a PACS that refuses the association fails the export with the reason', async () => {
    const pacs = new Orthanc({ aeTitle: 'WEBPACS' })
    await pacs.start()
    try {
      const web = await createDestination({ name: 'DICOMweb', kind: 'dicomweb', url: pacs.dicomWebUrl })
      const { examId, reconId } = await scannedExam({ firstName: 'Grace', lastName: 'Hopper', mrn: 'MRN-1906' })
      const images = await dicomOf(reconId)
      const done = await settled((await peer.api('POST', '/api/v1/exports', { destinationId: web, examId })).body.id)
      expect(done).toMatchObject({ state: 'done', total: images.length, sent: images.length, failed: 0 })
      const studies = await fetch(`${pacs.dicomWebUrl}/studies?PatientID=MRN-1906`).then(async (r) => await r.json()) as Array<Record<string, { Value: unknown[] }>>
      expect(studies).toHaveLength(1)
      expect(studies[0]['0020000D'].Value[0]).toBe(images[0].dataset.StudyInstanceUID)

      const refusing = await createDestination({ name: 'Refusing', kind: 'dimse', aeTitle: 'SOMEONE-ELSE', host: '127.0.0.1', port: pacs.dicomPort })
      const failed = await settled((await peer.api('POST', '/api/v1/exports', { destinationId: refusing, examId })).body.id)
      expect(failed).toMatchObject({ state: 'failed', sent: 0 })
      expect(failed.lastError).toMatch(/the PACS rejected the association permanently: the called AE title is not recognised/)
    } finally {
      await pacs.cleanup()
    }
  }, 90_000)
})
