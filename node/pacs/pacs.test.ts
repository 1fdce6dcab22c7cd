// C-ECHO, C-STORE, STOW-RS and the export queue against a real Orthanc started here on loopback.
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildTestFile } from '../../protocol/dicom/test-helpers.ts'
import { Lab, MemoryDocSource } from '../../protocol/lab/index.ts'
import type { DimseDestinationFields } from '../../protocol/lab/index.ts'
import { BlobStore } from '../storage/blob-store.ts'
import { Orthanc, freePort, hasOrthanc } from '../../test/support/orthanc.ts'
import { eventually } from '../../test/support/peer-process.ts'
import { dicomwebPing, dicomwebStore } from './dicomweb.ts'
import { dimseEcho, dimseStore } from './dimse.ts'
import { ExportQueue } from './export-queue.ts'
import type { ExportView } from './export-queue.ts'

const EXPLICIT_LE = '1.2.840.10008.1.2.1'
const withOrthanc = hasOrthanc()
const actor = { name: 'peer:test', peerId: 'peer-test' }

let orthanc: Orthanc
let dir: string
let uidCounter = 0

/** A small MR image with its own patient, study, series and instance UIDs. */
function instance (patientId: string, study: string, series = `${study}.1`): { sopInstanceUid: string, bytes: Uint8Array } {
  const sopInstanceUid = `2.25.${Date.now()}${++uidCounter}`
  const bytes = buildTestFile(EXPLICIT_LE, {
    rows: 4,
    columns: 4,
    pixels: new Uint16Array(16).fill(uidCounter),
    extra: { SOPInstanceUID: sopInstanceUid, StudyInstanceUID: study, SeriesInstanceUID: series, PatientID: patientId, PatientName: 'Test^Patient' }
  })
  return { sopInstanceUid, bytes }
}

function dimseTo (o: Orthanc, aeTitle = o.aeTitle): DimseDestinationFields {
  return { kind: 'dimse', aeTitle, host: '127.0.0.1', port: o.dicomPort }
}

beforeAll(async () => {
  if (!withOrthanc) return
  dir = await mkdtemp(join(tmpdir(), 'scanhub-pacs-'))
  orthanc = new Orthanc()
  await orthanc.start()
}, 30_000)

afterAll(async () => {
  await orthanc?.cleanup()
  if (dir !== undefined) await rm(dir, { recursive: true, force: true })
})

describe.skipIf(!withOrthanc)('DICOM networking with Orthanc', () => {
  it('C-ECHO answers; a wrong called AE title is rejected with the reason; a closed port is refused', async () => {
    const { ms } = await dimseEcho(dimseTo(orthanc))
    expect(ms).toBeGreaterThanOrEqual(0)
    await expect(dimseEcho(dimseTo(orthanc, 'NOT-ORTHANC'))).rejects.toThrow(/rejected the association.*called AE title is not recognised/)
    const closed = await freePort()
    await expect(dimseEcho({ kind: 'dimse', aeTitle: 'ANY', host: '127.0.0.1', port: closed })).rejects.toThrow(/connection refused by 127\.0\.0\.1:\d+/)
  })

  it('a PACS that accepts the connection but never answers: a timeout in plain words', async () => {
    const silent = createServer(() => {})
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve))
    try {
      const port = (silent.address() as { port: number }).port
      await expect(dimseEcho({ kind: 'dimse', aeTitle: 'PACS', host: '127.0.0.1', port }, { connectMs: 1000, associationMs: 1000 }))
        .rejects.toThrow(`no answer from 127.0.0.1:${port}: timed out`)
    } finally {
      silent.close()
    }
  })

  it('C-STORE and STOW-RS report the image the PACS refused, with its status, and store the others', async () => {
    const study = `2.25.${Date.now()}99`
    // Orthanc indexes by study and series: an image without their UIDs is refused
    const refused = (): { sopInstanceUid: string, bytes: Uint8Array } => {
      const sopInstanceUid = `2.25.${Date.now()}${++uidCounter}`
      return { sopInstanceUid, bytes: buildTestFile(EXPLICIT_LE, { rows: 2, columns: 2, pixels: new Uint16Array(4), extra: { SOPInstanceUID: sopInstanceUid, PatientID: 'NO-STUDY' } }) }
    }
    const bad = refused()
    const report = await dimseStore(dimseTo(orthanc), [instance('KEEP-1', study), bad])
    expect(report.error).toBeUndefined()
    expect([...report.outcomes.values()][0]).toEqual({ ok: true })
    expect(report.outcomes.get(bad.sopInstanceUid)).toEqual({ ok: false, error: expect.stringMatching(/^the PACS .* \(status 0x[0-9A-F]{4}\)/) })
    const web = await dicomwebStore({ kind: 'dicomweb', url: orthanc.dicomWebUrl }, [instance('KEEP-2', `${study}.2`), refused()])
    expect(web.error).toBeUndefined()
    expect([...web.outcomes.values()].map((o) => o.ok)).toEqual([true, false])
    expect([...web.outcomes.values()][1]).toEqual({ ok: false, error: expect.stringMatching(/\(status 0x[0-9A-F]{4}\)/) })
  })

  it('C-STORE sends each instance, and Orthanc holds them', async () => {
    const study = `2.25.${Date.now()}77`
    const images = [instance('STORE-1', study), instance('STORE-1', study), instance('STORE-1', study)]
    const report = await dimseStore(dimseTo(orthanc), images)
    expect(report.error).toBeUndefined()
    expect([...report.outcomes.values()]).toEqual([{ ok: true }, { ok: true }, { ok: true }])
    const lookup = await fetch(`${orthanc.url}/tools/lookup`, { method: 'POST', body: study }).then(async (r) => await r.json()) as Array<{ ID: string, Type: string }>
    expect(lookup.map((l) => l.Type)).toEqual(['Study'])
    const studyInfo = await orthanc.get<{ Series: string[] }>(`/studies/${lookup[0].ID}`)
    const instances = await orthanc.get<unknown[]>(`/series/${studyInfo.Series[0]}/instances`)
    expect(instances).toHaveLength(3)
  })

  it('STOW-RS stores through the DICOMweb plugin, and a QIDO-RS query tests the connection', async () => {
    const destination = { kind: 'dicomweb' as const, url: orthanc.dicomWebUrl }
    expect((await dicomwebPing(destination)).ms).toBeGreaterThanOrEqual(0)
    const study = `2.25.${Date.now()}88`
    const images = [instance('STOW-1', study), instance('STOW-1', study)]
    const report = await dicomwebStore(destination, images)
    expect(report.error).toBeUndefined()
    expect([...report.outcomes.values()].every((o) => o.ok)).toBe(true)
    const studies = await fetch(`${orthanc.dicomWebUrl}/studies?StudyInstanceUID=${study}`).then(async (r) => await r.json()) as unknown[]
    expect(studies).toHaveLength(1)
    await expect(dicomwebPing({ kind: 'dicomweb', url: `${orthanc.url}/no-such-root` })).rejects.toThrow(/no such path \(HTTP 404\): check the base URL: Unknown resource/)
  })
})

describe.skipIf(!withOrthanc)('the export queue', () => {
  /** A lab in memory with one patient, exam and reconstruction task whose DICOM result holds `count` images in the blob store. */
  async function labWithImages (blobs: BlobStore, count: number): Promise<{ lab: Lab, examId: string, taskId: string, uids: string[] }> {
    const lab = new Lab(new MemoryDocSource())
    const patient = lab.patients.create({ firstName: 'Ada', lastName: 'Lovelace', birthDate: '1985-12-10', sex: 'FEMALE' }, actor)
    const exam = lab.exams.create({ patientId: patient.id, name: 'Head' }, actor)
    const workflow = lab.workflows.create({ examId: exam.id, name: 'Routine' }, actor)
    const task = lab.tasks.create({ workflowId: workflow.id, type: 'RECONSTRUCTION', name: 'Images', parameters: { pipeline: 'cartesian' } }, actor)
    const study = `2.25.${Date.now()}${++uidCounter}`
    const images = Array.from({ length: count }, () => instance(patient.id, study))
    const files = []
    for (const [i, image] of images.entries()) {
      const info = await blobs.put(image.bytes)
      files.push({ name: `IM${i}.dcm`, sha256: info.sha256, size: info.size, type: 'application/dicom' })
    }
    lab.results.create({ taskId: task.id, type: 'DICOM', files }, actor)
    return { lab, examId: exam.id, taskId: task.id, uids: images.map((i) => i.sopInstanceUid) }
  }

  function queueOf (lab: Lab, blobs: BlobStore, dataDir: string, maxAttempts = 8): ExportQueue {
    // every blob is on this peer: ensure() has nothing to fetch
    const blobService = { ensure: async (sha256: string) => ({ sha256, size: (await blobs.stat(sha256))?.size ?? 0 }) }
    return new ExportQueue({ lab, blobs, blobService, actor }, { dataDir, retry: { maxAttempts, baseDelayMs: 200, maxDelayMs: 1000 } })
  }

  async function settled (queue: ExportQueue, id: string): Promise<ExportView> {
    return await eventually(() => {
      const view = queue.get(id)
      return view !== undefined && (view.state === 'done' || view.state === 'failed') ? view : undefined
    }, 30_000, `export ${id} done or failed`)
  }

  it('sends an exam once, skips what the destination has, and survives a PACS that is down and a restart of the peer', async () => {
    const dataDir = join(dir, 'queue-a')
    const blobs = await BlobStore.open(join(dataDir, 'blobs'))
    const { lab, examId, taskId, uids } = await labWithImages(blobs, 5)
    const destination = lab.destinations.create({ name: 'Orthanc', kind: 'dimse', aeTitle: orthanc.aeTitle, host: '127.0.0.1', port: orthanc.dicomPort }, actor)
    let queue = queueOf(lab, blobs, dataDir)
    await queue.start()
    const first = await settled(queue, (await queue.create({ destinationId: destination.id, examId }, 'alice')).id)
    expect(first).toMatchObject({ state: 'done', total: 5, sent: 5, skipped: 0, failed: 0, attempts: 0 })
    const ledger = JSON.parse(await readFile(join(dataDir, 'pacs', 'sent', `${destination.id}.json`), 'utf8')) as string[]
    expect(ledger.sort()).toEqual([...uids].sort())
    // the same task again: everything is already there
    const again = await settled(queue, (await queue.create({ destinationId: destination.id, taskId }, 'alice')).id)
    expect(again).toMatchObject({ state: 'done', total: 5, sent: 0, skipped: 5 })

    // the PACS is down: the export waits and retries; the peer restarts meanwhile; the PACS comes back
    const more = await labWithImages(blobs, 3)
    const other = more.lab.destinations.create({ name: 'Orthanc', kind: 'dimse', aeTitle: orthanc.aeTitle, host: '127.0.0.1', port: orthanc.dicomPort }, actor)
    await queue.stop()
    queue = queueOf(more.lab, blobs, dataDir)
    await queue.start()
    await orthanc.stop()
    const pending = await queue.create({ destinationId: other.id, examId: more.examId }, 'alice')
    const waiting = await eventually(() => { const v = queue.get(pending.id); return v !== undefined && v.attempts >= 1 ? v : undefined }, 10_000, 'a failed try')
    expect(waiting.lastError).toMatch(/connection refused/)
    expect(waiting.state === 'queued' || waiting.state === 'sending').toBe(true)
    await queue.stop()
    await orthanc.start()
    queue = queueOf(more.lab, blobs, dataDir)
    await queue.start()
    const resumed = await settled(queue, pending.id)
    expect(resumed).toMatchObject({ state: 'done', total: 3, sent: 3, failed: 0 })
    expect(queue.list().map((v) => v.id)).toContain(first.id)
    await queue.stop()
  }, 60_000)

  it('an image the PACS refuses is listed with its status; the others are sent and the export is failed', async () => {
    const dataDir = join(dir, 'queue-c')
    const blobs = await BlobStore.open(join(dataDir, 'blobs'))
    const { lab, examId, taskId } = await labWithImages(blobs, 2)
    // Orthanc indexes by study and series: an image without their UIDs is refused
    const refusedUid = `2.25.${Date.now()}${++uidCounter}`
    const refused = await blobs.put(buildTestFile(EXPLICIT_LE, { rows: 2, columns: 2, pixels: new Uint16Array(4), extra: { SOPInstanceUID: refusedUid, PatientID: 'NO-STUDY' } }))
    lab.results.create({ taskId, type: 'DICOM', files: [{ name: 'BROKEN.dcm', sha256: refused.sha256, size: refused.size, type: 'application/dicom' }] }, actor)
    const destination = lab.destinations.create({ name: 'Orthanc', kind: 'dimse', aeTitle: orthanc.aeTitle, host: '127.0.0.1', port: orthanc.dicomPort }, actor)
    const queue = queueOf(lab, blobs, dataDir)
    await queue.start()
    const view = await settled(queue, (await queue.create({ destinationId: destination.id, examId }, 'alice')).id)
    expect(view).toMatchObject({ state: 'failed', total: 3, sent: 2, failed: 1, attempts: 0, lastError: 'the destination refused 1 of 3 images' })
    expect(view.errors).toEqual([{ file: 'BROKEN.dcm', sopInstanceUid: refusedUid, error: expect.stringMatching(/\(status 0x[0-9A-F]{4}\)/) }])
    await queue.stop()
  }, 30_000)

  it('a PACS that rejects the association for good makes the export fail at once, with the reason', async () => {
    const dataDir = join(dir, 'queue-b')
    const blobs = await BlobStore.open(join(dataDir, 'blobs'))
    const { lab, examId } = await labWithImages(blobs, 2)
    const destination = lab.destinations.create({ name: 'Wrong AE', kind: 'dimse', aeTitle: 'NOT-ORTHANC', host: '127.0.0.1', port: orthanc.dicomPort }, actor)
    const queue = queueOf(lab, blobs, dataDir, 2)
    await queue.start()
    const failed = await settled(queue, (await queue.create({ destinationId: destination.id, examId }, 'alice')).id)
    expect(failed).toMatchObject({ state: 'failed', sent: 0, attempts: 1 })
    expect(failed.lastError).toMatch(/rejected the association permanently: the called AE title is not recognised/)
    await queue.stop()
  }, 30_000)
})
