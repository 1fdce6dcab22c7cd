// `scanhub export` and `scanhub import` between two labs, checked with tools nobody on this team wrote:
// dciodvfy (dicom3tools) and dcmdump (dcmtk) on the DICOM files and the DICOMDIR, pydicom for the
// identities, Debian's ismrmrd_recon_cartesian_2d and h5py for the raw data's ISMRMRD HDF5 copy.
import { spawn, spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, truncateSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { ExportManifest } from '../node/exchange/export.ts'
import { DEBIAN_PYTHON, hasPythonModules, hasTool } from './support/external-tools.ts'
import { PROJECT_ROOT, SCANHUB_BIN, TestLab, eventually, type PeerProcess } from './support/peer-process.ts'

const PYTHON = DEBIAN_PYTHON
const hasPython = (module: string): boolean => hasPythonModules(module)
for (const [tool, ok] of [['dciodvfy', hasTool('dciodvfy')], ['dcmdump', hasTool('dcmdump')], ['ismrmrd_recon_cartesian_2d', hasTool('ismrmrd_recon_cartesian_2d')], ['pydicom', hasPython('pydicom')], ['h5py', hasPython('h5py')]] as const) {
  if (!ok) console.warn(`export-import.test: ${tool} is missing; the checks that need it are skipped (npm test's pretest installs it)`)
}

interface CliRun { status: number | null, stdout: string, stderr: string }

/** The scanhub command, run asynchronously: the peers it talks to are this test's children too. */
async function scanhub (args: string[]): Promise<CliRun> {
  return await new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [SCANHUB_BIN, ...args], { cwd: PROJECT_ROOT, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString() })
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString() })
    child.on('error', reject)
    child.on('exit', (status) => resolve({ status, stdout, stderr }))
  })
}

interface ImportSummary { imported: number, duplicates: number, skipped: number, failed: number, files: Array<{ name: string, status: string, error?: string, kind?: string }> }

let lab: TestLab
let source: PeerProcess
let target: PeerProcess
let work: string
let examId: string
let patientId: string
let exportDir: string
let manifest: ExportManifest

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'scanhub-exchange-'))
  lab = new TestLab()
  source = await lab.peer({ name: 'scanner-lab', roles: 'hub,scanner,recon', extraArgs: ['--fast-scan'] })
  target = await lab.peer({ name: 'other-lab', roles: 'hub' })
  await Promise.all([source.start(), target.start()])
  const device = (await source.api<Array<{ id: string }>>('GET', '/api/v1/devices')).body[0]
  const patient = (await source.api('POST', '/api/v1/patients', { mrn: 'MRN-4711', firstName: 'Ada', lastName: 'Lovelace', birthDate: '1985-12-10', sex: 'FEMALE' })).body
  patientId = patient.id
  const exam = (await source.api('POST', '/api/v1/exams', { patientId, name: 'Head', accessionNumber: 'ACC-99' })).body
  examId = exam.id
  const wf = (await source.api('POST', '/api/v1/workflows', { examId, name: 'Routine' })).body
  const acq = (await source.api('POST', '/api/v1/tasks', { workflowId: wf.id, type: 'ACQUISITION', name: 'GRE', parameters: { sequenceId: 'builtin-gre-multislice', deviceId: device.id } })).body
  const recon = (await source.api('POST', '/api/v1/tasks', { workflowId: wf.id, type: 'RECONSTRUCTION', name: 'Images', parameters: { pipeline: 'cartesian', inputTaskId: acq.id } })).body
  expect((await source.api('POST', `/api/v1/tasks/${acq.id}/start`)).status).toBe(202)
  await eventually(async () => {
    const t = (await source.api('GET', `/api/v1/tasks/${recon.id}`)).body
    if (t.status === 'ERROR') throw new Error(`reconstruction failed: ${t.error}`)
    return t.status === 'FINISHED' ? t : undefined
  }, 90_000, 'reconstruction FINISHED')

  exportDir = join(work, 'export')
  const run = await scanhub(['export', examId, '--out', exportDir, '--data', source.dataDir])
  expect(run.status, run.stderr).toBe(0)
  expect(run.stdout).toMatch(/exported 1 exam\(s\) of Lovelace, Ada: \d+ DICOM file\(s\), 1 raw data file\(s\)/)
  manifest = JSON.parse(readFileSync(join(exportDir, 'manifest.json'), 'utf8')) as ExportManifest
}, 180_000)

afterAll(async () => {
  await lab?.cleanup()
  if (work !== undefined) rmSync(work, { recursive: true, force: true })
})

const dicomFiles = (): string[] => manifest.files.filter((f) => f.kind === 'DICOM').map((f) => join(exportDir, f.path))

describe('scanhub export', () => {
  it('writes DICOM media paths, raw data and a manifest that lists every file with its sha-256', () => {
    expect(manifest.format).toBe('scanhub-export')
    expect(manifest.scanhubVersion).toMatch(/^\d+\.\d+\.\d+/)
    expect(manifest.patient).toMatchObject({ id: patientId, mrn: 'MRN-4711' })
    expect(manifest.exams.map((e) => e.exam.id)).toEqual([examId])
    expect(manifest.exams[0].tasks.map((t) => t.name)).toEqual(['GRE', 'Images'])
    const dicom = manifest.files.filter((f) => f.kind === 'DICOM')
    expect(dicom.length).toBeGreaterThan(0)
    for (const f of dicom) {
      expect(f.path).toMatch(/^DICOM\/ST\d{6}\/SE\d{6}\/IM\d{6}$/)
      expect(f.path.split('/').every((c) => c.length <= 8)).toBe(true)
    }
    expect(manifest.files.filter((f) => f.kind === 'RAW').map((f) => f.path)).toEqual(['RAW/EX000001/TK000001/GRE.mrd'])
    // beside the MRD stream, its ISMRMRD HDF5 copy
    expect(manifest.files.filter((f) => f.kind === 'HDF5')).toEqual([expect.objectContaining({ path: 'RAW/EX000001/TK000001/GRE.h5', madeFrom: 'RAW/EX000001/TK000001/GRE.mrd', type: 'application/x-hdf5', examId })])
    expect(manifest.dicomdir).toEqual({ written: true, path: 'DICOMDIR' })
    expect(manifest.hdf5).toEqual({ written: true, reason: 'written beside each MRD stream: RAW/EX000001/TK000001/GRE.h5' })
    for (const f of manifest.files) {
      const bytes = readFileSync(join(exportDir, f.path))
      expect(createHash('sha256').update(bytes).digest('hex'), f.path).toBe(f.sha256)
      expect(bytes.length).toBe(f.size)
    }
    // the lab's results hold the same bytes (the DICOMDIR and the HDF5 copies are the export's own)
    const results = manifest.exams[0].results.flatMap((r) => r.files.map((f) => f.sha256)).sort()
    expect(manifest.files.filter((f) => f.kind !== 'DICOMDIR' && f.kind !== 'HDF5').map((f) => f.sha256).sort()).toEqual(results)
  })

  it.skipIf(!hasTool('dciodvfy'))('dciodvfy accepts the DICOMDIR and the images without errors', () => {
    for (const file of [join(exportDir, 'DICOMDIR'), ...dicomFiles()]) {
      const r = spawnSync('dciodvfy', [file], { encoding: 'utf8' })
      const lines = (r.stdout + r.stderr).split('\n').filter((l) => l.includes('Error'))
      expect(lines, `${file}:\n${r.stdout}${r.stderr}`).toEqual([])
    }
    expect(spawnSync('dciodvfy', [join(exportDir, 'DICOMDIR')], { encoding: 'utf8' }).stderr).toContain('BasicDirectory')
  })

  it.skipIf(!hasTool('dcmdump'))('dcmdump reads the DICOMDIR and follows its records to every file', () => {
    const r = spawnSync('dcmdump', ['+P', '0004,1500', join(exportDir, 'DICOMDIR')], { encoding: 'utf8' })
    expect(r.status, r.stderr).toBe(0)
    const referenced = [...r.stdout.matchAll(/\[([^\]]+)\]/g)].map((m) => m[1].split('\\').join('/')).sort()
    expect(referenced).toEqual(manifest.files.filter((f) => f.kind === 'DICOM').map((f) => f.path).sort())
  })

  it.skipIf(!hasPython('pydicom'))('pydicom reads the patient, the accession number and the directory records', () => {
    const script = `
import sys, json, pydicom
out = {'files': []}
for path in sys.argv[2:]:
    ds = pydicom.dcmread(path)
    out['files'].append({'PatientID': ds.PatientID, 'PatientName': str(ds.PatientName), 'AccessionNumber': ds.AccessionNumber, 'StudyInstanceUID': ds.StudyInstanceUID})
dicomdir = pydicom.dcmread(sys.argv[1])
out['records'] = [r.DirectoryRecordType for r in dicomdir.DirectoryRecordSequence]
out['patients'] = [p.PatientID for p in dicomdir.patient_records]
print(json.dumps(out))
`
    const r = spawnSync(PYTHON, ['-c', script, join(exportDir, 'DICOMDIR'), ...dicomFiles()], { encoding: 'utf8' })
    expect(r.status, r.stderr).toBe(0)
    const read = JSON.parse(r.stdout) as { files: Array<Record<string, string>>, records: string[], patients: string[] }
    for (const f of read.files) expect(f).toMatchObject({ PatientID: 'MRN-4711', PatientName: 'Lovelace^Ada', AccessionNumber: 'ACC-99' })
    expect(read.patients).toEqual(['MRN-4711'])
    expect(read.records.filter((t) => t === 'IMAGE').length).toBe(read.files.length)
    expect(read.records.slice(0, 3)).toEqual(['PATIENT', 'STUDY', 'SERIES'])
  })

  it.skipIf(!hasTool('ismrmrd_recon_cartesian_2d') || !hasPython('h5py'))('the raw data\'s HDF5 copy is reconstructed by Debian\'s ismrmrd tools and holds what the MRD stream holds', () => {
    const raw = manifest.files.find((f) => f.kind === 'RAW')!
    const exported = manifest.files.find((f) => f.kind === 'HDF5')!
    // the tool writes its image into the file it reads: work on a copy
    const h5 = join(work, 'exported.h5')
    cpSync(join(exportDir, exported.path), h5)
    const recon = spawnSync('ismrmrd_recon_cartesian_2d', [h5], { encoding: 'utf8' })
    expect(recon.status, recon.stderr).toBe(0)
    expect(recon.stdout).toMatch(/Number of acquisitions\s*:\s*\d+/)
    const shape = spawnSync(PYTHON, ['-c', 'import sys, h5py; f = h5py.File(sys.argv[1]); print(f["dataset/data"].shape[0], list(f["dataset/cpp/data"].shape))', h5], { encoding: 'utf8' })
    expect(shape.status, shape.stderr).toBe(0)
    const [, acquisitions, image] = /^(\d+) (.*)$/.exec(shape.stdout.trim()) ?? []
    expect(Number(acquisitions)).toBeGreaterThanOrEqual(5 * 64)
    expect(recon.stdout).toContain(`Number of acquisitions      : ${acquisitions}`)
    expect(image).toMatch(/, 64, 64\]$/)
    // the same rows as the test script's h5py conversion of the MRD stream
    const converted = join(work, 'converted.h5')
    const convert = spawnSync(PYTHON, [join(PROJECT_ROOT, 'recon-node', 'import', 'mrd-stream-to-hdf5.py'), join(exportDir, raw.path), converted], { encoding: 'utf8' })
    expect(convert.status, convert.stderr).toBe(0)
    const compare = `
import sys, h5py, numpy as np
a, b = h5py.File(sys.argv[1], 'r')['dataset'], h5py.File(sys.argv[2], 'r')['dataset']
rows = all(x['head'].tobytes() == y['head'].tobytes() and np.array_equal(x['traj'], y['traj']) and np.array_equal(x['data'], y['data']) for x, y in zip(a['data'][:], b['data'][:]))
print(a['data'].shape == b['data'].shape, rows, a['xml'][0] == b['xml'][0])
`
    const same = spawnSync(PYTHON, ['-c', compare, join(exportDir, exported.path), converted], { encoding: 'utf8' })
    expect(same.stdout.trim(), same.stderr).toBe('True True True')
  })

  it('exports every exam of a patient, and refuses a folder that is not empty', async () => {
    const dir = join(work, 'patient-export')
    const run = await scanhub(['export', patientId, '--out', dir, '--data', source.dataDir])
    expect(run.status, run.stderr).toBe(0)
    const whole = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as ExportManifest
    expect(whole.files.map((f) => f.sha256).sort()).toEqual(manifest.files.filter((f) => f.kind !== 'DICOMDIR').map((f) => f.sha256).concat(whole.files.filter((f) => f.kind === 'DICOMDIR').map((f) => f.sha256)).sort())
    const again = await scanhub(['export', patientId, '--out', dir, '--data', source.dataDir])
    expect(again.status).toBe(2)
    expect(again.stderr).toContain('is not empty')
    const unknown = await scanhub(['export', 'no-such-exam', '--out', join(work, 'nothing'), '--data', source.dataDir])
    expect(unknown.status).toBe(2)
    expect(unknown.stderr).toContain('no exam and no patient with id no-such-exam')
  }, 60_000)
})

describe('scanhub import into another lab', () => {
  it('reports a corrupt file and imports the rest; then the whole folder gives the same patient, exam, series and instances; again, only duplicates', async () => {
    const damaged = join(work, 'damaged')
    cpSync(exportDir, damaged, { recursive: true })
    const broken = manifest.files.find((f) => f.kind === 'DICOM')!
    truncateSync(join(damaged, broken.path), 400)
    const first = await scanhub(['import', damaged, '--json', '--data', target.dataDir])
    expect(first.status, first.stderr).toBe(1)
    const firstSummary = JSON.parse(first.stdout) as ImportSummary
    const dicomCount = manifest.files.filter((f) => f.kind === 'DICOM').length
    expect(dicomCount).toBeGreaterThan(1)
    // every DICOM file but the broken one, and the raw data once: its HDF5 copy, made from the stream imported beside it, is skipped
    expect(firstSummary).toMatchObject({ imported: dicomCount - 1 + 1, duplicates: 0, skipped: 2, failed: 1 })
    expect(firstSummary.files.filter((f) => f.kind === 'HDF5' || f.kind === 'MRD').map((f) => f.status).sort()).toEqual(['imported', 'skipped'])
    expect(firstSummary.files.find((f) => f.status === 'failed')).toMatchObject({ name: broken.path, error: expect.stringContaining(broken.path) })
    expect(first.stderr).toContain(`import: ${broken.path}:`)

    const second = await scanhub(['import', exportDir, '--json', '--data', target.dataDir])
    expect(second.status, second.stderr).toBe(0)
    expect(JSON.parse(second.stdout)).toMatchObject({ imported: 1, duplicates: dicomCount, skipped: 2, failed: 0 })

    const patients = (await target.api<Array<Record<string, string>>>('GET', '/api/v1/patients')).body
    expect(patients).toHaveLength(1)
    expect(patients[0]).toMatchObject({ mrn: 'MRN-4711', firstName: 'Ada', lastName: 'Lovelace', birthDate: '1985-12-10', sex: 'FEMALE' })
    const exams = (await target.api<Array<Record<string, string>>>('GET', `/api/v1/exams?patientId=${patients[0].id}`)).body
    expect(exams.map((e) => [e.name, e.accessionNumber])).toEqual([['Head', 'ACC-99']])
    // the exam keeps the study's UID: its later reconstructions join the same study
    expect(exams[0].studyInstanceUid).toBe(manifest.files.find((f) => f.kind === 'DICOM')?.studyInstanceUid)
    const tasks = (await target.api<Array<{ name: string, type: string, status: string, results: Array<{ type: string, files: Array<{ sha256: string }> }> }>>('GET', `/api/v1/tasks?examId=${exams[0].id}`)).body
    const series = new Set(manifest.files.filter((f) => f.kind === 'DICOM').map((f) => f.seriesInstanceUid))
    const dicomTasks = tasks.filter((t) => t.results.some((r) => r.type === 'DICOM'))
    expect(dicomTasks).toHaveLength(series.size)
    expect(dicomTasks.map((t) => t.name)).toEqual(['Images'])
    const imported = tasks.flatMap((t) => t.results.flatMap((r) => r.files.map((f) => f.sha256))).sort()
    expect(imported).toEqual(manifest.files.filter((f) => f.kind === 'DICOM' || f.kind === 'RAW').map((f) => f.sha256).sort())
    expect(tasks.find((t) => t.results.some((r) => r.type === 'RAW'))).toMatchObject({ name: 'GRE', type: 'ACQUISITION', status: 'FINISHED' })
    expect(tasks.every((t) => t.status === 'FINISHED')).toBe(true)

    const third = await scanhub(['import', join(exportDir, 'DICOMDIR'), '--json', '--data', target.dataDir])
    expect(third.status, third.stderr).toBe(0)
    expect(JSON.parse(third.stdout)).toMatchObject({ imported: 0, duplicates: dicomCount + 1, skipped: 2, failed: 0 })
    expect((await target.api('GET', '/api/v1/patients')).body).toHaveLength(1)
  }, 120_000)

  it('answers a clear error for a file that is no DICOM, MRD or HDF5, and imports a single DICOM file into the source lab as a duplicate', async () => {
    const junk = await target.api('POST', '/api/v1/import?name=notes.txt', 'just some text', { 'content-type': 'application/octet-stream' })
    expect(junk.status).toBe(422)
    expect(junk.body.error).toMatch(/notes\.txt is neither DICOM .* MRD v1 stream nor ISMRMRD HDF5/)
    const one = await scanhub(['import', dicomFiles()[0], '--json', '--data', source.dataDir])
    expect(one.status, one.stderr).toBe(0)
    expect(JSON.parse(one.stdout)).toMatchObject({ imported: 0, duplicates: 1 })
    expect(existsSync(join(exportDir, '.scanhub-export.zip.part'))).toBe(false)
  }, 60_000)

  it.skipIf(!hasTool('ismrmrd_generate_cartesian_shepp_logan'))('imports an ISMRMRD HDF5 file as raw data (an MRD stream) into a given patient; raw data that names no patient is refused with the way out', async () => {
    const h5 = join(work, 'shepp-logan.h5')
    expect(spawnSync('ismrmrd_generate_cartesian_shepp_logan', ['-m', '32', '-c', '2', '-o', h5], { encoding: 'utf8' }).status).toBe(0)
    const patient = (await target.api<Array<{ id: string }>>('GET', '/api/v1/patients')).body[0]
    const run = await scanhub(['import', h5, '--patient', patient.id, '--json', '--data', target.dataDir])
    expect(run.status, run.stderr).toBe(0)
    const summary = JSON.parse(run.stdout) as ImportSummary
    expect(summary).toMatchObject({ imported: 1, failed: 0 })
    expect(summary.files[0]).toMatchObject({ kind: 'HDF5', status: 'imported', patientId: patient.id })
    const task = (await target.api('GET', `/api/v1/tasks/${(summary.files[0] as unknown as { taskId: string }).taskId}`)).body
    expect(task).toMatchObject({ type: 'ACQUISITION', status: 'FINISHED' })
    const raw = task.results[0].files[0]
    expect(raw.type).toBe('application/x-ismrmrd-stream')
    const stream = new Uint8Array(await (await fetch(`${target.baseUrl}/api/v1/blobs/${raw.sha256}`, { headers: { 'x-api-key': target.apiKey } })).arrayBuffer())
    // an MRD v1 stream: the header message (id 3) first, the close message (id 4) last
    expect([stream[0] | (stream[1] << 8), stream[stream.length - 2] | (stream[stream.length - 1] << 8)]).toEqual([3, 4])
    // the same file again is a duplicate; without a patient, the file names none
    const again = await scanhub(['import', h5, '--patient', patient.id, '--json', '--data', target.dataDir])
    expect(JSON.parse(again.stdout)).toMatchObject({ imported: 0, duplicates: 1 })
    const anonymous = await scanhub(['import', h5, '--data', target.dataDir])
    expect(anonymous.status).toBe(1)
    expect(anonymous.stderr).toMatch(/shepp-logan\.h5 (gives no birth date|names no patient).*--patient ID/)
  }, 60_000)
})
