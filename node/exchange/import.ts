// Brings one file into the lab: a DICOM Part 10 file, an MRD v1 stream or an ISMRMRD HDF5 file.
//
// DICOM: the patient is the lab's patient whose MRN is the file's PatientID (without one: the patient
// of the same name and birth date who has no MRN), else a new one from PatientName, PatientBirthDate
// and PatientSex. The study (StudyInstanceUID) becomes an exam and each series (SeriesInstanceUID) a
// finished task of it, with one DICOM result per instance. Ids are derived from those UIDs, so a study
// imported in several requests, or in several runs, lands in one exam and one task per series.
// Raw data: a finished acquisition task with a RAW result holding the MRD stream (an HDF5 file is
// converted to one), in the exam of the header's (or the hints') study UID.
// A file whose SOP instance (or, for raw data, whose bytes) the patient's results already hold is a
// duplicate and changes nothing.
import { createHash } from 'node:crypto'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DicomReadError, isValidUid } from '../../protocol/dicom/index.ts'
import { MrdStreamDecoder, encodeAcquisitionMessage, encodeCloseMessage, encodeHeaderMessage, parseIsmrmrdXml } from '../../protocol/mrd/index.ts'
import type { Acquisition } from '../../protocol/mrd/index.ts'
import type { IsmrmrdHeader } from '../../protocol/mrd/xml-header.ts'
import type { Patient, ResultType, Sex, TaskKindInput } from '../../protocol/lab/index.ts'
import type { PeerContext } from '../peer.ts'
import { dicomFacts, MEDIA_STORAGE_DIRECTORY, type DicomFacts } from './dicomdir.ts'

export type ImportKind = 'DICOM' | 'MRD' | 'HDF5'

/** What the caller knows besides the file (from an export's manifest, or the user). */
export interface ImportHints {
  /** the lab's patient id: put the file there, whatever it says */
  patientId?: string
  /** a patient for files that name none (raw data without subjectInformation) */
  patient?: { mrn?: string, firstName?: string, lastName?: string, birthDate?: string, sex?: string }
  /** the study (exam) raw data belongs to */
  studyInstanceUid?: string
  examName?: string
  accessionNumber?: string
  taskName?: string
}

export interface ImportOutcome {
  name: string
  kind: ImportKind | 'DICOMDIR'
  status: 'imported' | 'duplicate' | 'skipped'
  message?: string
  patientId?: string
  examId?: string
  taskId?: string
  resultId?: string
  sopInstanceUid?: string
  createdPatient?: boolean
}

/** A file that cannot be imported; the message says why, for the user. */
export class ImportError extends Error {
  override name = 'ImportError'
}

const HDF5_SIGNATURE = Buffer.from([0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a])
const MRD_FIRST_IDS = new Set([1, 2, 3, 5, 1008])
const MRD_CHECK_SLICE_BYTES = 4 * 1024 * 1024

export function detectKind (bytes: Uint8Array): ImportKind | undefined {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  if (buffer.length >= 132 && buffer.toString('latin1', 128, 132) === 'DICM') return 'DICOM'
  // the HDF5 superblock sits at 0 or after a user block of 512 × 2^n bytes
  for (let at = 0; at + 8 <= buffer.length; at = at === 0 ? 512 : at * 2) {
    if (buffer.subarray(at, at + 8).equals(HDF5_SIGNATURE)) return 'HDF5'
  }
  if (buffer.length >= 2 && MRD_FIRST_IDS.has(buffer.readUInt16LE(0))) return 'MRD'
  return undefined
}

function hashId (prefix: string, ...parts: string[]): string {
  return prefix + createHash('sha256').update(JSON.stringify(parts)).digest('hex').slice(0, 32)
}

function sexOf (value: string | undefined): Sex {
  const v = (value ?? '').trim().toUpperCase()
  return v === 'M' || v === 'MALE' ? 'MALE' : v === 'F' || v === 'FEMALE' ? 'FEMALE' : v === 'O' || v === 'OTHER' ? 'OTHER' : 'NOT_GIVEN'
}

function isoDate (value: string | undefined): string | undefined {
  const v = (value ?? '').trim()
  if (/^\d{8}$/.test(v)) return `${v.slice(0, 4)}-${v.slice(4, 6)}-${v.slice(6, 8)}`
  if (/^\d{4}-\d{2}-\d{2}$/.test(v)) return v
  return undefined
}

interface PatientIdentity { mrn?: string, lastName: string, firstName: string, birthDate?: string, sex: Sex }

function identityFromName (name: string, mrn: string | undefined, birthDate: string | undefined, sex: string | undefined): PatientIdentity {
  const [last, first, middle] = name.split('^').map((s) => s.trim())
  return {
    ...(mrn !== undefined && mrn !== '' ? { mrn } : {}),
    lastName: last ?? '',
    firstName: [first, middle].filter((s) => s !== undefined && s !== '').join(' '),
    birthDate: isoDate(birthDate),
    sex: sexOf(sex)
  }
}

/** The lab's patient for an identity, created if there is none; `created` says which. */
function findOrCreatePatient (context: PeerContext, identity: PatientIdentity, hints: ImportHints, what: string): { patient: Patient, created: boolean } {
  const { lab } = context
  if (hints.patientId !== undefined) {
    const given = lab.patients.get(hints.patientId)
    if (given === undefined) throw new ImportError(`no patient with id ${hints.patientId} in the lab`)
    return { patient: given, created: false }
  }
  const patients = lab.patients.list()
  const byMrn = identity.mrn !== undefined ? patients.find((p) => p.mrn === identity.mrn) : undefined
  if (byMrn !== undefined) return { patient: byMrn, created: false }
  // this lab's own raw data names the patient by the lab's id (the scanner has no MRN to write)
  const byLabId = identity.mrn !== undefined ? lab.patients.get(identity.mrn) : undefined
  if (byLabId !== undefined) return { patient: byLabId, created: false }
  if (identity.mrn === undefined) {
    const byName = patients.find((p) => p.mrn === undefined && p.lastName === identity.lastName && p.firstName === identity.firstName && p.birthDate === identity.birthDate)
    if (byName !== undefined) return { patient: byName, created: false }
  }
  if (identity.birthDate === undefined) throw new ImportError(`${what} gives no birth date for a new patient: import it into an existing patient (--patient ID)`)
  if (identity.lastName === '' && identity.firstName === '') throw new ImportError(`${what} names no patient: import it into an existing patient (--patient ID)`)
  const patient = lab.patients.create({
    ...(identity.mrn !== undefined ? { mrn: identity.mrn } : {}),
    lastName: identity.lastName === '' ? '(unknown)' : identity.lastName,
    firstName: identity.firstName === '' ? '(unknown)' : identity.firstName,
    birthDate: identity.birthDate,
    sex: identity.sex
  }, context.actor)
  return { patient, created: true }
}

/** The exam, workflow and task a file goes to, each created when missing. */
function placeTask (context: PeerContext, patient: Patient, place: { studyKey: string, studyInstanceUid?: string, examName: string, accessionNumber?: string, seriesKey: string, taskName: string, kind: TaskKindInput }): { examId: string, taskId: string } {
  const { lab, actor } = context
  const examId = hashId('import-exam-', patient.id, place.studyKey)
  if (lab.exams.get(examId) === undefined) {
    lab.exams.create({
      id: examId,
      patientId: patient.id,
      name: place.examName.slice(0, 200) || 'Imported study',
      description: 'imported',
      ...(place.accessionNumber !== undefined && place.accessionNumber !== '' ? { accessionNumber: place.accessionNumber } : {}),
      // what the exam's later reconstructions write, so that they join the imported study
      ...(place.studyInstanceUid !== undefined && isValidUid(place.studyInstanceUid) ? { studyInstanceUid: place.studyInstanceUid } : {})
    }, actor)
  }
  const workflowId = hashId('import-workflow-', examId)
  if (lab.workflows.get(workflowId) === undefined) lab.workflows.create({ id: workflowId, examId, name: 'Imported' }, actor)
  const taskId = hashId('import-task-', examId, place.seriesKey)
  if (lab.tasks.get(taskId) === undefined) {
    lab.tasks.create({ id: taskId, workflowId, name: place.taskName.slice(0, 200) || 'Imported series', ...place.kind }, actor)
    lab.tasks.setStatus(taskId, 'FINISHED', actor)
  }
  return { examId, taskId }
}

function patientHoldsBlob (context: PeerContext, patientId: string, sha256: string): boolean {
  return context.lab.results.list({ patientId }).some((r) => r.files.some((f) => f.sha256 === sha256))
}

function dicomDescription (facts: DicomFacts): { examName: string, taskName: string } {
  const date = isoDate(facts.studyDate)
  return {
    examName: facts.studyDescription !== '' ? facts.studyDescription : `Imported study${date !== undefined ? ` of ${date}` : ''}`,
    taskName: facts.seriesDescription !== '' ? facts.seriesDescription : `Series ${facts.seriesNumber || '?'}`
  }
}

async function importDicom (context: PeerContext, bytes: Uint8Array, name: string, hints: ImportHints): Promise<ImportOutcome> {
  let facts: DicomFacts
  try {
    facts = dicomFacts(bytes)
  } catch (err) {
    if (err instanceof DicomReadError) throw new ImportError(`${name} is not a readable DICOM file: ${err.message}`)
    throw err
  }
  if (facts.sopClassUid === MEDIA_STORAGE_DIRECTORY) return { name, kind: 'DICOMDIR', status: 'skipped', message: 'a DICOMDIR: the files it lists are imported from its folder' }
  for (const [field, value] of [['StudyInstanceUID', facts.studyInstanceUid], ['SeriesInstanceUID', facts.seriesInstanceUid], ['SOPInstanceUID', facts.sopInstanceUid]] as const) {
    if (value === '') throw new ImportError(`${name} has no ${field}`)
  }
  const sha256 = createHash('sha256').update(bytes).digest('hex')
  const { patient, created } = findOrCreatePatient(context, identityFromName(facts.patientName, facts.patientId, facts.patientBirthDate, facts.patientSex), hints, name)
  const resultId = hashId('import-result-', patient.id, facts.sopInstanceUid)
  const base = { name, kind: 'DICOM' as const, patientId: patient.id, sopInstanceUid: facts.sopInstanceUid, createdPatient: created }
  if (context.lab.results.get(resultId) !== undefined || patientHoldsBlob(context, patient.id, sha256)) {
    await context.docs.flush()
    return { ...base, status: 'duplicate' }
  }
  await context.blobs.put(bytes)
  // between the await above and the writes below nothing else runs: two uploads of one series cannot both create its task
  if (context.lab.results.get(resultId) !== undefined) return { ...base, status: 'duplicate' }
  const description = dicomDescription(facts)
  const { examId, taskId } = placeTask(context, patient, {
    studyKey: facts.studyInstanceUid,
    studyInstanceUid: facts.studyInstanceUid,
    examName: hints.examName ?? description.examName,
    accessionNumber: hints.accessionNumber ?? facts.accessionNumber,
    seriesKey: facts.seriesInstanceUid,
    taskName: hints.taskName ?? description.taskName,
    kind: { type: 'RECONSTRUCTION', parameters: { pipeline: 'imported' } }
  })
  const fileName = `${facts.modality || 'IM'}${facts.instanceNumber.padStart(5, '0')}.dcm`
  addResult(context, resultId, taskId, 'DICOM', { name: fileName, sha256, size: bytes.length, type: 'application/dicom' })
  await context.docs.flush()
  return { ...base, status: 'imported', examId, taskId, resultId }
}

function addResult (context: PeerContext, id: string, taskId: string, type: ResultType, file: { name: string, sha256: string, size: number, type: string }): void {
  context.lab.results.create({ id, taskId, type, files: [file] }, context.actor)
}

/** Raw data as an MRD v1 stream (its bytes) and its header. */
interface RawData { stream: Uint8Array, header: IsmrmrdHeader, acquisitions: number }

function readMrdStream (bytes: Uint8Array, name: string): RawData {
  // decoded a slice at a time and only counted: a stream of a GB would otherwise be held twice
  let xml: string | undefined
  let acquisitions = 0
  try {
    const decoder = new MrdStreamDecoder()
    for (let at = 0; at < bytes.length; at += MRD_CHECK_SLICE_BYTES) {
      for (const message of decoder.push(bytes.subarray(at, at + MRD_CHECK_SLICE_BYTES))) {
        if (message.type === 'header') xml ??= message.xml
        else if (message.type === 'acquisition') acquisitions++
      }
    }
    decoder.finish()
  } catch (err) {
    throw new ImportError(`${name} is not a readable MRD stream: ${(err as Error).message}`)
  }
  if (xml === undefined) throw new ImportError(`${name} is an MRD stream without an ISMRMRD header`)
  if (acquisitions === 0) throw new ImportError(`${name} is an MRD stream without acquisitions (not raw data)`)
  let header: IsmrmrdHeader
  try {
    header = parseIsmrmrdXml(xml)
  } catch (err) {
    throw new ImportError(`${name}: its ISMRMRD header cannot be read: ${(err as Error).message}`)
  }
  return { stream: bytes, header, acquisitions }
}

async function readHdf5 (bytes: Uint8Array, name: string): Promise<RawData> {
  const dir = await mkdtemp(join(tmpdir(), 'scanhub-import-'))
  try {
    const path = join(dir, 'upload.h5')
    await writeFile(path, bytes)
    const { readIsmrmrdHdf5 } = await import('../../recon-node/import/index.ts')
    let file
    try {
      file = await readIsmrmrdHdf5(path)
    } catch (err) {
      throw new ImportError(`${name} is not a readable ISMRMRD HDF5 file: ${(err as Error).message}`)
    }
    if (file.count === 0) throw new ImportError(`${name} holds no acquisitions`)
    const parts: Uint8Array[] = [encodeHeaderMessage(file.xml)]
    for await (const acquisition of file.acquisitions as AsyncIterable<Acquisition>) parts.push(encodeAcquisitionMessage(acquisition))
    parts.push(encodeCloseMessage())
    return { stream: Buffer.concat(parts), header: file.header, acquisitions: file.count }
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

async function importRaw (context: PeerContext, raw: RawData, kind: ImportKind, name: string, hints: ImportHints): Promise<ImportOutcome> {
  const subject = raw.header.subjectInformation ?? {}
  const hinted = hints.patient ?? {}
  // the caller's patient (an export's manifest) before the header's: a scanner writes its lab's own
  // patient id as patientID, which means nothing in another lab
  const identity: PatientIdentity = hints.patient !== undefined || (subject.patientID === undefined && subject.patientName === undefined)
    ? { ...(hinted.mrn !== undefined ? { mrn: hinted.mrn } : {}), lastName: hinted.lastName ?? '', firstName: hinted.firstName ?? '', birthDate: isoDate(hinted.birthDate), sex: sexOf(hinted.sex) }
    : identityFromName(subject.patientName ?? '', subject.patientID, subject.patientBirthdate, subject.patientGender)
  const { patient, created } = findOrCreatePatient(context, identity, hints, name)
  const sha256 = createHash('sha256').update(raw.stream).digest('hex')
  const resultId = hashId('import-result-', patient.id, sha256)
  const base = { name, kind, patientId: patient.id, createdPatient: created }
  if (context.lab.results.get(resultId) !== undefined || patientHoldsBlob(context, patient.id, sha256)) {
    await context.docs.flush()
    return { ...base, status: 'duplicate' }
  }
  await context.blobs.put(raw.stream)
  if (context.lab.results.get(resultId) !== undefined) return { ...base, status: 'duplicate' }
  const study = raw.header.studyInformation ?? {}
  const measurement = raw.header.measurementInformation ?? {}
  const studyInstanceUid = hints.studyInstanceUid ?? study.studyInstanceUID
  const studyKey = studyInstanceUid ?? study.studyID ?? 'raw-data'
  const taskName = hints.taskName ?? measurement.protocolName ?? name.replace(/\.[^.]*$/, '')
  const { examId, taskId } = placeTask(context, patient, {
    studyKey,
    ...(studyInstanceUid !== undefined ? { studyInstanceUid } : {}),
    examName: hints.examName ?? study.studyDescription ?? 'Imported raw data',
    accessionNumber: hints.accessionNumber ?? (study.accessionNumber !== undefined ? String(study.accessionNumber) : undefined),
    seriesKey: `raw:${sha256}`,
    taskName,
    kind: { type: 'ACQUISITION' }
  })
  const fileName = `${taskName.replace(/[^A-Za-z0-9._-]+/g, '_') || 'raw'}.mrd`
  addResult(context, resultId, taskId, 'RAW', { name: fileName, sha256, size: raw.stream.length, type: 'application/x-ismrmrd-stream' })
  await context.docs.flush()
  return { ...base, status: 'imported', examId, taskId, resultId, message: `${raw.acquisitions} acquisitions` }
}

/** Imports one file; throws ImportError (for the user) when it cannot. */
export async function importFile (context: PeerContext, bytes: Uint8Array, name: string, hints: ImportHints = {}): Promise<ImportOutcome> {
  const kind = detectKind(bytes)
  if (kind === undefined) throw new ImportError(`${name} is neither DICOM (Part 10, with the DICM preamble), an MRD v1 stream nor ISMRMRD HDF5`)
  if (kind === 'DICOM') return await importDicom(context, bytes, name, hints)
  const raw = kind === 'HDF5' ? await readHdf5(bytes, name) : readMrdStream(bytes, name)
  return await importRaw(context, raw, kind, name, hints)
}
