// The MRD TCP server as a Gadgetron client sees it: data from Debian's
// ismrmrd_generate_cartesian_shepp_logan sent as a stream, images back on the same connection equal to
// `scanhub recon` of the same file, and the stream recorded in a lab (patient, exam, workflow, raw data,
// DICOM) like a scan; and clients that send garbage, lie about lengths, stall, hold too much, name an
// unknown configuration or come too many at once get a text message that says why, while the server
// keeps serving.
import { spawnSync } from 'node:child_process'
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises'
import { connect, type Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { readDicom } from '../../protocol/dicom/index.ts'
import { Lab } from '../../protocol/lab/index.ts'
import { MemoryDocSource } from '../../protocol/lab/memory-doc-source.ts'
import { AcquisitionHeaderOffset } from '../../protocol/mrd/acquisition-header.ts'
import { MrdStreamDecoder } from '../../protocol/mrd/stream-decoder.ts'
import { encodeAcquisitionMessage, encodeCloseMessage, encodeConfigFileMessage, encodeHeaderMessage, type MrdMessage } from '../../protocol/mrd/stream.ts'
import type { Acquisition } from '../../protocol/mrd/types.ts'
import { writeIsmrmrdXml, type IsmrmrdHeader } from '../../protocol/mrd/xml-header.ts'
import { BlobStore } from '../../node/storage/blob-store.ts'
import { reconCommand } from '../cli/recon.ts'
import { createFftPool } from '../fft/pool.ts'
import { scaledNrmse } from '../fft/test-support.ts'
import { readIsmrmrdHdf5 } from '../import/index.ts'
import { MrdLabStore, UNKNOWN_MRD_PATIENT_ID } from './mrd-lab-store.ts'
import { MrdTcpServer, pipelineOfConfig } from './mrd-tcp-server.ts'

const generator = spawnSync('sh', ['-c', 'command -v ismrmrd_generate_cartesian_shepp_logan'], { stdio: 'ignore' }).status === 0
if (!generator) console.warn('\n*** SKIPPING the MRD TCP tests that need `ismrmrd_generate_cartesian_shepp_logan` (Debian ismrmrd-tools) ***\n')

const fft = createFftPool({ size: 2 })
let server: MrdTcpServer
let port: number
let dir: string
let lab: Lab
let blobs: BlobStore
/** the Shepp–Logan file, its header and readouts */
let phantom: { file: string, header: IsmrmrdHeader, acquisitions: Acquisition[] } | undefined

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'scanhub-mrd-tcp-'))
  lab = new Lab(new MemoryDocSource())
  blobs = await BlobStore.open(join(dir, 'blobs'))
  const store = new MrdLabStore({ lab, blobs, peerId: 'peer-under-test' })
  server = new MrdTcpServer({ port: 0, fft, maxConnections: 2, idleTimeoutMs: 1_000, store })
  port = await server.start()
  if (generator) {
    const file = join(dir, 'sl.h5')
    expect(spawnSync('ismrmrd_generate_cartesian_shepp_logan', ['-m', '64', '-c', '4', '-r', '2', '-o', file], { cwd: dir }).status).toBe(0)
    const input = await readIsmrmrdHdf5(file)
    const acquisitions: Acquisition[] = []
    for await (const a of input.acquisitions) acquisitions.push(a)
    phantom = { file, header: input.header, acquisitions }
  }
})

afterAll(async () => {
  await server.stop()
  await fft.close()
  await rm(dir, { recursive: true, force: true })
})

/** Sends the bytes, half-closes, and decodes what comes back until the server closes. */
async function exchange (bytes: Uint8Array, options: { keepOpen?: boolean, to?: number } = {}): Promise<MrdMessage[]> {
  return await new Promise<MrdMessage[]>((resolve, reject) => {
    const socket = connect(options.to ?? port, '127.0.0.1')
    const decoder = new MrdStreamDecoder()
    const messages: MrdMessage[] = []
    socket.on('data', (chunk: Buffer) => { messages.push(...decoder.push(chunk)) })
    socket.on('error', reject)
    socket.on('close', () => { resolve(messages) })
    socket.write(bytes)
    if (options.keepOpen !== true) socket.end()
  })
}

const texts = (messages: MrdMessage[]): string => messages.flatMap((m) => m.type === 'text' ? [m.text] : []).join('\n')

/** The phantom as a client's stream: configuration, header (changed by `edit`), readouts, close. */
function phantomStream (edit: (header: IsmrmrdHeader) => IsmrmrdHeader = (h) => h, options: { close?: boolean, readouts?: number } = {}): Uint8Array {
  if (phantom === undefined) throw new Error('no phantom')
  const parts = [encodeConfigFileMessage('default.xml'), encodeHeaderMessage(writeIsmrmrdXml(edit(structuredClone(phantom.header))))]
  for (const acquisition of phantom.acquisitions.slice(0, options.readouts)) parts.push(encodeAcquisitionMessage(acquisition))
  if (options.close !== false) parts.push(encodeCloseMessage())
  return Buffer.concat(parts)
}

const withSubject = (h: IsmrmrdHeader): IsmrmrdHeader => ({
  ...h,
  subjectInformation: { patientID: 'MRN-0042', patientName: 'Doe^Jane', patientBirthdate: '1980-02-29', patientGender: 'F' },
  studyInformation: { ...h.studyInformation, accessionNumber: 4711, studyInstanceUID: '1.2.826.0.1.3680043.2.1125.42.1', studyDescription: 'Phantom study' }
})

async function expectGoodClientServed (): Promise<void> {
  const answer = await exchange(phantomStream())
  expect(texts(answer)).toBe('')
  expect(answer.filter((m) => m.type === 'image')).toHaveLength(2)
}

describe('MRD over TCP', () => {
  it.skipIf(!generator)('answers a stream with the images scanhub recon makes of the same file, and records it in the lab like a scan', async () => {
    const answer = await exchange(phantomStream(withSubject))
    const images = answer.filter((m) => m.type === 'image')
    expect(texts(answer)).toBe('')
    expect(answer.map((m) => m.type).filter((t) => t !== 'image')).toEqual(['close'])
    expect(answer.at(-1)?.type).toBe('close')

    const out = join(dir, 'dicom')
    await reconCommand([phantom!.file, '--out', out, '--quiet', '--threads', '2'])
    const files = (await readdir(out)).sort()
    expect(images).toHaveLength(files.length)
    expect(files).toHaveLength(2)
    const reference = await Promise.all(files.map(async (name) => readDicom(await readFile(join(out, name)))))
    for (const [i, dicom] of reference.entries()) {
      const image = images[i]
      if (image.type !== 'image') throw new Error('not an image')
      expect([image.image.head.matrixSize[0], image.image.head.matrixSize[1]]).toEqual([dicom.columns, dicom.rows])
      expect(image.image.head.repetition).toBe(i)
      // the DICOM holds the same image in 12 bits
      expect(scaledNrmse(Float32Array.from(dicom.pixels), image.image.data as Float32Array)).toBeLessThan(1e-3)
    }

    // the lab: the header's patient, its exam, a workflow of raw data and reconstruction
    const patient = lab.patients.list().find((p) => p.mrn === 'MRN-0042')
    expect(patient).toMatchObject({ lastName: 'Doe', firstName: 'Jane', birthDate: '1980-02-29', sex: 'FEMALE' })
    const exams = lab.exams.list({ patientId: patient!.id })
    expect(exams).toHaveLength(1)
    expect(exams[0]).toMatchObject({ accessionNumber: '4711', name: 'Phantom study', studyInstanceUid: '1.2.826.0.1.3680043.2.1125.42.1' })
    const tasks = lab.tasks.list({ examId: exams[0].id })
    expect(tasks.map((t) => [t.type, t.status])).toEqual([['ACQUISITION', 'FINISHED'], ['RECONSTRUCTION', 'FINISHED']])
    expect(tasks[1].parameters).toMatchObject({ inputTaskId: tasks[0].id, pipeline: 'default' })
    expect(tasks[0].startedBy).toMatch(/^mrd:127\.0\.0\.1:\d+$/)

    // the raw result is the stream as received (header, readouts, close)
    const [raw] = lab.results.list({ taskId: tasks[0].id })
    expect(raw).toMatchObject({ type: 'RAW' })
    const rawMessages = new MrdStreamDecoder().push(await blobs.read(raw.files[0].sha256))
    expect(rawMessages.map((m) => m.type)).toEqual(['header', ...phantom!.acquisitions.map(() => 'acquisition'), 'close'])
    const first = rawMessages[1]
    if (first.type !== 'acquisition') throw new Error('not an acquisition')
    expect(Array.from(first.acquisition.data)).toEqual(Array.from(phantom!.acquisitions[0].data))

    // the DICOM results: the same pixels as scanhub recon's, the lab's patient and exam, the header's study
    const dicomResults = lab.results.list({ taskId: tasks[1].id })
    expect(dicomResults.every((r) => r.type === 'DICOM')).toBe(true)
    const stored = await Promise.all(dicomResults.flatMap((r) => r.files).sort((a, b) => a.name.localeCompare(b.name)).map(async (f) => readDicom(await blobs.read(f.sha256))))
    expect(stored).toHaveLength(files.length)
    for (const [i, dicom] of stored.entries()) {
      expect(Array.from(dicom.pixels)).toEqual(Array.from(reference[i].pixels))
      expect(dicom.dataset.PatientID).toBe('MRN-0042')
      expect(dicom.dataset.AccessionNumber).toBe('4711')
      expect(dicom.dataset.StudyInstanceUID).toBe('1.2.826.0.1.3680043.2.1125.42.1')
      expect(dicom.dataset.PatientBirthDate).toBe('19800229')
    }
    expect(new Set(stored.map((d) => d.dataset.SeriesInstanceUID)).size).toBe(1)

    // the audit log names the client's address
    const audit = lab.audit().filter((e) => e.actor.startsWith('mrd:'))
    expect(audit.map((e) => e.entity)).toEqual(expect.arrayContaining(['patient', 'exam', 'workflow', 'task', 'result']))
    expect(audit.every((e) => /^mrd:127\.0\.0\.1:\d+$/.test(e.actor) && e.peerId === 'peer-under-test')).toBe(true)

    // the same patient and accession number again: the same patient and exam, a workflow more
    await expectGoodClientServedWith(withSubject)
    expect(lab.patients.list().filter((p) => p.mrn === 'MRN-0042')).toHaveLength(1)
    expect(lab.exams.list({ patientId: patient!.id })).toHaveLength(1)
    expect(lab.workflows.list({ examId: exams[0].id })).toHaveLength(2)

    // an exam the lab made beforehand (as from the hospital's worklist): a stream naming its study joins it
    const listed = lab.patients.create({ mrn: 'MRN-WL', firstName: 'Wendy', lastName: 'List', birthDate: '1990-01-02', sex: 'FEMALE' }, { name: 'alice', peerId: 'peer-a' })
    const ordered = lab.exams.create({ patientId: listed.id, name: 'MR head', accessionNumber: 'ACC-77', studyInstanceUid: '1.2.826.0.1.3680043.2.1125.77' }, { name: 'alice', peerId: 'peer-a' })
    await expectGoodClientServedWith((h) => ({ ...h, subjectInformation: { patientID: 'MRN-WL' }, studyInformation: { studyInstanceUID: '1.2.826.0.1.3680043.2.1125.77' } }))
    expect(lab.exams.list({ patientId: listed.id }).map((e) => e.id)).toEqual([ordered.id])
    const [orderedRecon] = lab.tasks.list({ examId: ordered.id }).filter((t) => t.type === 'RECONSTRUCTION')
    const orderedDicom = readDicom(await blobs.read(lab.results.list({ taskId: orderedRecon.id })[0].files[0].sha256))
    expect(orderedDicom.dataset).toMatchObject({ PatientID: 'MRN-WL', AccessionNumber: 'ACC-77', StudyInstanceUID: '1.2.826.0.1.3680043.2.1125.77' })

    // a header without a patient ID: the unknown patient
    await expectGoodClientServedWith((h) => ({ ...h, subjectInformation: undefined }))
    const unknown = lab.patients.get(UNKNOWN_MRD_PATIENT_ID)
    expect(unknown?.lastName).toBe('Unknown (MRD client)')
    expect(lab.exams.list({ patientId: UNKNOWN_MRD_PATIENT_ID })).toHaveLength(1)
  }, 180_000)

  it('tells a client what it cannot do, and keeps serving', async () => {
    const patientsBefore = lab.patients.list().length
    expect(pipelineOfConfig('default.xml')).toBe('default')
    expect(pipelineOfConfig('grappa')).toBe('grappa')
    const unknown = await exchange(Buffer.concat([encodeConfigFileMessage('Generic_Cartesian_Grappa_SNR.xml'), encodeHeaderMessage('<ismrmrdHeader/>')]))
    expect(texts(unknown)).toMatch(/configuration "Generic_Cartesian_Grappa_SNR.xml" is not one this peer runs/)
    expect(unknown.at(-1)?.type).toBe('close')

    const garbage = await exchange(new Uint8Array([0x07, 0x00, 1, 2, 3, 4, 5, 6]))
    expect(texts(garbage)).toMatch(/MrdProtocolError: .*unknown message id 7/)
    const junk = await exchange(Buffer.from('GET / HTTP/1.1\r\nHost: scanhub\r\n\r\n'))
    expect(texts(junk)).toMatch(/MrdProtocolError/)

    // a header announcing 4 GiB of XML: refused on its length, nothing is waited for or allocated
    const lying = new Uint8Array([0x03, 0x00, 0xff, 0xff, 0xff, 0xff, 0x3c])
    expect(texts(await exchange(lying, { keepOpen: true }))).toMatch(/MrdProtocolError: .*exceeds/)

    const early = await exchange(Buffer.concat([encodeConfigFileMessage('default.xml'), encodeCloseMessage()]))
    expect(early.map((m) => m.type)).toEqual(['close'])
    expect(lab.patients.list()).toHaveLength(patientsBefore)
    if (generator) await expectGoodClientServed()
  }, 60_000)

  it.skipIf(!generator)('refuses a readout whose announced size is beyond the limit before allocating it', async () => {
    const good = encodeAcquisitionMessage(phantom!.acquisitions[0])
    const huge = Buffer.from(good.subarray(0, 2 + 340))
    // 65535 samples × 65535 channels × 8 bytes: 32 GiB announced
    huge.writeUInt16LE(65535, 2 + AcquisitionHeaderOffset.numberOfSamples)
    huge.writeUInt16LE(65535, 2 + AcquisitionHeaderOffset.activeChannels)
    const answer = await exchange(Buffer.concat([encodeConfigFileMessage('default.xml'), encodeHeaderMessage(writeIsmrmrdXml(phantom!.header)), huge]), { keepOpen: true })
    expect(texts(answer)).toMatch(/MrdProtocolError: .*exceeds/)
    await expectGoodClientServed()
  }, 60_000)

  it.skipIf(!generator)('closes a connection that stalls with a message, and ends its record in the lab as an error', async () => {
    const started = Date.now()
    // a configuration and nothing more, the connection left open: told so after the idle time
    const stalled = await exchange(encodeConfigFileMessage('default.xml'), { keepOpen: true })
    expect(Date.now() - started).toBeGreaterThanOrEqual(900)
    expect(texts(stalled)).toMatch(/nothing arrived for 1 s: this peer closes connections that stall/)
    expect(stalled.at(-1)?.type).toBe('close')

    // a header, some readouts and then silence: the stream's tasks end in ERROR with the reason
    const partial = await exchange(phantomStream((h) => ({ ...h, subjectInformation: { patientID: 'MRN-STALL' } }), { close: false, readouts: 10 }), { keepOpen: true })
    expect(texts(partial)).toMatch(/nothing arrived/)
    const patient = lab.patients.list().find((p) => p.mrn === 'MRN-STALL')
    const tasks = lab.tasks.list({ patientId: patient!.id })
    expect(tasks.map((t) => t.status)).toEqual(['ERROR', 'ERROR'])
    expect(tasks[0].error).toMatch(/nothing arrived/)
    expect(lab.results.list({ patientId: patient!.id })).toEqual([])
    await expectGoodClientServed()
  }, 60_000)

  it.skipIf(!generator)('turns away connections beyond its limit with a message, then serves again', async () => {
    const held: Socket[] = [connect(port, '127.0.0.1'), connect(port, '127.0.0.1')]
    await new Promise((resolve) => setTimeout(resolve, 200))
    const refused = await exchange(encodeConfigFileMessage('default.xml'), { keepOpen: true })
    expect(texts(refused)).toMatch(/busy: this peer serves 2 MRD connections at once/)
    expect(refused.at(-1)?.type).toBe('close')
    for (const socket of held) socket.destroy()
    await new Promise((resolve) => setTimeout(resolve, 200))
    await expectGoodClientServed()

    // clients served to their close that keep their side open hold no place: a third is served at once
    const lingering = await Promise.all([0, 1].map(async () => await new Promise<Socket>((resolve) => {
      const socket = connect(port, '127.0.0.1')
      const decoder = new MrdStreamDecoder()
      socket.on('data', (chunk: Buffer) => { if (decoder.push(chunk).some((m) => m.type === 'close')) resolve(socket) })
      socket.write(Buffer.concat([encodeConfigFileMessage('default.xml'), encodeCloseMessage()]))
    })))
    try {
      await expectGoodClientServed()
    } finally {
      for (const socket of lingering) socket.destroy()
    }
  }, 60_000)

  it.skipIf(!generator)('caps the readouts a connection holds, from the header and as they arrive', async () => {
    // 64 KiB per connection: the phantom's readouts (4 channels) exceed it before the first image
    const small = new MrdTcpServer({ port: 0, fft, idleTimeoutMs: 1_000, maxBufferedBytes: 64 * 1024 })
    const smallPort = await small.start()
    try {
      const declared = await exchange(phantomStream(), { to: smallPort })
      expect(texts(declared)).toMatch(/the header's k-space \(128 × 64 × 1 samples × 4 channels, 256 KiB\) exceeds the 64 KiB of readouts/)
      // a header that hides its channels passes the first check; the readouts do not
      const hidden = await exchange(phantomStream((h) => ({ ...h, acquisitionSystemInformation: { ...h.acquisitionSystemInformation, receiverChannels: undefined } })), { to: smallPort })
      expect(texts(hidden)).toMatch(/the pipeline would hold more than 64 KiB of readouts before its next image/)
      expect(hidden.filter((m) => m.type === 'image')).toEqual([])
      await expectGoodClientServed()
    } finally {
      await small.stop()
    }
  }, 60_000)

  it('answers arbitrary bytes with a message or a close, and keeps serving (fuzz)', async () => {
    const config = encodeConfigFileMessage('default.xml')
    await fc.assert(fc.asyncProperty(fc.boolean(), fc.uint8Array({ maxLength: 2048 }), async (configured, bytes) => {
      const answer = await exchange(configured ? Buffer.concat([config, bytes]) : bytes)
      // whatever came back is MRD: a close last, at most a text before it
      expect(answer.every((m) => m.type === 'text' || m.type === 'close')).toBe(true)
      expect(answer.at(-1)?.type).toBe('close')
    }), { numRuns: 40 })
    if (generator) await expectGoodClientServed()
  }, 120_000)
})

async function expectGoodClientServedWith (edit: (h: IsmrmrdHeader) => IsmrmrdHeader): Promise<void> {
  const answer = await exchange(phantomStream(edit))
  expect(texts(answer)).toBe('')
  expect(answer.filter((m) => m.type === 'image')).toHaveLength(2)
}
