// The manifest.json of an exam export (node/exchange/export.ts writes it), and what it tells an import
// about each file: raw data names no patient or study of its own, the manifest does. Shared by the
// CLI (`scanhub import`) and the app's import, which both send these as query parameters.
import type { Exam, Patient, Result, Task, Workflow } from './lab/index.ts'

export const MANIFEST_FILE = 'manifest.json'
export const EXPORT_FORMAT = 'scanhub-export'

export interface ManifestFile {
  path: string
  sha256: string
  size: number
  type: string
  /** HDF5: an ISMRMRD HDF5 copy of the raw data in the MRD stream at `madeFrom`, written by the export */
  kind: 'DICOM' | 'DICOMDIR' | 'RAW' | 'HDF5' | 'OTHER'
  examId?: string
  taskId?: string
  resultId?: string
  /** the name the file has in the lab */
  name?: string
  studyInstanceUid?: string
  seriesInstanceUid?: string
  sopInstanceUid?: string
  /** the path of the file this one was made from (the MRD stream of an HDF5 copy) */
  madeFrom?: string
}

export interface ExportManifest {
  format: typeof EXPORT_FORMAT
  formatVersion: 1
  scanhubVersion: string
  exportedAt: string
  lab: { id?: string, name?: string }
  patient: Patient
  exams: Array<{ exam: Exam, workflows: Workflow[], tasks: Task[], results: Result[] }>
  dicomdir: { written: true, path: string } | { written: false, reason: string }
  /** the ISMRMRD HDF5 copies of the raw data; `reason` says in words what was written, or what was not and why */
  hdf5: { written: boolean, reason: string }
  files: ManifestFile[]
}

/** Whether parsed JSON is an export manifest this version reads. */
export function isExportManifest (value: unknown): value is ExportManifest {
  const m = value as Partial<ExportManifest> | null
  return typeof m === 'object' && m !== null && m.format === EXPORT_FORMAT && m.formatVersion === 1 && Array.isArray(m.files) && Array.isArray(m.exams) && typeof m.patient === 'object'
}

/**
 * The file an exported copy at `path` was made from (the raw MRD stream of an ISMRMRD HDF5 file), when
 * that file is imported too: the copy is then skipped, since its raw data arrives with the original (a
 * stream that holds more than the HDF5 file can, such as an MRD client's configuration, would otherwise
 * not be recognised as the same raw data and be imported twice).
 */
export function originalImportedAlongside (manifest: ExportManifest | undefined, path: string, importing: ReadonlySet<string>): string | undefined {
  const madeFrom = manifest?.files.find((f) => f.path === path)?.madeFrom
  return madeFrom !== undefined && importing.has(madeFrom) ? madeFrom : undefined
}

/** The import's query parameters for the file at `path` (relative, with '/') of an exported folder. */
export function importHintsFromManifest (manifest: ExportManifest | undefined, path: string): Record<string, string> {
  const file = manifest?.files.find((f) => f.path === path)
  if (manifest === undefined || file === undefined) return {}
  const record = manifest.exams.find((e) => e.exam.id === file.examId)
  const task = record?.tasks.find((t) => t.id === file.taskId)
  const hints: Record<string, string> = {}
  if (record !== undefined) hints.examName = record.exam.name
  if (record?.exam.accessionNumber !== undefined) hints.accessionNumber = record.exam.accessionNumber
  if (task !== undefined) hints.taskName = task.name
  if (file.kind === 'RAW' || file.kind === 'HDF5') {
    // raw data does not name its patient or study: the manifest does
    const p = manifest.patient
    Object.assign(hints, { lastName: p.lastName, firstName: p.firstName, birthDate: p.birthDate, sex: p.sex, ...(p.mrn !== undefined ? { mrn: p.mrn } : {}) })
    const study = manifest.files.find((f) => f.examId === file.examId && f.studyInstanceUid !== undefined)?.studyInstanceUid
    if (study !== undefined) hints.studyInstanceUid = study
  }
  return hints
}
