// What an export of an exam (or of every exam of a patient) holds: the DICOM files of its results laid
// out as DICOM media wants them (DICOM/ST000001/SE000001/IM000001, no component over 8 characters)
// with a DICOMDIR, the raw data of its acquisitions as the MRD v1 streams the lab stores and, beside
// each, the same acquisitions as an ISMRMRD HDF5 file (node/exchange/ismrmrd-hdf5.ts), any other
// result files, and manifest.json, which lists the lab's records and every file with its sha-256.
// The HDF5 files are made from the streams as the export is read, never held whole in memory.
import { createHash } from 'node:crypto'
import packageJson from '../../package.json' with { type: 'json' }
import { DicomReadError } from '../../protocol/dicom/index.ts'
import type { Exam, Patient, Result, ResultFile } from '../../protocol/lab/index.ts'
import { EXPORT_FORMAT, MANIFEST_FILE, type ExportManifest, type ManifestFile } from '../../protocol/export-manifest.ts'
import type { PeerContext } from '../peer.ts'
import { dicomdirProblem, dicomFacts, writeDicomdir, type DicomFacts, type DirectoryFile } from './dicomdir.ts'
import { IsmrmrdHdf5Error, planIsmrmrdHdf5FromMrdStream } from './ismrmrd-hdf5.ts'
import type { ZipEntry } from './zip.ts'

export { MANIFEST_FILE, type ExportManifest, type ManifestFile }

export interface ExportPlan {
  manifest: ExportManifest
  /** the archive's entries, manifest.json last */
  entries: ZipEntry[]
  /** a file name for the archive */
  filename: string
}

export class ExportError extends Error {
  override name = 'ExportError'
}

/** The media type of the raw data the lab stores. */
const MRD_STREAM_TYPE = 'application/x-ismrmrd-stream'

function sixDigits (prefix: string, n: number): string {
  return prefix + String(n).padStart(6, '0')
}

/** A file name safe on every file system, kept recognisable. */
function safeName (name: string): string {
  return name.replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^\.+/, '').slice(0, 100) || 'file'
}

function bytesEntry (path: string, bytes: Uint8Array): ZipEntry {
  return { path, size: bytes.length, read: () => [bytes] }
}

/** What the manifest says of the ISMRMRD HDF5 copies, in words. */
function hdf5Summary (written: string[], problems: string[]): ExportManifest['hdf5'] {
  const parts = [written.length === 0 ? 'not written' : `written beside each MRD stream: ${written.join(', ')}`, ...problems]
  if (written.length === 0 && problems.length === 0) parts[0] = 'not written: the export holds no raw data'
  return { written: written.length > 0, reason: parts.join('; ') }
}

/** Plans the export of `exams` (all of `patient`). Fetches every blob it needs from the lab first. */
export async function planExport (context: PeerContext, patient: Patient, exams: Exam[]): Promise<ExportPlan> {
  const { lab, blobs, blobService } = context
  const files: ManifestFile[] = []
  const entries: ZipEntry[] = []
  const directory: DirectoryFile[] = []
  const blobEntry = (path: string, file: ResultFile): ZipEntry => ({ path, size: file.size, read: () => blobs.createReadStream(file.sha256) })
  const hdf5 = { written: [] as string[], problems: [] as string[] }
  /** The ISMRMRD HDF5 copy of the MRD stream exported at `path`, listed beside it; a problem when there is none. */
  const addHdf5 = async (path: string, file: ResultFile, base: Omit<ManifestFile, 'path' | 'kind'>): Promise<void> => {
    let plan
    try {
      plan = await planIsmrmrdHdf5FromMrdStream(() => blobs.createReadStream(file.sha256))
    } catch (err) {
      if (!(err instanceof IsmrmrdHdf5Error)) throw err
      hdf5.problems.push(`${path}: ${err.message}`)
      return
    }
    const h5Path = path.replace(/\.mrd$/i, '') + '.h5'
    const hash = createHash('sha256')
    for await (const chunk of plan.bytes()) hash.update(chunk)
    if (plan.leftOut.length > 0) hdf5.problems.push(`${h5Path} leaves out the stream's ${plan.leftOut.join(' and ')}`)
    files.push({ ...base, path: h5Path, sha256: hash.digest('hex'), size: plan.size, type: 'application/x-hdf5', kind: 'HDF5', name: h5Path.slice(h5Path.lastIndexOf('/') + 1), madeFrom: path })
    entries.push({ path: h5Path, size: plan.size, read: () => plan.bytes() })
    hdf5.written.push(h5Path)
  }
  const ensure = async (file: ResultFile): Promise<void> => {
    try {
      const info = await blobService.ensure(file.sha256)
      if (info.size !== file.size) throw new ExportError(`${file.name} has ${info.size} bytes, its result says ${file.size}`)
    } catch (err) {
      throw new ExportError(`${file.name} (${file.sha256.slice(0, 12)}…) cannot be fetched from the lab: ${(err as Error).message}`)
    }
  }

  // studies and series are numbered across the whole export, in the order they are met
  const studyFolders = new Map<string, { name: string, series: Map<string, { name: string, images: number }> }>()
  const examRecords: ExportManifest['exams'] = []
  let examNumber = 0
  for (const exam of exams) {
    examNumber++
    const tasks = lab.tasks.list({ examId: exam.id })
    const results: Result[] = []
    let taskNumber = 0
    for (const task of tasks) {
      taskNumber++
      const taskResults = lab.results.list({ taskId: task.id })
      results.push(...taskResults)
      for (const result of taskResults) {
        for (const file of result.files) {
          await ensure(file)
          const base = { sha256: file.sha256, size: file.size, type: file.type, examId: exam.id, taskId: task.id, resultId: result.id, name: file.name }
          if (result.type === 'DICOM') {
            let facts: DicomFacts
            try {
              facts = dicomFacts(await blobs.read(file.sha256))
            } catch (err) {
              if (!(err instanceof DicomReadError)) throw err
              const path = `OTHER/${sixDigits('EX', examNumber)}/${sixDigits('TK', taskNumber)}/${safeName(file.name)}`
              files.push({ ...base, path, kind: 'OTHER' })
              entries.push(blobEntry(path, file))
              continue
            }
            let study = studyFolders.get(facts.studyInstanceUid)
            if (study === undefined) {
              study = { name: sixDigits('ST', studyFolders.size + 1), series: new Map() }
              studyFolders.set(facts.studyInstanceUid, study)
            }
            let series = study.series.get(facts.seriesInstanceUid)
            if (series === undefined) {
              series = { name: sixDigits('SE', study.series.size + 1), images: 0 }
              study.series.set(facts.seriesInstanceUid, series)
            }
            series.images++
            const components = ['DICOM', study.name, series.name, sixDigits('IM', series.images)]
            const path = components.join('/')
            directory.push({ components, facts })
            files.push({ ...base, path, kind: 'DICOM', studyInstanceUid: facts.studyInstanceUid, seriesInstanceUid: facts.seriesInstanceUid, sopInstanceUid: facts.sopInstanceUid })
            entries.push(blobEntry(path, file))
          } else {
            const kind = result.type === 'RAW' ? 'RAW' : 'OTHER'
            const path = `${kind}/${sixDigits('EX', examNumber)}/${sixDigits('TK', taskNumber)}/${safeName(file.name)}`
            files.push({ ...base, path, kind })
            entries.push(blobEntry(path, file))
            if (kind === 'RAW' && file.type === MRD_STREAM_TYPE) await addHdf5(path, file, base)
          }
        }
      }
    }
    examRecords.push({ exam, workflows: lab.workflows.list({ examId: exam.id }), tasks, results })
  }

  let dicomdir: ExportManifest['dicomdir']
  const problem = dicomdirProblem(directory)
  if (problem === undefined) {
    const bytes = writeDicomdir(directory)
    dicomdir = { written: true, path: 'DICOMDIR' }
    files.unshift({ path: 'DICOMDIR', sha256: createHash('sha256').update(bytes).digest('hex'), size: bytes.length, type: 'application/dicom', kind: 'DICOMDIR' })
    entries.unshift(bytesEntry('DICOMDIR', bytes))
  } else {
    dicomdir = { written: false, reason: `no DICOMDIR: ${problem}` }
  }

  const info = lab.info()
  const manifest: ExportManifest = {
    format: EXPORT_FORMAT,
    formatVersion: 1,
    scanhubVersion: packageJson.version,
    exportedAt: new Date().toISOString(),
    lab: { id: info.labId, name: info.labName },
    patient,
    exams: examRecords,
    dicomdir,
    hdf5: hdf5Summary(hdf5.written, hdf5.problems),
    files
  }
  entries.push(bytesEntry(MANIFEST_FILE, Buffer.from(JSON.stringify(manifest, null, 2) + '\n', 'utf8')))
  const who = safeName(`${patient.lastName}_${patient.firstName}`).slice(0, 40)
  const what = exams.length === 1 ? safeName(exams[0].name).slice(0, 40) : 'exams'
  return { manifest, entries, filename: `scanhub-${who}-${what}-${manifest.exportedAt.slice(0, 10)}.zip` }
}
