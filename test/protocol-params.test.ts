// A protocol changed on a built-in gradient echo reaches everything made from it: the scanner peer
// regenerates the sequence with the task's TR, TE, flip angle and matrix, keeps that .seq with the
// task's results (its duration, read back by `scanhub seq inspect`, is the scan time the app shows),
// writes the MRD header from it (TR, flip angle, matrix), and the DICOM images carry the same RepetitionTime, EchoTime,
// FlipAngle, Rows and Columns. A protocol that cannot be played fails the task in words.
import { execFile } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterEach, describe, expect, it } from 'vitest'
import { readDicom } from '../protocol/dicom/index.ts'
import { decodeMrdStream, parseIsmrmrdXml } from '../protocol/mrd/index.ts'
import { checkProtocol } from '../protocol/pulseq/protocol-params.ts'
import type { SequenceProtocol } from '../protocol/lab/index.ts'
import { PROJECT_ROOT, SCANHUB_BIN, TestLab, eventually, type PeerProcess } from './support/peer-process.ts'

interface ResultJson { type: string, files: Array<{ name: string, sha256: string, type: string }> }
interface TaskJson { id: string, status: string, error?: string, results: ResultJson[] }

const execFileAsync = promisify(execFile)

let lab: TestLab
let dir: string | undefined
afterEach(async () => {
  await lab?.cleanup()
  if (dir !== undefined) await rm(dir, { recursive: true, force: true })
})

async function blob (peer: PeerProcess, sha256: string): Promise<Uint8Array> {
  const response = await fetch(`${peer.baseUrl}/api/v1/blobs/${sha256}`, { headers: { 'x-api-key': peer.apiKey } })
  expect(response.status).toBe(200)
  return new Uint8Array(await response.arrayBuffer())
}

/** An acquisition of builtin-gre (with a protocol or without) and its reconstruction, in a workflow of their own. */
async function plan (peer: PeerProcess, examId: string, deviceId: string, name: string, protocol?: SequenceProtocol): Promise<{ acq: TaskJson, recon: TaskJson }> {
  const wf = (await peer.api('POST', '/api/v1/workflows', { examId, name })).body
  const parameters = { sequenceId: 'builtin-gre', deviceId, ...(protocol !== undefined ? { protocol } : {}) }
  const acq = await peer.api('POST', '/api/v1/tasks', { workflowId: wf.id, type: 'ACQUISITION', name, parameters })
  expect(acq.status, JSON.stringify(acq.body)).toBe(201)
  const recon = (await peer.api('POST', '/api/v1/tasks', { workflowId: wf.id, type: 'RECONSTRUCTION', name: `${name} images`, parameters: { pipeline: 'cartesian', inputTaskId: acq.body.id } })).body
  return { acq: acq.body, recon }
}

async function finished (peer: PeerProcess, taskId: string): Promise<TaskJson> {
  return await eventually(async () => {
    const t = (await peer.api('GET', `/api/v1/tasks/${taskId}`)).body as TaskJson
    if (t.status === 'ERROR') throw new Error(`task ${taskId} failed: ${t.error}`)
    return t.status === 'FINISHED' ? t : undefined
  }, 90_000, `task ${taskId} FINISHED`)
}

/** The DICOM tags of the first image of a reconstruction, as dcmjs reads them. */
async function firstImage (peer: PeerProcess, recon: TaskJson): Promise<Record<string, unknown>> {
  const dicom = recon.results.filter((r) => r.type === 'DICOM')
  expect(dicom.length).toBeGreaterThan(0)
  const image = readDicom(await blob(peer, dicom[0].files[0].sha256))
  return { ...(image.dataset as Record<string, unknown>), rows: image.rows, columns: image.columns }
}

describe('a protocol set on a built-in GRE', () => {
  it('changes the sequence played, its duration read back from the file, and the DICOM\'s TR, TE, flip angle, rows and columns', async () => {
    lab = new TestLab()
    dir = await mkdtemp(join(tmpdir(), 'scanhub-protocol-'))
    const peer = await lab.peer({ name: 'console', roles: 'hub,scanner,recon' })
    await peer.start(60_000)
    const device = (await peer.api<Array<{ id: string }>>('GET', '/api/v1/devices')).body[0]
    const patient = (await peer.api('POST', '/api/v1/patients', { firstName: 'Ada', lastName: 'Lovelace', birthDate: '1985-12-10', sex: 'FEMALE' })).body
    const exam = (await peer.api('POST', '/api/v1/exams', { patientId: patient.id, name: 'Head' })).body

    const protocol: SequenceProtocol = { trMs: 25, teMs: 6, flipAngleDeg: 25, matrix: [96, 48] }
    const shown = checkProtocol('gre', protocol)
    expect(shown.errors).toEqual({})
    const standard = await plan(peer, exam.id, device.id, 'GRE')
    const changed = await plan(peer, exam.id, device.id, 'GRE TR25', protocol)
    const tooShort = await plan(peer, exam.id, device.id, 'GRE TR1', { trMs: 1 })

    // one after the other, as a technician runs them: each reconstruction has the peer's slot to itself
    const start = async (t: TaskJson): Promise<void> => { expect((await peer.api('POST', `/api/v1/tasks/${t.id}/start`)).status).toBe(202) }
    await start(standard.acq)
    const standardRecon = await finished(peer, standard.recon.id)
    await start(changed.acq)
    const changedRecon = await finished(peer, changed.recon.id)
    await start(tooShort.acq)

    // the generated file is kept with the acquisition's results; `seq inspect` reads the scan time the app shows
    const acquired = await finished(peer, changed.acq.id)
    const seqFiles = acquired.results.flatMap((r) => r.files).filter((f) => f.name.endsWith('.seq'))
    expect(seqFiles.map((f) => f.name)).toEqual(['GRE_TR25.seq'])
    const seqPath = join(dir, 'played.seq')
    await writeFile(seqPath, await blob(peer, seqFiles[0].sha256))
    // run asynchronously: a blocked event loop would keep the HTTP client from seeing the hub close an
    // idle connection, and its next request would go out on the closed one
    const inspected = await execFileAsync(process.execPath, [SCANHUB_BIN, 'seq', 'inspect', seqPath, '--json'], { cwd: PROJECT_ROOT, encoding: 'utf8', timeout: 60_000 })
    const summary = JSON.parse(inspected.stdout) as { durationS: number, trS: number, teS: number, matrix: number[], flipAngleDeg: number }
    expect(summary.durationS).toBeCloseTo(shown.scanTimeS ?? 0, 6)
    expect(summary.durationS).toBeCloseTo(48 * 0.025, 6)
    expect(summary.trS).toBeCloseTo(0.025, 6)
    expect(summary.matrix.slice(0, 2)).toEqual([96, 48])
    // the raw data's MRD header was written from the file played
    const raw = acquired.results.find((r) => r.type === 'RAW')?.files[0]
    expect(raw).toBeDefined()
    const headerMessage = decodeMrdStream(await blob(peer, raw?.sha256 ?? '')).find((m) => m.type === 'header')
    const header = parseIsmrmrdXml(headerMessage?.type === 'header' ? headerMessage.xml : '')
    expect(header.sequenceParameters?.TR?.[0]).toBeCloseTo(25, 3)
    expect(header.sequenceParameters?.flipAngle_deg?.[0]).toBeCloseTo(25, 1)
    expect([header.encoding[0].reconSpace.matrixSize.x, header.encoding[0].reconSpace.matrixSize.y]).toEqual([96, 48])

    // the library's file was not played: an unchanged GRE keeps no generated file
    const plain = await finished(peer, standard.acq.id)
    expect(plain.results.flatMap((r) => r.files).filter((f) => f.name.endsWith('.seq'))).toEqual([])

    const changedImage = await firstImage(peer, changedRecon)
    expect(Number(changedImage.RepetitionTime)).toBeCloseTo(25, 3)
    expect(Number(changedImage.EchoTime)).toBeCloseTo(summary.teS * 1e3, 2)
    expect(Number(changedImage.EchoTime)).toBeCloseTo(6, 1)
    expect(Number(changedImage.FlipAngle)).toBeCloseTo(25, 1)
    expect([changedImage.columns, changedImage.rows]).toEqual([96, 48])

    const standardImage = await firstImage(peer, standardRecon)
    const defaults = checkProtocol('gre', {}).values
    expect(Number(standardImage.RepetitionTime)).toBeCloseTo(defaults.trMs ?? 0, 1)
    expect(Number(standardImage.FlipAngle)).toBeCloseTo(15, 1)
    expect([standardImage.columns, standardImage.rows]).toEqual([64, 64])

    // a TR shorter than the timing allows fails the acquisition with the shortest TR, and plays nothing
    const refused = await eventually(async () => {
      const t = (await peer.api('GET', `/api/v1/tasks/${tooShort.acq.id}`)).body as TaskJson
      return t.status === 'ERROR' ? t : undefined
    }, 30_000, 'the unplayable protocol ERROR')
    expect(refused.error).toMatch(/^the protocol of gre cannot be played: TR must be at least \d+\.\d+ ms at this TE$/)
    expect(refused.results.filter((r) => r.type === 'RAW')).toEqual([])
  }, 180_000)
})
