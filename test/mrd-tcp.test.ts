// MRD over TCP on a peer started as a user would (`scanhub start --roles hub,recon --mrd-port`): a client
// sends the stream of a file made by Debian's ismrmrd_generate_cartesian_shepp_logan, gets back the
// images `scanhub recon` makes of the same file, and the lab's REST API then shows the patient, the exam,
// the raw data and the DICOM files, with the client's address in the audit log. Hostile clients
// (garbage, a lying length, more connections than the peer serves) each get a message saying why, and
// the peer serves a good client afterwards.
import { spawnSync } from 'node:child_process'
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises'
import { connect, type Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { readDicom } from '../protocol/dicom/index.ts'
import { MrdStreamDecoder } from '../protocol/mrd/stream-decoder.ts'
import { encodeAcquisitionMessage, encodeCloseMessage, encodeConfigFileMessage, encodeHeaderMessage, type MrdMessage } from '../protocol/mrd/stream.ts'
import { writeIsmrmrdXml } from '../protocol/mrd/xml-header.ts'
import { scaledNrmse } from '../recon-node/fft/test-support.ts'
import { readIsmrmrdHdf5 } from '../recon-node/import/index.ts'
import { PROJECT_ROOT, SCANHUB_BIN, TestLab, eventually, sleep, type PeerProcess } from './support/peer-process.ts'

const generator = spawnSync('sh', ['-c', 'command -v ismrmrd_generate_cartesian_shepp_logan'], { stdio: 'ignore' }).status === 0
if (!generator) console.warn('\n*** SKIPPING test/mrd-tcp.test.ts: it needs `ismrmrd_generate_cartesian_shepp_logan` (Debian ismrmrd-tools) ***\n')

let lab: TestLab
let peer: PeerProcess
let mrdPort: number
let dir: string
/** the phantom's stream as a client sends it */
let stream: Uint8Array
let readouts: number

beforeAll(async () => {
  if (!generator) return
  dir = await mkdtemp(join(tmpdir(), 'scanhub-mrd-tcp-e2e-'))
  lab = new TestLab()
  peer = await lab.peer({ name: 'mrd-hub', roles: 'hub,recon', extraArgs: ['--mrd-port', '0'] })
  await peer.start(60_000)
  mrdPort = await eventually(() => {
    const m = /ISMRMRD streaming \(Gadgetron protocol\) on [^\s]+:(\d+)/.exec(peer.output)
    return m !== null ? Number(m[1]) : undefined
  }, 20_000, 'the peer says where it serves MRD')

  const file = join(dir, 'sl.h5')
  expect(spawnSync('ismrmrd_generate_cartesian_shepp_logan', ['-m', '64', '-c', '4', '-r', '2', '-o', file], { cwd: dir }).status).toBe(0)
  const input = await readIsmrmrdHdf5(file)
  const header = {
    ...input.header,
    subjectInformation: { patientID: 'E2E-7', patientName: 'Roe^Richard', patientBirthdate: '1971-07-01', patientGender: 'M' },
    studyInformation: { ...input.header.studyInformation, accessionNumber: 90210 }
  }
  const parts = [encodeConfigFileMessage('default.xml'), encodeHeaderMessage(writeIsmrmrdXml(header))]
  readouts = 0
  for await (const acquisition of input.acquisitions) { parts.push(encodeAcquisitionMessage(acquisition)); readouts++ }
  parts.push(encodeCloseMessage())
  stream = Buffer.concat(parts)

  // the reference: scanhub recon of the same file, as a user runs it
  const recon = spawnSync(process.execPath, [SCANHUB_BIN, 'recon', file, '--out', join(dir, 'reference'), '--quiet', '--threads', '2'], { cwd: PROJECT_ROOT, encoding: 'utf8', timeout: 120_000 })
  expect(recon.status, recon.stderr).toBe(0)
}, 180_000)

afterAll(async () => {
  await lab?.cleanup()
  if (dir !== undefined) await rm(dir, { recursive: true, force: true })
})

async function exchange (bytes: Uint8Array, options: { keepOpen?: boolean } = {}): Promise<MrdMessage[]> {
  return await new Promise<MrdMessage[]>((resolve, reject) => {
    const socket = connect(mrdPort, '127.0.0.1')
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

async function blob (sha256: string): Promise<Uint8Array> {
  const res = await fetch(`${peer.baseUrl}/api/v1/blobs/${sha256}`, { headers: { 'x-api-key': peer.apiKey } })
  expect(res.status).toBe(200)
  return new Uint8Array(await res.arrayBuffer())
}

async function expectServed (): Promise<MrdMessage[]> {
  const answer = await exchange(stream)
  expect(texts(answer)).toBe('')
  expect(answer.at(-1)?.type).toBe('close')
  return answer.filter((m) => m.type === 'image')
}

describe('scanhub start --mrd-port', () => {
  it('needs the hub role besides recon: only a hub may add the patients and exams it records', async () => {
    const data = await mkdtemp(join(tmpdir(), 'scanhub-mrd-roles-'))
    try {
      const run = spawnSync(process.execPath, [SCANHUB_BIN, 'start', '--roles', 'recon', '--mrd-port', '0', '--data', data, '--no-mdns'], { cwd: PROJECT_ROOT, encoding: 'utf8', timeout: 60_000 })
      expect(run.status).toBe(2)
      expect(run.stderr).toMatch(/--mrd-port .* needs the hub and recon roles \(--roles hub,recon\)/)
    } finally {
      await rm(data, { recursive: true, force: true })
    }
  }, 60_000)
})

describe.skipIf(!generator)('MRD over TCP on a hub', () => {
  it('answers with the images scanhub recon makes, and the lab shows the patient, exam, raw data and DICOM', async () => {
    const images = await expectServed()
    const names = (await readdir(join(dir, 'reference'))).sort()
    const reference = await Promise.all(names.map(async (n) => readDicom(await readFile(join(dir, 'reference', n)))))
    expect(images).toHaveLength(reference.length)
    for (const [i, dicom] of reference.entries()) {
      const image = images[i]
      if (image.type !== 'image') throw new Error('not an image')
      expect(scaledNrmse(Float32Array.from(dicom.pixels), image.image.data as Float32Array)).toBeLessThan(1e-3)
    }

    const patients = (await peer.api('GET', '/api/v1/patients')).body as Array<{ id: string, mrn?: string, lastName: string, firstName: string, birthDate: string, sex: string }>
    const patient = patients.find((p) => p.mrn === 'E2E-7')
    expect(patient).toMatchObject({ lastName: 'Roe', firstName: 'Richard', birthDate: '1971-07-01', sex: 'MALE' })
    const exams = (await peer.api('GET', `/api/v1/exams?patientId=${patient!.id}`)).body as Array<{ id: string, accessionNumber?: string }>
    expect(exams.map((e) => e.accessionNumber)).toEqual(['90210'])
    const tasks = (await peer.api('GET', `/api/v1/tasks?examId=${exams[0].id}`)).body as Array<{ id: string, type: string, status: string, startedBy?: string }>
    expect(tasks.map((t) => [t.type, t.status])).toEqual([['ACQUISITION', 'FINISHED'], ['RECONSTRUCTION', 'FINISHED']])
    expect(tasks[0].startedBy).toMatch(/^mrd:127\.0\.0\.1:\d+$/)

    const [raw] = (await peer.api('GET', `/api/v1/results?taskId=${tasks[0].id}`)).body as Array<{ type: string, files: Array<{ sha256: string, size: number }> }>
    expect(raw.type).toBe('RAW')
    const rawMessages = new MrdStreamDecoder().push(await blob(raw.files[0].sha256))
    expect(rawMessages[0].type).toBe('header')
    expect(rawMessages.filter((m) => m.type === 'acquisition')).toHaveLength(readouts)
    expect(rawMessages.at(-1)?.type).toBe('close')

    const dicomResults = (await peer.api('GET', `/api/v1/results?taskId=${tasks[1].id}`)).body as Array<{ type: string, files: Array<{ name: string, sha256: string }> }>
    const files = dicomResults.flatMap((r) => r.type === 'DICOM' ? r.files : []).sort((a, b) => a.name.localeCompare(b.name))
    expect(files).toHaveLength(reference.length)
    for (const [i, file] of files.entries()) {
      const dicom = readDicom(await blob(file.sha256))
      expect(Array.from(dicom.pixels)).toEqual(Array.from(reference[i].pixels))
      expect(dicom.dataset.PatientID).toBe('E2E-7')
      expect(dicom.dataset.AccessionNumber).toBe('90210')
    }

    const audit = (await peer.api('GET', '/api/v1/audit')).body as Array<{ actor: string, entity: string, action: string }>
    const byClient = audit.filter((e) => /^mrd:127\.0\.0\.1:\d+$/.test(e.actor))
    expect(byClient.map((e) => e.entity)).toEqual(expect.arrayContaining(['patient', 'exam', 'workflow', 'task', 'result']))
  }, 120_000)

  it('tells hostile clients why it closes on them, turns away a fifth connection, and serves a good client after', async () => {
    const patientsBefore = ((await peer.api('GET', '/api/v1/patients')).body as unknown[]).length
    expect(texts(await exchange(Buffer.from('\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03 not MRD at all', 'latin1')))).toMatch(/MrdProtocolError/)
    // an XML header said to be 4 GiB long: refused on its length, the client left waiting for an answer
    expect(texts(await exchange(new Uint8Array([0x03, 0x00, 0xff, 0xff, 0xff, 0xff, 0x3c]), { keepOpen: true }))).toMatch(/MrdProtocolError: .*exceeds/)

    // four connections are served at once (the default): the fifth is told so and closed
    const held: Socket[] = []
    try {
      for (let i = 0; i < 4; i++) held.push(connect(mrdPort, '127.0.0.1'))
      await sleep(300)
      const fifth = await exchange(encodeConfigFileMessage('default.xml'), { keepOpen: true })
      expect(texts(fifth)).toMatch(/busy: this peer serves 4 MRD connections at once/)
      expect(fifth.at(-1)?.type).toBe('close')
    } finally {
      for (const socket of held) socket.destroy()
    }
    await sleep(300)
    expect(((await peer.api('GET', '/api/v1/patients')).body as unknown[]).length).toBe(patientsBefore)
    expect(await expectServed()).toHaveLength(2)
    expect(peer.child?.exitCode).toBeNull()
  }, 120_000)
})
