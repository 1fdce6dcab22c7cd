// Picking a worklist entry: the hospital's patient becomes (or updates) the lab's patient, matched by the
// patient ID (Patient.mrn), and its ordered procedure becomes an exam with the hospital's accession number
// and study instance UID, so every DICOM written for the exam files under the hospital's study. Picking
// the same entry again finds the same exam instead of making a second one.
import { SEXES } from '../../protocol/lab/index.ts'
import type { Actor, Exam, ExamPatch, Lab, Patient, PatientPatch, Sex } from '../../protocol/lab/index.ts'
import { WORKLIST_ENTRY_FIELDS, WorklistError, type WorklistEntry } from './worklist.ts'

export interface PickOutcome {
  patientId: string
  examId: string
  patientCreated: boolean
  examCreated: boolean
}

/** The entry a client sends back (the one the query listed): only its known string fields are read. */
export function entryFromJson (value: unknown): WorklistEntry {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new WorklistError('the entry must be a JSON object')
  const input = value as Record<string, unknown>
  const entry: WorklistEntry = { missing: [], problems: [] }
  for (const field of WORKLIST_ENTRY_FIELDS) {
    const v = input[field]
    if (v === undefined || v === null || (typeof v === 'string' && v.trim() === '')) {
      entry.missing.push(field)
      continue
    }
    if (typeof v !== 'string') throw new WorklistError(`${field} must be a string`)
    if (field === 'sex') {
      if (!(SEXES as readonly string[]).includes(v)) throw new WorklistError(`sex must be one of ${SEXES.join(', ')}`)
      entry.sex = v as Sex
    } else {
      entry[field] = v.trim()
    }
  }
  return entry
}

/** 'Family^Given^Middle^Prefix^Suffix' as the lab's last and first names (given and middle names together). */
export function splitPersonName (name: string): { lastName?: string, firstName?: string } {
  const [family, given, middle] = name.split('^').map((part) => part.trim())
  const firstName = [given, middle].filter((part) => part !== undefined && part !== '').join(' ')
  return {
    ...(family !== undefined && family !== '' ? { lastName: family } : {}),
    ...(firstName !== '' ? { firstName } : {})
  }
}

function examName (entry: WorklistEntry): string {
  if (entry.requestedProcedureDescription !== undefined) return entry.requestedProcedureDescription
  if (entry.requestedProcedureId !== undefined) return `Requested procedure ${entry.requestedProcedureId}`
  return 'Worklist procedure'
}

/** Where the exam came from, for whoever reads it later: the scheduled step, its time, station and modality. */
function examDescription (entry: WorklistEntry): string {
  const parts = [
    entry.scheduledProcedureStepId !== undefined ? `scheduled procedure step ${entry.scheduledProcedureStepId}` : 'a scheduled procedure step',
    entry.scheduledStart !== undefined ? `at ${entry.scheduledStart.replace('T', ' ')}` : undefined,
    entry.stationAeTitle !== undefined ? `on ${entry.stationAeTitle}` : undefined,
    entry.modality !== undefined ? `(${entry.modality})` : undefined
  ].filter((part) => part !== undefined)
  const requested = entry.requestedProcedureId !== undefined ? `; requested procedure ${entry.requestedProcedureId}` : ''
  return `From the modality worklist: ${parts.join(' ')}${requested}.`
}

/** Creates or updates the patient and the exam of a worklist entry; throws WorklistError with what is missing. */
export function pickWorklistEntry (lab: Lab, entry: WorklistEntry, actor: Actor): PickOutcome {
  const mrn = entry.patientId
  if (mrn === undefined) throw new WorklistError('this worklist entry has no patient ID, so it cannot be matched to a patient: ask the hospital to complete the order, or add the patient and exam by hand')
  const names = entry.patientName !== undefined ? splitPersonName(entry.patientName) : {}

  let patient: Patient | undefined = lab.patients.list().find((p) => p.mrn === mrn)
  const patientCreated = patient === undefined
  if (patient === undefined) {
    const lacking = [
      names.lastName === undefined ? 'family name' : undefined,
      names.firstName === undefined ? 'given name' : undefined,
      entry.birthDate === undefined ? 'birth date' : undefined
    ].filter((what) => what !== undefined)
    if (lacking.length > 0) {
      throw new WorklistError(`the lab has no patient with patient ID ${mrn}, and the worklist entry lacks the ${lacking.join(', ')} a new patient needs: add the patient by hand with this patient ID, then pick the entry again`)
    }
    patient = lab.patients.create({
      mrn,
      lastName: names.lastName!,
      firstName: names.firstName!,
      birthDate: entry.birthDate!,
      sex: entry.sex ?? 'NOT_GIVEN'
    }, actor)
  } else {
    // the hospital's record is the reference for the identity it gives; what it leaves out stays as it is
    const patch: PatientPatch = {}
    if (names.lastName !== undefined && names.lastName !== patient.lastName) patch.lastName = names.lastName
    if (names.firstName !== undefined && names.firstName !== patient.firstName) patch.firstName = names.firstName
    if (entry.birthDate !== undefined && entry.birthDate !== patient.birthDate) patch.birthDate = entry.birthDate
    if (entry.sex !== undefined && entry.sex !== patient.sex) patch.sex = entry.sex
    if (Object.keys(patch).length > 0) patient = lab.patients.update(patient.id, patch, actor)
  }

  // the same order picked again (same accession number, or same study) is the same exam
  const existing: Exam | undefined = lab.exams.list({ patientId: patient.id }).find((exam) =>
    (entry.accessionNumber !== undefined && exam.accessionNumber === entry.accessionNumber) ||
    (entry.studyInstanceUid !== undefined && exam.studyInstanceUid === entry.studyInstanceUid))
  const identifiers = {
    ...(entry.accessionNumber !== undefined ? { accessionNumber: entry.accessionNumber } : {}),
    ...(entry.studyInstanceUid !== undefined ? { studyInstanceUid: entry.studyInstanceUid } : {})
  }
  if (existing !== undefined) {
    const patch: ExamPatch = {}
    if (identifiers.accessionNumber !== undefined && existing.accessionNumber !== identifiers.accessionNumber) patch.accessionNumber = identifiers.accessionNumber
    if (identifiers.studyInstanceUid !== undefined && existing.studyInstanceUid !== identifiers.studyInstanceUid) patch.studyInstanceUid = identifiers.studyInstanceUid
    if (Object.keys(patch).length > 0) lab.exams.update(existing.id, patch, actor)
    return { patientId: patient.id, examId: existing.id, patientCreated, examCreated: false }
  }
  const exam = lab.exams.create({ patientId: patient.id, name: examName(entry), description: examDescription(entry), ...identifiers }, actor)
  return { patientId: patient.id, examId: exam.id, patientCreated, examCreated: true }
}
