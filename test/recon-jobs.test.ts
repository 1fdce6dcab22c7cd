// Reconstruction jobs between libp2p hosts in one process: a scanner (lab document, raw recordings,
// JobManager) and two or three reconstruction peers (JobWorker), over TCP with the lab key, Noise and
// yamux as in production. The recording grows while the test feeds it, like a scan in progress: images
// must be recorded before it completes; killing the worker that holds the job mid-stream must let
// another one finish it with every slice present exactly once; bad bytes on either protocol, and bad
// MRD data in a recording, end in clear errors while every peer keeps running.
import { generateKeyPair } from '@libp2p/crypto/keys'
import { createReadStream } from 'node:fs'
import { createHash } from 'node:crypto'
import { spawnSync } from 'node:child_process'
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { encodeFrame, FrameDecoder } from '../protocol/framing.ts'
import { JOB_PROTOCOL, RAW_PROTOCOL } from '../protocol/ids.ts'
import { decodeJobMessage, encodeJobMessage, type JobMessage } from '../protocol/job.ts'
import { generateSwarmKeyHex, swarmKeyFromHex } from '../protocol/lab-key.ts'
import { Lab, MemoryDocSource, type Actor, type Result } from '../protocol/lab/index.ts'
import type { PeerPresence } from '../protocol/peers.ts'
import { readDicom } from '../protocol/dicom/index.ts'
import {
  AcquisitionFlag, encodeAcquisitionMessage, encodeCloseMessage, encodeHeaderMessage, flagBit, writeIsmrmrdXml, type IsmrmrdHeader
} from '../protocol/mrd/index.ts'
import type { Acquisition } from '../protocol/mrd/types.ts'
import { decodeRawResponseHeader, encodeRawRequest } from '../protocol/raw.ts'
import { BlobService } from '../node/blob/blob-service.ts'
import { createLabHost, type LabHost } from '../node/p2p/host.ts'
import { BlobStore } from '../node/storage/blob-store.ts'
import { builtinSequenceText, parseSequenceText } from '../scanner-node/acquisition/load-sequence.ts'
import { planSequence } from '../scanner-node/acquisition/sequence-plan.ts'
import { virtualScan } from '../scanner-node/acquisition/virtual-scan.ts'
import { JobManager } from '../scanner-node/jobs/job-manager.ts'
import { RawRecordings, type RawRecording } from '../scanner-node/raw/raw-recordings.ts'
import { createFftPool } from '../recon-node/fft/pool.ts'
import { JobWorker, type StoredImage } from '../recon-node/jobs/job-worker.ts'
import { hasTool } from './support/external-tools.ts'
import { readPaced } from '../recon-node/jobs/paced-reader.ts'

const pool = createFftPool({ size: 2 })
let root: string
beforeAll(async () => { root = await mkdtemp(join(tmpdir(), 'scanhub-recon-jobs-')) })
afterAll(async () => {
  await pool.close()
  await rm(root, { recursive: true, force: true })
})

const actor: Actor = { name: 'test', peerId: 'test' }
const stops: Array<() => Promise<void>> = []
afterEach(async () => {
  for (const stop of stops.splice(0).reverse()) await stop().catch(() => {})
})

let dirCounter = 0
const newDir = (name: string): string => join(root, `${name}-${dirCounter++}`)

interface ScannerPeer {
  host: LabHost
  lab: Lab
  blobs: BlobStore
  recordings: RawRecordings
  manager: JobManager
  log: string[]
}

interface WorkerPeer {
  host: LabHost
  blobs: BlobStore
  worker: JobWorker
  stored: StoredImage[]
  presence: Array<Partial<PeerPresence>>
  log: string[]
  stopped: boolean
  stop: () => Promise<void>
}

async function host (swarm: string): Promise<LabHost> {
  return await createLabHost({ privateKey: await generateKeyPair('Ed25519'), swarmKey: swarmKeyFromHex(swarm), mdns: false })
}

async function startScanner (swarm: string, init: { leaseMs?: number, preferredGraceMs?: number } = {}): Promise<ScannerPeer> {
  const h = await host(swarm)
  const blobs = await BlobStore.open(newDir('scanner-blobs'))
  const blobService = new BlobService({ libp2p: h, blobs })
  await blobService.start()
  const lab = new Lab(new MemoryDocSource())
  const recordings = new RawRecordings(newDir('scanner'))
  const log: string[] = []
  const manager = new JobManager({ libp2p: h, lab, blobs, blobService, recordings, actor }, { leaseMs: init.leaseMs ?? 3000, preferredGraceMs: init.preferredGraceMs ?? 2000, log: (m) => log.push(m) })
  await manager.start()
  stops.push(async () => { await manager.stop(); await blobService.stop(); await h.stop() })
  return { host: h, lab, blobs, recordings, manager, log }
}

async function startWorker (swarm: string, scanner: ScannerPeer, name: string): Promise<WorkerPeer> {
  const h = await host(swarm)
  const blobs = await BlobStore.open(newDir(`${name}-blobs`))
  const blobService = new BlobService({ libp2p: h, blobs })
  await blobService.start()
  const stored: StoredImage[] = []
  const presence: Array<Partial<PeerPresence>> = []
  const log: string[] = []
  const worker = new JobWorker({ libp2p: h, blobs, scanners: () => [scanner.host.peerId.toString()], setPresence: (p) => presence.push(structuredClone(p)) }, {
    name, fft: pool, connectIntervalMs: 100, onImageStored: (i) => stored.push(i), log: (m) => log.push(`${name}: ${m}`)
  })
  await worker.start()
  await h.dial(scanner.host.getMultiaddrs()[0])
  const peer: WorkerPeer = {
    host: h,
    blobs,
    worker,
    stored,
    presence,
    log,
    stopped: false,
    stop: async () => {
      if (peer.stopped) return
      peer.stopped = true
      await worker.stop()
      await blobService.stop()
      await h.stop()
    }
  }
  stops.push(peer.stop)
  return peer
}

/** A patient, an exam, a workflow with an acquisition on the scanner's device and a reconstruction of it. */
function planExam (scanner: ScannerPeer, preferredPeerId?: string): { acquisitionId: string, reconId: string } {
  const { lab } = scanner
  const device = lab.devices.create({ peerId: scanner.host.peerId.toString(), name: 'virtual', manufacturer: 'ScanHub', model: 'Virtual scanner', fieldStrengthT: 0.05, driver: 'virtual' }, actor)
  const patient = lab.patients.create({ firstName: 'Ada', lastName: 'Lovelace', birthDate: '1985-12-10', sex: 'FEMALE' }, actor)
  const exam = lab.exams.create({ patientId: patient.id, name: 'Head' }, actor)
  const workflow = lab.workflows.create({ examId: exam.id, name: 'T1' }, actor)
  const acquisition = lab.tasks.create({ workflowId: workflow.id, name: 'GRE', type: 'ACQUISITION', parameters: { deviceId: device.id } }, actor)
  const recon = lab.tasks.create({
    workflowId: workflow.id,
    name: 'Recon',
    type: 'RECONSTRUCTION',
    parameters: { pipeline: 'default', inputTaskId: acquisition.id, ...(preferredPeerId !== undefined ? { preferredPeerId } : {}) }
  }, actor)
  return { acquisitionId: acquisition.id, reconId: recon.id }
}

/**
 * A multi-slice scan, slice after slice (so that each slice completes before the next starts): the
 * virtual scanner's 2-D GRE of the phantom, repeated at `slices` positions, after its noise readouts.
 */
function multiSliceScan (slices: number, matrix = 64, coils = 4): { header: IsmrmrdHeader, noise: Acquisition[], slices: Acquisition[][] } {
  const plan = planSequence(parseSequenceText(builtinSequenceText('gre', { matrix })))
  const scan = virtualScan({ plan, coils, noiseSigma: 0.01, noiseReadouts: 8 })
  const all = [...scan.acquisitions]
  const noise = all.filter((a) => (a.head.flags & flagBit(AcquisitionFlag.IS_NOISE_MEASUREMENT)) !== 0n)
  const lines = all.filter((a) => (a.head.flags & flagBit(AcquisitionFlag.IS_NOISE_MEASUREMENT)) === 0n)
  const endFlags = flagBit(AcquisitionFlag.LAST_IN_MEASUREMENT) | flagBit(AcquisitionFlag.LAST_IN_REPETITION)
  const header = structuredClone(scan.header)
  header.encoding[0].encodingLimits.slice = { minimum: 0, maximum: slices - 1, center: 0 }
  const bySlice = Array.from({ length: slices }, (_, s) => lines.map((a, i) => {
    let flags = a.head.flags & ~endFlags
    if (s === slices - 1 && i === lines.length - 1) flags |= endFlags
    return {
      head: { ...a.head, flags, idx: { ...a.head.idx, slice: s }, position: [a.head.position[0], a.head.position[1], a.head.position[2] + 5 * s] as [number, number, number] },
      traj: a.traj,
      data: a.data
    }
  }))
  return { header, noise, slices: bySlice }
}

async function sleep (ms: number): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, ms))
}

async function until<T> (check: () => T | undefined | false, timeoutMs: number, what: string): Promise<T> {
  const end = Date.now() + timeoutMs
  for (;;) {
    const value = check()
    if (value !== undefined && value !== false) return value
    if (Date.now() > end) throw new Error(`${what}: not within ${timeoutMs} ms`)
    await sleep(20)
  }
}

/** Feeds a recording slice by slice, `delayMs` between groups of `linesPerStep` readouts. */
async function feed (recording: RawRecording, scan: ReturnType<typeof multiSliceScan>, delayMs: number, linesPerStep = 16, stopped = (): boolean => false): Promise<void> {
  await recording.append(encodeHeaderMessage(writeIsmrmrdXml(scan.header)))
  for (const a of scan.noise) await recording.append(encodeAcquisitionMessage(a))
  for (const slice of scan.slices) {
    for (let i = 0; i < slice.length; i += linesPerStep) {
      if (stopped()) return
      for (const a of slice.slice(i, i + linesPerStep)) await recording.append(encodeAcquisitionMessage(a))
      await sleep(delayMs)
    }
  }
  await recording.finish(encodeCloseMessage())
}

function dicomResults (lab: Lab, taskId: string): Result[] {
  return lab.results.list({ taskId }).filter((r) => r.type === 'DICOM')
}

describe('reconstruction jobs between libp2p hosts', () => {
  it('reconstructs a growing recording slice by slice: images are recorded before the scan ends', async () => {
    const swarm = generateSwarmKeyHex()
    const scanner = await startScanner(swarm)
    const worker = await startWorker(swarm, scanner, 'w1')
    const { acquisitionId, reconId } = planExam(scanner)
    // the hospital's identifiers and the operator go into every image
    const planned = scanner.lab.tasks.get(acquisitionId)!
    scanner.lab.patients.update(planned.patientId, { mrn: 'MRN-0042' }, actor)
    scanner.lab.exams.update(planned.examId, { accessionNumber: 'ACC-7' }, actor)
    scanner.lab.tasks.setStatus(acquisitionId, 'STARTED', { name: 'ada', peerId: actor.peerId })
    const scan = multiSliceScan(5)
    const recording = await scanner.recordings.start(acquisitionId)
    scanner.lab.tasks.setStatus(acquisitionId, 'INPROGRESS', actor)
    // the reconstruction task is next in the workflow: it starts with the acquisition
    await until(() => scanner.lab.tasks.get(reconId)?.status === 'STARTED' || scanner.lab.tasks.get(reconId)?.status === 'INPROGRESS', 2000, 'reconstruction started with the acquisition')
    const feeding = feed(recording, scan, 40)
    const first = await until(() => dicomResults(scanner.lab, reconId)[0], 20_000, 'first slice recorded')
    const beforeEnd = !recording.complete
    await feeding
    await until(() => scanner.lab.tasks.get(reconId)?.status === 'FINISHED', 20_000, 'task finished')
    expect(beforeEnd, 'the first image was recorded while the recording was still growing').toBe(true)
    expect(first.epoch).toBe(1)
    const results = dicomResults(scanner.lab, reconId)
    expect(results).toHaveLength(5)
    // each result holds one slice's DICOM file, fetched by the scanner from the worker
    const images = await Promise.all(results.map(async (r) => {
      expect(r.files).toHaveLength(1)
      expect(r.files[0].type).toBe('application/dicom')
      return readDicom(await scanner.blobs.read(r.files[0].sha256))
    }))
    expect(images.map((i) => Number(i.dataset.InstanceNumber)).sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5])
    expect(images.map((i) => i.imagePositionPatient?.[2]).sort((a, b) => (a ?? 0) - (b ?? 0))).toEqual([0, 5, 10, 15, 20])
    expect(new Set(images.map((i) => i.dataset.SeriesInstanceUID)).size).toBe(1)
    expect(images[0].dataset.PatientName).toEqual([{ Alphabetic: 'Lovelace^Ada' }])
    expect(images[0].dataset).toMatchObject({ PatientID: 'MRN-0042', AccessionNumber: 'ACC-7' })
    expect(images[0].dataset.OperatorsName).toEqual([{ Alphabetic: 'ada' }])
    expect([images[0].columns, images[0].rows]).toEqual([64, 64])
    if (hasTool('dciodvfy')) {
      const file = join(newDir('dicom'), 'first.dcm')
      await mkdir(join(file, '..'), { recursive: true })
      await writeFile(file, await scanner.blobs.read(results[0].files[0].sha256))
      const report = spawnSync('dciodvfy', [file], { encoding: 'utf8' })
      expect(`${report.stdout}${report.stderr}`.split('\n').filter((l) => /Error/.test(l))).toEqual([])
    }
    // live progress went into the worker's presence, keyed by the task, and was cleared at the end
    const fractions = worker.presence.map((p) => p.progress?.[reconId]?.fraction).filter((f) => f !== undefined)
    expect(fractions.length).toBeGreaterThanOrEqual(5)
    expect(fractions.at(-1)).toBeGreaterThan(0.5)
    expect(worker.presence.at(-1)?.progress).toEqual({})
  }, 60_000)

  it('ignores the reports of a worker whose lease lapsed (it stopped renewing), and offers the job again under the next epoch', async () => {
    const swarm = generateSwarmKeyHex()
    const scanner = await startScanner(swarm, { leaseMs: 600 })
    const { acquisitionId, reconId } = planExam(scanner)
    const scan = multiSliceScan(2, 32, 2)
    await feed(await scanner.recordings.start(acquisitionId), scan, 0)
    // a worker that takes the job and then goes silent
    const silent = await host(swarm)
    stops.push(async () => { await silent.stop() })
    const stream = await silent.dialProtocol(scanner.host.getMultiaddrs()[0], JOB_PROTOCOL)
    const decoder = new FrameDecoder(1 << 20)
    const received: JobMessage[] = []
    stream.addEventListener('message', (e) => { for (const f of decoder.push(e.data instanceof Uint8Array ? e.data : e.data.subarray())) received.push(decodeJobMessage(f)) })
    stream.send(encodeFrame(encodeJobMessage({ type: 'hello', name: 'silent', slots: 1 })))
    scanner.lab.tasks.setStatus(reconId, 'STARTED', actor)
    const grant = await until(() => received.find((m) => m.type === 'grant'), 5000, 'grant to the silent worker')
    expect(grant).toMatchObject({ epoch: 1, resumeOffset: 0, doneUnits: [], description: { taskId: reconId, inputTaskId: acquisitionId, patient: { lastName: 'Lovelace' } } })
    expect(scanner.lab.tasks.get(reconId)?.status).toBe('INPROGRESS')
    stream.send(encodeFrame(encodeJobMessage({ type: 'hello', name: 'silent', slots: 0 })))
    const revoke = await until(() => received.find((m) => m.type === 'revoke'), 5000, 'lease lapses')
    expect(revoke).toMatchObject({ epoch: 1, reason: expect.stringMatching(/lapsed/) })
    // a real worker gets it under epoch 2 and finishes it
    await startWorker(swarm, scanner, 'w')
    await until(() => scanner.lab.tasks.get(reconId)?.status === 'FINISHED', 20_000, 'finished by the real worker')
    // the silent worker's late report of a unit is refused and not recorded
    const before = received.length
    stream.send(encodeFrame(encodeJobMessage({ type: 'unit-done', jobId: grant.type === 'grant' ? grant.jobId : '', epoch: 1, unitKey: '0.0.0.0.0', confirmedOffset: 0, files: [{ name: 'x.dcm', sha256: 'a'.repeat(64), size: 1 }] })))
    const late = await until(() => received.slice(before).find((m) => m.type === 'revoke'), 5000, 'late report refused')
    expect(late).toMatchObject({ epoch: 1 })
    const results = dicomResults(scanner.lab, reconId)
    expect(results).toHaveLength(2)
    expect(results.every((r) => r.epoch === 2)).toBe(true)
  }, 60_000)

  it('moves the job to another worker when its worker dies mid-stream: every slice present exactly once', async () => {
    const swarm = generateSwarmKeyHex()
    const scanner = await startScanner(swarm, { leaseMs: 3000 })
    const a = await startWorker(swarm, scanner, 'a')
    const b = await startWorker(swarm, scanner, 'b')
    // a is preferred, so that it is the one to die
    const { acquisitionId, reconId } = planExam(scanner, a.host.peerId.toString())
    const slices = 8
    const scan = multiSliceScan(slices)
    const recording = await scanner.recordings.start(acquisitionId)
    scanner.lab.tasks.setStatus(acquisitionId, 'INPROGRESS', actor)
    const feeding = feed(recording, scan, 60)
    await until(() => dicomResults(scanner.lab, reconId).length >= 2, 30_000, 'two slices recorded from a')
    expect(scanner.manager.jobState(reconId)?.peerId).toBe(a.host.peerId.toString())
    await a.stop()
    expect(recording.complete).toBe(false)
    await feeding
    await until(() => scanner.lab.tasks.get(reconId)?.status === 'FINISHED', 30_000, 'task finished by b')
    const results = dicomResults(scanner.lab, reconId)
    const units = results.map((r) => r.id.split('-u')[1])
    expect([...units].sort()).toEqual(Array.from({ length: slices }, (_, s) => `${s}.0.0.0.0`).sort())
    expect(new Set(units).size).toBe(slices)
    const epochs = new Set(results.map((r) => r.epoch))
    expect(epochs).toEqual(new Set([1, 2]))
    // b resumed after the units a had done: it never made them again
    const fromA = results.filter((r) => r.epoch === 1).map((r) => r.id.split('-u')[1])
    expect(b.stored.filter((s) => fromA.includes(s.unitKey))).toEqual([])
    expect(b.stored.length).toBe(results.filter((r) => r.epoch === 2).length)
    // every file is on the scanner, instance numbers unique
    const numbers: number[] = []
    for (const r of results) {
      for (const f of r.files) numbers.push(Number(readDicom(await scanner.blobs.read(f.sha256)).dataset.InstanceNumber))
    }
    expect(numbers.sort((x, y) => x - y)).toEqual(Array.from({ length: slices }, (_, i) => i + 1))
    expect(scanner.log.some((l) => /granted to b .* under epoch 2, from offset \d+/.test(l))).toBe(true)
  }, 90_000)

  it('offers a job to its preferred peer first, and to others when the grace runs out', async () => {
    const swarm = generateSwarmKeyHex()
    const scanner = await startScanner(swarm, { preferredGraceMs: 800 })
    const w1 = await startWorker(swarm, scanner, 'w1')
    const w2 = await startWorker(swarm, scanner, 'w2')
    await sleep(300)
    const first = planExam(scanner, w2.host.peerId.toString())
    const scan = multiSliceScan(1, 32, 2)
    const r1 = await scanner.recordings.start(first.acquisitionId)
    await feed(r1, scan, 0)
    scanner.lab.tasks.setStatus(first.reconId, 'STARTED', actor)
    await until(() => scanner.lab.tasks.get(first.reconId)?.status === 'FINISHED', 20_000, 'first task finished')
    expect(w2.stored.length).toBe(1)
    expect(w1.stored.length).toBe(0)
    // a preferred peer that is not there: the job waits for the grace, then goes to whoever asks
    const second = planExam(scanner, 'QmNotAPeerOfThisLab')
    const r2 = await scanner.recordings.start(second.acquisitionId)
    await feed(r2, scan, 0)
    const t0 = performance.now()
    scanner.lab.tasks.setStatus(second.reconId, 'STARTED', actor)
    await until(() => scanner.lab.tasks.get(second.reconId)?.status === 'FINISHED', 20_000, 'second task finished')
    expect(performance.now() - t0).toBeGreaterThan(700)
  }, 60_000)

  it('marks the task ERROR with a clear message for corrupt, truncated and oversized MRD data, and keeps every peer running', async () => {
    const swarm = generateSwarmKeyHex()
    const scanner = await startScanner(swarm)
    const worker = await startWorker(swarm, scanner, 'w')
    const scan = multiSliceScan(1, 32, 2)
    const good = encodeAcquisitionMessage(scan.slices[0][0])
    // a lying length: 65535 channels of 65535 samples is 32 GiB of data
    const lying = good.slice()
    new DataView(lying.buffer).setUint16(2 + 34, 65535, true)
    new DataView(lying.buffer).setUint16(2 + 38, 65535, true)
    const unknownId = new Uint8Array([0x07, 0x00, 1, 2, 3, 4])
    const truncated = good.subarray(0, 200)
    const cases: Array<[string, Uint8Array, RegExp]> = [
      ['oversized', lying, /exceeds the limit/],
      ['unknown id', unknownId, /unknown message id 7/],
      ['truncated', truncated, /truncated/]
    ]
    for (const [name, bad, expected] of cases) {
      const { acquisitionId, reconId } = planExam(scanner)
      const recording = await scanner.recordings.start(acquisitionId)
      await recording.append(encodeHeaderMessage(writeIsmrmrdXml(scan.header)))
      for (const a of scan.slices[0].slice(0, 4)) await recording.append(encodeAcquisitionMessage(a))
      await recording.append(bad)
      // a truncated message swallows the close message: the stream ends inside a message
      await recording.finish(encodeCloseMessage())
      scanner.lab.tasks.setStatus(reconId, 'STARTED', actor)
      const task = await until(() => { const t = scanner.lab.tasks.get(reconId); return t?.status === 'ERROR' ? t : undefined }, 20_000, `${name} data fails the task`)
      expect(task.error, name).toMatch(expected)
      expect(task.error, name).toMatch(/MrdProtocolError/)
    }
    // everyone still works: a good scan after the bad ones
    const { acquisitionId, reconId } = planExam(scanner)
    await feed(await scanner.recordings.start(acquisitionId), scan, 0)
    scanner.lab.tasks.setStatus(reconId, 'STARTED', actor)
    await until(() => scanner.lab.tasks.get(reconId)?.status === 'FINISHED', 20_000, 'good task after bad ones')
    // the worker lets go of the job when the scanner acknowledges its end
    await until(() => worker.worker.running().length === 0, 5000, 'worker idle')
  }, 60_000)

  it('fails the task, naming what is missing, for undersampled data without calibration lines, and stores no image', async () => {
    const swarm = generateSwarmKeyHex()
    const scanner = await startScanner(swarm)
    await startWorker(swarm, scanner, 'w')
    const scan = multiSliceScan(1, 32, 2)
    // every other line, flags kept: the last line (LAST_IN_SLICE) is odd and dropped, so the buffer ends with the stream
    const everyOther = scan.slices[0].filter((a) => a.head.idx.kspaceEncodeStep1 % 2 === 0)
    const accelerated = structuredClone(scan.header)
    accelerated.encoding[0].parallelImaging = { accelerationFactor: { kspace_encoding_step_1: 2, kspace_encoding_step_2: 1 } }
    const cases: Array<[string, typeof scan.header, RegExp]> = [
      // the header says nothing of it: the FFT refuses the holes
      ['header without acceleration', scan.header, /UndersampledError: .*k-space is undersampled: 1[56] phase-encoding lines are missing/],
      // the header says R = 2: GRAPPA refuses for want of calibration lines
      ['header with acceleration 2', accelerated, /undersampled by 2 .*no calibration lines: GRAPPA needs at least \d+ fully sampled lines/]
    ]
    for (const [name, header, expected] of cases) {
      const { acquisitionId, reconId } = planExam(scanner)
      const recording = await scanner.recordings.start(acquisitionId)
      await recording.append(encodeHeaderMessage(writeIsmrmrdXml(header)))
      for (const a of [...scan.noise, ...everyOther]) await recording.append(encodeAcquisitionMessage(a))
      await recording.finish(encodeCloseMessage())
      scanner.lab.tasks.setStatus(reconId, 'STARTED', actor)
      const task = await until(() => { const t = scanner.lab.tasks.get(reconId); return t?.status === 'ERROR' ? t : undefined }, 20_000, `${name}: the task fails`)
      expect(task.error, name).toMatch(expected)
      expect(dicomResults(scanner.lab, reconId), name).toEqual([])
    }
  }, 60_000)

  it('streams a finished recording from its RAW result blob at full speed (the recording itself is gone, as after a restart)', async () => {
    const swarm = generateSwarmKeyHex()
    const scanner = await startScanner(swarm)
    const worker = await startWorker(swarm, scanner, 'w')
    const { acquisitionId, reconId } = planExam(scanner)
    // about 44 MB: 40 slices of 128 lines x 8 coils x 128 samples
    const scan = multiSliceScan(40, 128, 8)
    const elsewhere = new RawRecordings(newDir('old-recordings'))
    const recording = await elsewhere.start(acquisitionId)
    await feed(recording, scan, 0, 128)
    const blob = await scanner.blobs.putStream(createReadStream(recording.path))
    expect(blob.size).toBeGreaterThan(40e6)
    scanner.lab.results.create({ taskId: acquisitionId, type: 'RAW', files: [{ name: 'scan.mrd', sha256: blob.sha256, size: blob.size, type: 'application/x-ismrmrd-stream' }] }, actor)
    scanner.lab.tasks.setStatus(acquisitionId, 'FINISHED', actor)
    scanner.lab.tasks.setStatus(reconId, 'STARTED', actor)
    await until(() => scanner.lab.tasks.get(reconId)?.status === 'FINISHED', 60_000, 'task finished')
    expect(dicomResults(scanner.lab, reconId)).toHaveLength(40)
    expect(worker.stored).toHaveLength(40)
  }, 90_000)

  it('serves a growing recording over /scanhub/raw byte for byte to a reader faster than the scan, about 64 MB', async () => {
    const swarm = generateSwarmKeyHex()
    const scanner = await startScanner(swarm, { leaseMs: 30_000 })
    const { acquisitionId, reconId } = planExam(scanner)
    const recording = await scanner.recordings.start(acquisitionId)
    const scan = multiSliceScan(30, 128, 8)
    // a client that takes the lease as a worker does, then reads the raw stream as fast as it comes
    const client = await host(swarm)
    stops.push(async () => { await client.stop() })
    const connection = await client.dial(scanner.host.getMultiaddrs()[0])
    const job = await connection.newStream(JOB_PROTOCOL)
    const decoder = new FrameDecoder(1 << 20)
    const received: JobMessage[] = []
    job.addEventListener('message', (e) => { for (const f of decoder.push(e.data instanceof Uint8Array ? e.data : e.data.subarray())) received.push(decodeJobMessage(f)) })
    job.send(encodeFrame(encodeJobMessage({ type: 'hello', name: 'reader', slots: 1 })))
    scanner.lab.tasks.setStatus(reconId, 'STARTED', actor)
    const grant = await until(() => received.find((m) => m.type === 'grant'), 5000, 'grant')
    if (grant.type !== 'grant') throw new Error('no grant')
    const raw = await connection.newStream(RAW_PROTOCOL)
    const chunks: Uint8Array[] = []
    // read as a worker does (paced), but without reconstructing: as fast as the bytes come
    const ended = (async () => { for await (const chunk of readPaced(raw)) chunks.push(chunk) })()
    // half of the scan is recorded when the reader asks (it reads that at full speed), the rest while it reads
    await recording.append(encodeHeaderMessage(writeIsmrmrdXml(scan.header)))
    for (const a of scan.noise) await recording.append(encodeAcquisitionMessage(a))
    for (const slice of scan.slices) await recording.append(Buffer.concat(slice.map(encodeAcquisitionMessage)))
    raw.send(encodeFrame(encodeRawRequest({ jobId: grant.jobId, epoch: grant.epoch, fromOffset: 0 })))
    for (const slice of scan.slices) {
      await recording.append(Buffer.concat(slice.map((a) => encodeAcquisitionMessage({ ...a, head: { ...a.head, flags: 0n } }))))
      await sleep(5)
    }
    await recording.finish(encodeCloseMessage())
    await ended
    const all = Buffer.concat(chunks)
    const header = new FrameDecoder(1024)
    const frame = header.push(all, 1)[0]
    expect(decodeRawResponseHeader(frame)).toEqual({ status: 0, preambleLength: 0, startOffset: 0 })
    const body = header.takePending()
    expect(body.length).toBe(recording.length)
    expect(body.length).toBeGreaterThan(60e6)
    expect(createHash('sha256').update(body).digest('hex')).toBe(createHash('sha256').update(await readFile(recording.path)).digest('hex'))
  }, 60_000)

  it('stops the worker when the task is cancelled, fails the task when the acquisition stops without its data, and cancels it with a scan the operator stopped', async () => {
    const swarm = generateSwarmKeyHex()
    const scanner = await startScanner(swarm)
    const worker = await startWorker(swarm, scanner, 'w')
    const scan = multiSliceScan(6, 32, 2)
    // cancelled by the operator while it runs
    const first = planExam(scanner)
    const r1 = await scanner.recordings.start(first.acquisitionId)
    let stop = false
    const feeding = feed(r1, scan, 50, 8, () => stop)
    scanner.lab.tasks.setStatus(first.reconId, 'STARTED', actor)
    await until(() => dicomResults(scanner.lab, first.reconId).length >= 1, 20_000, 'a first slice')
    scanner.lab.tasks.setStatus(first.reconId, 'CANCELLED', actor)
    await until(() => worker.worker.running().length === 0, 5000, 'the worker stops')
    const recorded = dicomResults(scanner.lab, first.reconId).length
    stop = true
    await feeding
    await sleep(300)
    expect(dicomResults(scanner.lab, first.reconId)).toHaveLength(recorded)
    expect(scanner.lab.tasks.get(first.reconId)?.status).toBe('CANCELLED')
    expect(worker.log.some((l) => /stopped .*revoked the lease: the task is no longer running \(CANCELLED\)/.test(l))).toBe(true)
    // the acquisition stops half way: its raw data is incomplete
    const second = planExam(scanner)
    const r2 = await scanner.recordings.start(second.acquisitionId)
    await r2.append(encodeHeaderMessage(writeIsmrmrdXml(scan.header)))
    for (const a of scan.slices[0]) await r2.append(encodeAcquisitionMessage(a))
    scanner.lab.tasks.setStatus(second.reconId, 'STARTED', actor)
    await until(() => dicomResults(scanner.lab, second.reconId).length === 1, 20_000, 'the first slice')
    await r2.abort('stopped by the operator')
    const failed = await until(() => { const t = scanner.lab.tasks.get(second.reconId); return t?.status === 'ERROR' ? t : undefined }, 5000, 'task ERROR')
    expect(failed.error).toMatch(/the acquisition stopped \(stopped by the operator\)/)
    await until(() => worker.worker.running().length === 0, 5000, 'the worker stops')
    // the operator stops the scan: its reconstruction is cancelled with it, not failed
    const third = planExam(scanner)
    const r3 = await scanner.recordings.start(third.acquisitionId)
    await r3.append(encodeHeaderMessage(writeIsmrmrdXml(scan.header)))
    for (const a of scan.slices[0]) await r3.append(encodeAcquisitionMessage(a))
    scanner.lab.tasks.setStatus(third.reconId, 'STARTED', actor)
    await until(() => dicomResults(scanner.lab, third.reconId).length === 1, 20_000, 'the first slice')
    scanner.lab.tasks.setStatus(third.acquisitionId, 'CANCELLED', actor)
    await r3.abort('stopped')
    await until(() => scanner.lab.tasks.get(third.reconId)?.status === 'CANCELLED' ? true : undefined, 5000, 'reconstruction CANCELLED')
    expect(scanner.lab.tasks.get(third.reconId)?.error).toBeUndefined()
  }, 60_000)

  it('answers garbage and oversized frames on the job and raw protocols with an error, and keeps working', async () => {
    const swarm = generateSwarmKeyHex()
    const scanner = await startScanner(swarm)
    const intruder = await host(swarm)
    stops.push(async () => { await intruder.stop() })
    const addr = scanner.host.getMultiaddrs()[0]

    const collect = (stream: Awaited<ReturnType<LabHost['dialProtocol']>>): { frames: () => Uint8Array[], raw: () => Buffer } => {
      const chunks: Uint8Array[] = []
      stream.addEventListener('message', (e) => { chunks.push(e.data instanceof Uint8Array ? e.data : e.data.subarray()) })
      return {
        raw: () => Buffer.concat(chunks),
        frames: () => new FrameDecoder(1 << 20).push(Buffer.concat(chunks))
      }
    }
    const jobMessages = (frames: Uint8Array[]): JobMessage[] => frames.map((f) => decodeJobMessage(f))

    // an unknown message type
    let stream = await intruder.dialProtocol(addr, JOB_PROTOCOL)
    let got = collect(stream)
    stream.send(encodeFrame(new Uint8Array([9, 1, 2, 3])))
    await until(() => got.frames().length > 0, 5000, 'error for an unknown type')
    expect(jobMessages(got.frames())[0]).toEqual({ type: 'error', message: 'unknown job message type 9' })
    await until(() => stream.status !== 'open', 5000, 'stream closed after the error')

    // a message only a scanner sends
    stream = await intruder.dialProtocol(addr, JOB_PROTOCOL)
    got = collect(stream)
    stream.send(encodeFrame(encodeJobMessage({ type: 'revoke', jobId: 'x', epoch: 1, reason: 'mine' })))
    await until(() => got.frames().length > 0, 5000, 'error for a wrong-direction message')
    expect(jobMessages(got.frames())[0]).toMatchObject({ type: 'error', message: "a worker does not send 'revoke'" })

    // a lying length prefix of 1 GiB
    stream = await intruder.dialProtocol(addr, JOB_PROTOCOL)
    got = collect(stream)
    stream.send(new Uint8Array([0x80, 0x80, 0x80, 0x80, 0x04]))
    await until(() => got.frames().length > 0, 5000, 'error for an oversized frame')
    expect(jobMessages(got.frames())[0]).toMatchObject({ type: 'error', message: expect.stringMatching(/exceeds the limit/) })
    await until(() => stream.status !== 'open', 5000, 'stream closed after the oversized frame')

    // raw: garbage request, and a request for a job this peer does not hold
    stream = await intruder.dialProtocol(addr, RAW_PROTOCOL)
    got = collect(stream)
    stream.send(encodeFrame(new Uint8Array([0xff, 0xff, 0xff])))
    await until(() => got.frames().length > 0, 5000, 'answer to a garbage raw request')
    expect(decodeRawResponseHeader(got.frames()[0])).toMatchObject({ status: 2 })
    stream = await intruder.dialProtocol(addr, RAW_PROTOCOL)
    got = collect(stream)
    stream.send(encodeFrame(encodeRawRequest({ jobId: 'task@2026', epoch: 1, fromOffset: 0 })))
    await until(() => got.frames().length > 0, 5000, 'answer to a raw request for no job')
    expect(decodeRawResponseHeader(got.frames()[0])).toEqual({ status: 1, message: 'no job task@2026 on this scanner' })
    stream = await intruder.dialProtocol(addr, RAW_PROTOCOL)
    got = collect(stream)
    stream.send(new Uint8Array([0x80, 0x80, 0x80, 0x80, 0x04]))
    await until(() => got.frames().length > 0, 5000, 'answer to an oversized raw request')
    expect(decodeRawResponseHeader(got.frames()[0])).toMatchObject({ status: 2, message: expect.stringMatching(/exceeds the limit/) })

    // the scanner still runs jobs
    await startWorker(swarm, scanner, 'w')
    const { acquisitionId, reconId } = planExam(scanner)
    await feed(await scanner.recordings.start(acquisitionId), multiSliceScan(1, 32, 2), 0)
    scanner.lab.tasks.setStatus(reconId, 'STARTED', actor)
    await until(() => scanner.lab.tasks.get(reconId)?.status === 'FINISHED', 20_000, 'job after the garbage')
  }, 60_000)

  it('a worker closes a job stream that carries garbage from a fake scanner, and keeps running', async () => {
    const swarm = generateSwarmKeyHex()
    const fake = await host(swarm)
    stops.push(async () => { await fake.stop() })
    const received: Uint8Array[] = []
    await fake.handle(JOB_PROTOCOL, (stream) => {
      stream.addEventListener('message', (e) => { received.push(e.data instanceof Uint8Array ? e.data : e.data.subarray()) })
      stream.send(encodeFrame(new Uint8Array([16, 0xff])))
    })
    const h = await host(swarm)
    const blobs = await BlobStore.open(newDir('w-blobs'))
    const log: string[] = []
    const worker = new JobWorker({ libp2p: h, blobs, scanners: () => [fake.peerId.toString()] }, { connectIntervalMs: 100, fft: pool, log: (m) => log.push(m) })
    await worker.start()
    stops.push(async () => { await worker.stop(); await h.stop() })
    await h.dial(fake.getMultiaddrs()[0])
    const frames = await until(() => {
      const decoded = new FrameDecoder(1 << 20).push(Buffer.concat(received)).map((f) => decodeJobMessage(f))
      return decoded.some((m) => m.type === 'error') ? decoded : undefined
    }, 5000, 'worker answers the garbage with an error')
    expect(log.some((l) => l.includes('closing the job stream'))).toBe(true)
    expect(frames[0]).toMatchObject({ type: 'hello', slots: 1 })
    expect(frames.at(-1)).toMatchObject({ type: 'error', message: expect.stringMatching(/malformed job message/) })
    expect(worker.running()).toEqual([])
  }, 30_000)
})
