// Where a reconstruction received over MRD (mrd-tcp-server.ts) goes in the lab: the same records a scan
// of the lab leaves, so that the app, the REST API and every export see it like any other.
//
// - The patient: the one whose patient ID (Patient.mrn) is the header's subjectInformation/patientID;
//   a header naming a patient ID the lab does not know makes a new patient from the header (name, birth
//   date, sex, height, weight). A header without a patient ID goes to one patient, "Unknown (MRD
//   client)", from where the users move the exam to whom it belongs.
// - The exam: the patient's exam with the header's study instance UID, else with its accession number
//   (a worklist's exam, an earlier stream's), else a new one with both (and the header's study
//   description as its name). The exam's study instance UID is the study of the DICOM files.
// - A workflow per stream with two tasks: an ACQUISITION whose RAW result is the stream as received
//   (header, acquisitions, close: an MRD v1 stream file, as a scanner records it) and a RECONSTRUCTION
//   whose DICOM results are the images, one result per unit (slice, echo, repetition...) as the
//   reconstruction jobs of a scan record them.
// Every change is written as the actor `mrd:<client address>:<port>`, so the audit log names the client.
import { PassThrough } from 'node:stream'
import { once } from 'node:events'
import type { Actor, Exam, Lab, Patient, PatientInput, Sex, Task } from '../../protocol/lab/index.ts'
import { isValidUid } from '../../protocol/dicom/uid.ts'
import type { IsmrmrdHeader } from '../../protocol/mrd/xml-header.ts'
import type { BlobStore } from '../../node/storage/blob-store.ts'
import type { DicomFile, SeriesOverrides } from '../jobs/dicom-series.ts'
import { unitKeyOf } from '../jobs/recon-header.ts'
import type { ReconImage } from '../pipeline/image.ts'

/** The patient of streams whose header names no patient ID. */
export const UNKNOWN_MRD_PATIENT_ID = 'mrd-unknown-patient'
/**
 * A patient record needs a birth date; one the header does not give is recorded as this placeholder
 * (no living patient was born on it) and left out of the DICOM files.
 */
export const UNKNOWN_BIRTH_DATE = '1900-01-01'

export interface MrdStreamStart {
  header: IsmrmrdHeader
  /** the pipeline that reconstructs it */
  pipeline: string
  /** the configuration the client named */
  config: string | undefined
  /** the client's address and port, as `host:port` (`[v6]:port`) */
  client: string
}

/** What one stream leaves in the lab, written as it arrives. */
export interface MrdStreamRecord {
  /** the lab's patient, exam and series, for the DICOM files of the stream's images */
  readonly overrides: SeriesOverrides
  /** bytes of the raw stream (header, acquisitions, close), in order */
  appendRaw: (bytes: Uint8Array) => Promise<void>
  /** one image's DICOM file; a unit's files are recorded as one result once its last image is in */
  addImage: (image: ReconImage, file: DicomFile) => Promise<void>
  /** the stream ended with its close message and every image is in */
  finish: () => Promise<void>
  /** the stream failed: the tasks say why, the raw data of an incomplete stream is not kept */
  fail: (message: string) => Promise<void>
}

export interface MrdResultStore {
  open: (start: MrdStreamStart) => Promise<MrdStreamRecord>
}

export interface MrdLabStoreComponents {
  lab: Lab
  blobs: Pick<BlobStore, 'put' | 'putStream'>
  /** this peer's id, the peer of the audit entries */
  peerId: string
  /** makes the writes durable (DocStore.flush) */
  flush?: () => Promise<void>
  log?: (message: string) => void
}

const SEXES: Record<string, Sex> = { M: 'MALE', F: 'FEMALE', O: 'OTHER' }

function todayLocal (): string {
  const now = new Date()
  return `${now.getFullYear()}-${String(now.getMonth() + 1).padStart(2, '0')}-${String(now.getDate()).padStart(2, '0')}`
}

/** A one-line value of at most `max` characters, or undefined for nothing usable. */
function oneLine (value: string | undefined, max: number): string | undefined {
  // what the lab's validation refuses in a one-line field: control characters
  const text = value === undefined ? undefined : Array.from(value, (c) => c.charCodeAt(0) < 32 || c.charCodeAt(0) === 127 ? ' ' : c).join('').trim()
  return text === undefined || text === '' ? undefined : text.slice(0, max)
}

/**
 * An identifier as the header gives it, or undefined when it has none or one too long for its DICOM
 * field: cut short, it would name someone else.
 */
function identifier (value: string | undefined, max: number): string | undefined {
  const text = oneLine(value, Number.MAX_SAFE_INTEGER)
  return text !== undefined && text.length <= max ? text : undefined
}

/** The patient record the header describes (the lab's validation still applies). */
function patientFromHeader (header: IsmrmrdHeader, mrn: string): PatientInput {
  const subject = header.subjectInformation ?? {}
  const [last, ...given] = (subject.patientName ?? '').split(/\^|,\s*/)
  const birth = subject.patientBirthdate
  const birthDate = birth !== undefined && /^\d{4}-\d{2}-\d{2}$/.test(birth) && birth >= '1880-01-01' && birth <= todayLocal() && !Number.isNaN(Date.parse(birth)) ? birth : undefined
  const heightCm = subject.patientHeight_m !== undefined ? subject.patientHeight_m * 100 : undefined
  const weightKg = subject.patientWeight_kg
  return {
    mrn,
    lastName: oneLine(last, 200) ?? 'Unknown',
    firstName: oneLine(given.join(' '), 200) ?? 'Unknown',
    birthDate: birthDate ?? UNKNOWN_BIRTH_DATE,
    sex: SEXES[subject.patientGender?.trim().toUpperCase() ?? ''] ?? 'NOT_GIVEN',
    ...(heightCm !== undefined && heightCm >= 20 && heightCm <= 300 ? { heightCm } : {}),
    ...(weightKg !== undefined && weightKg >= 0.1 && weightKg <= 700 ? { weightKg } : {}),
    comment: `Made from the header of raw data received over MRD${birthDate === undefined ? `; birth date not given (${UNKNOWN_BIRTH_DATE} stands for it)` : ''}`
  }
}

export class MrdLabStore implements MrdResultStore {
  private readonly lab: Lab
  private readonly log: (message: string) => void

  constructor (private readonly components: MrdLabStoreComponents) {
    this.lab = components.lab
    this.log = components.log ?? (() => {})
  }

  async open (start: MrdStreamStart): Promise<MrdStreamRecord> {
    const actor: Actor = { name: `mrd:${start.client}`, peerId: this.components.peerId }
    // lookups and creations in one turn of the event loop: two streams of the same new patient or
    // accession number at once find each other's records
    const patient = this.patientFor(start.header, actor)
    const exam = this.examFor(patient, start.header, actor)
    const measurement = start.header.measurementInformation ?? {}
    const protocol = oneLine(measurement.protocolName ?? measurement.sequenceName, 200)
    const workflow = this.lab.workflows.create({
      examId: exam.id,
      name: `MRD stream${protocol !== undefined ? `: ${protocol}` : ''}`,
      description: `Raw data received over TCP (ISMRMRD streaming protocol) from ${start.client}, configuration ${start.config ?? '(none)'}`
    }, actor)
    const acquisition = this.lab.tasks.create({
      workflowId: workflow.id,
      type: 'ACQUISITION',
      name: protocol ?? 'Raw data',
      description: `Sent by the MRD client ${start.client}`
    }, actor)
    const reconstruction = this.lab.tasks.create({
      workflowId: workflow.id,
      type: 'RECONSTRUCTION',
      name: `Reconstruction (${start.pipeline})`,
      parameters: { inputTaskId: acquisition.id, pipeline: start.pipeline, options: {} }
    }, actor)
    for (const task of [acquisition, reconstruction]) {
      this.lab.tasks.setStatus(task.id, 'STARTED', actor)
      this.lab.tasks.setStatus(task.id, 'INPROGRESS', actor)
    }
    await this.components.flush?.()
    this.log(`mrd: ${start.client}: recording into patient ${patient.id}, exam ${exam.id}, workflow ${workflow.id}`)
    const running = this.lab.tasks.get(reconstruction.id) ?? reconstruction
    return new LabStreamRecord(this.components, actor, { patient, exam, acquisition, reconstruction }, this.overridesOf(patient, exam, running, start.header))
  }

  private patientFor (header: IsmrmrdHeader, actor: Actor): Patient {
    // DICOM PatientID is LO: at most 64 characters
    const mrn = identifier(header.subjectInformation?.patientID, 64)
    if (mrn === undefined) {
      return this.lab.patients.get(UNKNOWN_MRD_PATIENT_ID) ?? this.lab.patients.create({
        id: UNKNOWN_MRD_PATIENT_ID,
        lastName: 'Unknown (MRD client)',
        firstName: 'Unknown',
        birthDate: UNKNOWN_BIRTH_DATE,
        sex: 'NOT_GIVEN',
        comment: 'Raw data received over MRD whose header names no patient ID: move each exam to its patient'
      }, actor)
    }
    return this.lab.patients.list().find((p) => p.mrn === mrn) ?? this.lab.patients.create(patientFromHeader(header, mrn), actor)
  }

  private examFor (patient: Patient, header: IsmrmrdHeader, actor: Actor): Exam {
    const study = header.studyInformation ?? {}
    // DICOM AccessionNumber is SH: at most 16 characters
    const accessionNumber = study.accessionNumber !== undefined ? identifier(String(study.accessionNumber), 16) : undefined
    const uid = study.studyInstanceUID !== undefined && isValidUid(study.studyInstanceUID) ? study.studyInstanceUID : undefined
    const exams = this.lab.exams.list({ patientId: patient.id })
    const existing = (uid !== undefined ? exams.find((e) => e.studyInstanceUid === uid) : undefined) ??
      (accessionNumber !== undefined ? exams.find((e) => e.accessionNumber === accessionNumber) : undefined)
    if (existing !== undefined) return existing
    return this.lab.exams.create({
      patientId: patient.id,
      name: oneLine(study.studyDescription, 200) ?? 'MRD stream',
      description: 'Received over MRD',
      ...(accessionNumber !== undefined ? { accessionNumber } : {}),
      ...(uid !== undefined ? { studyInstanceUid: uid } : {})
    }, actor)
  }

  /** The DICOM identity of the stream's images, as the scanner's job description gives it for a scan. */
  private overridesOf (patient: Patient, exam: Exam, task: Task, header: IsmrmrdHeader): SeriesOverrides {
    const examTasks = this.lab.tasks.list({ examId: exam.id })
    const studyDate = header.studyInformation?.studyDate
    return {
      patient: {
        // the hospital's patient ID where the lab has it, else the lab's own id of the patient
        id: patient.mrn ?? patient.id,
        firstName: patient.firstName,
        lastName: patient.lastName,
        ...(patient.birthDate !== UNKNOWN_BIRTH_DATE ? { birthDate: patient.birthDate } : {}),
        sex: patient.sex,
        ...(patient.heightCm !== undefined ? { heightCm: patient.heightCm } : {}),
        ...(patient.weightKg !== undefined ? { weightKg: patient.weightKg } : {})
      },
      study: {
        id: exam.id,
        // the exam's study UID (the hospital's, or the header's when it made the exam) over the header's
        ...(exam.studyInstanceUid !== undefined ? { uid: exam.studyInstanceUid } : {}),
        name: exam.name,
        ...(exam.accessionNumber !== undefined ? { accessionNumber: exam.accessionNumber } : {}),
        // the study's date is the header's when it gives one (describeSeries), else the exam's
        ...(studyDate === undefined ? { dateTime: new Date(exam.createdAt) } : {})
      },
      series: {
        id: `${task.id}@${task.startedAt ?? ''}`,
        number: 1 + Math.max(0, examTasks.findIndex((t) => t.id === task.id)),
        name: task.name
      }
    }
  }
}

interface StreamTasks { patient: Patient, exam: Exam, acquisition: Task, reconstruction: Task }

class LabStreamRecord implements MrdStreamRecord {
  private readonly raw = new PassThrough({ highWaterMark: 1 << 20 })
  private readonly stored: ReturnType<BlobStore['putStream']>
  /** files of units not complete yet */
  private readonly units = new Map<string, DicomFile[]>()
  private readonly shas = new Map<DicomFile, { sha256: string, size: number }>()
  private ended = false

  constructor (private readonly components: MrdLabStoreComponents, private readonly actor: Actor, private readonly tasks: StreamTasks, readonly overrides: SeriesOverrides) {
    // the stream's failures reach the store through its reading, and the record through `stored`
    this.raw.on('error', () => {})
    this.stored = components.blobs.putStream(this.raw)
    // a failure of the store ends the writes that wait for it
    this.stored.catch((err: Error) => { this.raw.destroy(err) })
  }

  async appendRaw (bytes: Uint8Array): Promise<void> {
    if (!this.raw.write(bytes)) await once(this.raw, 'drain')
  }

  async addImage (image: ReconImage, file: DicomFile): Promise<void> {
    const blob = await this.components.blobs.put(file.bytes)
    this.shas.set(file, blob)
    const key = unitKeyOf(image)
    const files = this.units.get(key) ?? []
    files.push(file)
    this.units.set(key, files)
    if (image.partition !== image.depth - 1) return
    this.units.delete(key)
    this.components.lab.results.create({
      taskId: this.tasks.reconstruction.id,
      type: 'DICOM',
      files: files.map((f) => {
        const stored = this.shas.get(f)!
        this.shas.delete(f)
        return { name: f.name, sha256: stored.sha256, size: stored.size, type: 'application/dicom' }
      })
    }, this.actor)
  }

  async finish (): Promise<void> {
    if (this.ended) return
    this.ended = true
    const { lab } = this.components
    this.raw.end()
    const blob = await this.stored
    const name = `${this.tasks.acquisition.name.replace(/[^A-Za-z0-9._-]+/g, '_') || 'raw'}.mrd`
    lab.results.create({ taskId: this.tasks.acquisition.id, type: 'RAW', files: [{ name, sha256: blob.sha256, size: blob.size, type: 'application/x-ismrmrd-stream' }] }, this.actor)
    lab.tasks.setStatus(this.tasks.acquisition.id, 'FINISHED', this.actor)
    if (this.units.size > 0) {
      lab.tasks.setStatus(this.tasks.reconstruction.id, 'ERROR', this.actor, { error: `units ${[...this.units.keys()].join(', ')} ended without all their images` })
    } else {
      lab.tasks.setStatus(this.tasks.reconstruction.id, 'FINISHED', this.actor)
    }
    await this.components.flush?.()
  }

  async fail (message: string): Promise<void> {
    if (this.ended) return
    this.ended = true
    this.raw.destroy(new Error(message))
    await this.stored.catch(() => {})
    const { lab } = this.components
    const error = message.slice(0, 1000)
    for (const task of [this.tasks.acquisition, this.tasks.reconstruction]) {
      const current = lab.tasks.get(task.id)
      if (current !== undefined && (current.status === 'STARTED' || current.status === 'INPROGRESS')) lab.tasks.setStatus(task.id, 'ERROR', this.actor, { error })
    }
    await this.components.flush?.()
  }
}
