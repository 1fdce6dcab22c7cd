// The shape of the lab documents: document ids, collection names, and the entities stored in them.
//
// Every entity is a nested Y.Map (one key per field, JSON values) inside its collection map, keyed by
// id. Two peers editing different fields of one entity both keep their edit; the same field resolves
// by the Yjs rule (deterministic on every peer). An absent optional field is an absent key.

/** The one document that holds users, devices, sequences, templates and the patient records. */
export const LAB_DOC_ID = 'lab'
/** Each patient's exams, workflows, tasks and results live in `patient:<patientId>`. */
export const PATIENT_DOC_PREFIX = 'patient:'

export function patientDocId (patientId: string): string {
  return PATIENT_DOC_PREFIX + patientId
}

/** The patient id of a patient document id, or undefined for any other document. */
export function patientIdOfDoc (docId: string): string | undefined {
  return docId.startsWith(PATIENT_DOC_PREFIX) ? docId.slice(PATIENT_DOC_PREFIX.length) : undefined
}

/** Y.Map with schemaVersion (and labId, labName, createdAt in the lab doc; patientId in a patient doc). */
export const META = 'meta'
/** Y.Array of AuditEntry, append-only. */
export const AUDIT = 'audit'

export const LAB_COLLECTIONS = ['users', 'devices', 'sequences', 'patients', 'examTemplates', 'workflowTemplates', 'taskTemplates', 'destinations'] as const
export type LabCollectionName = typeof LAB_COLLECTIONS[number]
export const PATIENT_COLLECTIONS = ['exams', 'workflows', 'tasks', 'results'] as const
export type PatientCollectionName = typeof PATIENT_COLLECTIONS[number]

/** Names used in audit entries and error messages. */
export type EntityKind =
  | 'lab' | 'patient' | 'exam' | 'workflow' | 'task' | 'result' | 'sequence' | 'device' | 'user'
  | 'examTemplate' | 'workflowTemplate' | 'taskTemplate' | 'destination'

export const SEXES = ['MALE', 'FEMALE', 'OTHER', 'NOT_GIVEN'] as const
export type Sex = typeof SEXES[number]
export const TASK_TYPES = ['ACQUISITION', 'RECONSTRUCTION', 'PROCESSING'] as const
export type TaskType = typeof TASK_TYPES[number]
export const TASK_STATUSES = ['NEW', 'UPDATED', 'STARTED', 'INPROGRESS', 'FINISHED', 'ERROR', 'CANCELLED'] as const
export type TaskStatus = typeof TASK_STATUSES[number]
/** Status of an exam or workflow, derived from its tasks (see status.ts); never stored. */
export const DERIVED_STATUSES = ['NEW', 'INPROGRESS', 'FINISHED', 'ERROR', 'CANCELLED'] as const
export type DerivedStatus = typeof DERIVED_STATUSES[number]
export const CALIBRATIONS = ['FREQUENCY', 'FLIP_ANGLE', 'SHIM'] as const
export type Calibration = typeof CALIBRATIONS[number]
export const RESULT_TYPES = ['DICOM', 'RAW', 'CALIBRATION', 'OTHER'] as const
export type ResultType = typeof RESULT_TYPES[number]
export const ROLES = ['admin', 'medical', 'scientist', 'engineer', 'viewer'] as const
export type Role = typeof ROLES[number]

/** Who makes a change: a user's name (or `peer:<peerId>` for a service acting alone) and the peer it runs on. */
export interface Actor {
  name: string
  peerId: string
}

/** ISO 8601 times and the actor names of the first and the latest change. */
export interface Stamps {
  createdAt: string
  updatedAt: string
  createdBy: string
  updatedBy: string
}

export type Vec3 = [number, number, number]

export interface LabInfo {
  schemaVersion?: number
  labId?: string
  labName?: string
  createdAt?: string
}

export interface Patient extends Stamps {
  id: string
  /** The hospital's patient ID (medical record number), written as the DICOM PatientID. */
  mrn?: string
  firstName: string
  lastName: string
  /** YYYY-MM-DD */
  birthDate: string
  sex: Sex
  heightCm?: number
  weightKg?: number
  comment?: string
}

export interface Exam extends Stamps {
  id: string
  patientId: string
  name: string
  description: string
  indication?: string
  /** The hospital's accession number of the ordered procedure, written in every DICOM of the exam. */
  accessionNumber?: string
  /**
   * The StudyInstanceUID the hospital gave the ordered study (from its modality worklist): every DICOM of
   * the exam carries it; without it the study UID derives from the exam's id.
   */
  studyInstanceUid?: string
  /** Destinations each finished reconstruction of this exam is sent to (from its template, or set on the exam). */
  autoExportDestinationIds?: string[]
  status: DerivedStatus
}

export interface Workflow extends Stamps {
  id: string
  examId: string
  patientId: string
  name: string
  description: string
  /** Sort key among the exam's workflows; only its order means something. */
  position: number
  status: DerivedStatus
}

/**
 * The protocol a user set for a built-in sequence, in the units a console shows; the scanner peer
 * regenerates the sequence from it when the task runs (protocol/pulseq/protocol-params.ts). A field
 * left out takes the built-in's default.
 */
export interface SequenceProtocol {
  trMs?: number
  teMs?: number
  flipAngleDeg?: number
  /** Square in-plane field of view. */
  fovMm?: number
  /** [read, phase] */
  matrix?: [number, number]
  slices?: number
  sliceThicknessMm?: number
  /** Receiver bandwidth per pixel: 1 / readout duration. */
  bandwidthHzPerPixel?: number
}

export interface AcquisitionParameters {
  sequenceId?: string
  deviceId?: string
  fovScaling: Vec3
  fovOffsetMm: Vec3
  fovRotationDeg: Vec3
  calibrations: Calibration[]
  /** Only for a built-in sequence: the parameters it is regenerated with. */
  protocol?: SequenceProtocol
}

export interface ReconstructionParameters {
  /** The acquisition task whose raw data this reconstructs. */
  inputTaskId?: string
  pipeline: string
  options: Record<string, unknown>
  /** A reconstruction peer to offer the job to first. */
  preferredPeerId?: string
}

export interface ProcessingParameters {
  inputTaskId?: string
  pipeline: string
  options: Record<string, unknown>
}

/** A task's type decides the shape of its parameters. */
export type TaskKind =
  | { type: 'ACQUISITION', parameters: AcquisitionParameters }
  | { type: 'RECONSTRUCTION', parameters: ReconstructionParameters }
  | { type: 'PROCESSING', parameters: ProcessingParameters }
export type TaskParameters = TaskKind['parameters']

export interface TaskFields extends Stamps {
  id: string
  workflowId: string
  examId: string
  patientId: string
  name: string
  description: string
  /** Sort key among the workflow's tasks; only its order means something. */
  position: number
  status: TaskStatus
  startedAt?: string
  /** Who started the current run (a username, or peer:<id> for a service). */
  startedBy?: string
  finishedAt?: string
  error?: string
  /**
   * How many times the task was started (1 for its first run), counted up at each STARTED: its results
   * carry the run they belong to (runs.ts). Absent on a task that never ran, or ran before runs were counted.
   */
  run?: number
  /**
   * A reconstruction's or processing's input task's run count when this task last started and took its
   * input (runs.ts): a newer raw result of the input makes this task's output stale.
   */
  inputRun?: number
}
export type Task = TaskFields & TaskKind

export interface ResultFile {
  name: string
  /** Lowercase hex sha-256 of the blob that holds the file. */
  sha256: string
  size: number
  /** Media type, e.g. application/dicom. */
  type: string
}

export interface Result {
  id: string
  taskId: string
  patientId: string
  type: ResultType
  files: ResultFile[]
  createdAt: string
  createdBy: string
  /** The job lease epoch this result was produced under; results of stale epochs are ignored. */
  epoch?: number
  /** The run of its task that produced it (Task.run at the time); absent on results older than run counts. */
  run?: number
}

export interface BlobRef {
  sha256: string
  size: number
}

export interface Sequence extends Stamps {
  id: string
  name: string
  description: string
  type: string
  tags: string[]
  /** The Pulseq file, as a blob. */
  blob: BlobRef
  summary?: Record<string, unknown>
  ismrmrdHeader?: string
  builtin?: boolean
}

export interface Device extends Stamps {
  id: string
  /** The peer that drives this device. Liveness is not stored: it travels as presence. */
  peerId: string
  name: string
  manufacturer: string
  model: string
  fieldStrengthT: number
  driver: string
  parameters: Record<string, number | string | boolean>
}

/** How a PACS destination is reached: DICOM networking (C-STORE) or DICOMweb (STOW-RS). */
export const DESTINATION_KINDS = ['dimse', 'dicomweb'] as const
export type DestinationKind = typeof DESTINATION_KINDS[number]

/** A DICOM C-STORE receiver (a PACS, a workstation): its AE title, host and port. */
export interface DimseDestinationFields {
  kind: 'dimse'
  aeTitle: string
  host: string
  port: number
  /** The AE title this lab calls as; SCANHUB when absent. */
  callingAeTitle?: string
}

/** A DICOMweb server: STOW-RS to {url}/studies, QIDO-RS to test the connection. */
export interface DicomwebDestinationFields {
  kind: 'dicomweb'
  /** The DICOMweb base URL (http or https), e.g. http://pacs:8042/dicom-web */
  url: string
  username?: string
  password?: string
}

/** Where a lab sends its images: edited by admins and engineers (node/auth/write-policy.ts). */
export type Destination = Stamps & { id: string, name: string } & (DimseDestinationFields | DicomwebDestinationFields)

export interface User {
  username: string
  firstName: string
  lastName: string
  email: string
  role: Role
  /** Opaque to this module: hashing and checking live with the login code. */
  passwordHash: string
  createdAt: string
  lastLoginAt?: string
}

/** A user as the hub's API shows it (node/auth/auth-service.ts): never the hash. */
export interface PublicUser extends Omit<User, 'passwordHash'> {
  /** the last use of a live session on that hub */
  lastActivityAt?: string
}

export interface ExamTemplate extends Stamps {
  id: string
  name: string
  description: string
  indication?: string
  /** Destinations an exam of this template sends each finished reconstruction to; copied to the exam. */
  autoExportDestinationIds?: string[]
}

export interface WorkflowTemplate extends Stamps {
  id: string
  examTemplateId?: string
  name: string
  description: string
  position: number
}

export interface TaskTemplateFields extends Stamps {
  id: string
  workflowTemplateId?: string
  name: string
  description: string
  position: number
}
export type TaskTemplate = TaskTemplateFields & TaskKind

// Inputs of create, and patches of update. An optional field is cleared by patching it to null;
// undefined in a patch means "leave as is". `id` may be given at create (for imports and
// deterministic built-ins); otherwise a random UUID is used.

export interface PatientInput {
  id?: string
  mrn?: string
  firstName: string
  lastName: string
  birthDate: string
  sex: Sex
  heightCm?: number
  weightKg?: number
  comment?: string
}
export interface PatientPatch {
  mrn?: string | null
  firstName?: string
  lastName?: string
  birthDate?: string
  sex?: Sex
  heightCm?: number | null
  weightKg?: number | null
  comment?: string | null
}

export interface ExamInput {
  id?: string
  patientId: string
  name: string
  description?: string
  indication?: string
  accessionNumber?: string
  studyInstanceUid?: string
  autoExportDestinationIds?: string[]
}
export interface ExamPatch {
  name?: string
  description?: string
  indication?: string | null
  accessionNumber?: string | null
  studyInstanceUid?: string | null
  autoExportDestinationIds?: string[] | null
}

export interface WorkflowInput {
  id?: string
  examId: string
  name: string
  description?: string
}
export interface WorkflowPatch {
  name?: string
  description?: string
}

/** Acquisition parameters left out take their defaults (no FOV change, no calibration). */
export type TaskKindInput =
  | { type: 'ACQUISITION', parameters?: Partial<AcquisitionParameters> }
  | { type: 'RECONSTRUCTION', parameters: Partial<ReconstructionParameters> & { pipeline: string } }
  | { type: 'PROCESSING', parameters: Partial<ProcessingParameters> & { pipeline: string } }

/** Parameters in a patch are merged key by key into the current ones; null clears a key. */
export type TaskParametersPatch = { [K in keyof AcquisitionParameters | keyof ReconstructionParameters]?: unknown }

export type TaskInput = {
  id?: string
  workflowId: string
  name: string
  description?: string
} & TaskKindInput
export interface TaskPatch {
  name?: string
  description?: string
  parameters?: TaskParametersPatch
}

/** Written with a status change: ERROR's message. */
export interface TaskStatusExtra {
  error?: string
}

export interface ResultInput {
  id?: string
  taskId: string
  type: ResultType
  files: ResultFile[]
  epoch?: number
  /** The task's run; its current run when left out. */
  run?: number
}

export interface SequenceInput {
  id?: string
  name: string
  description?: string
  type: string
  tags?: string[]
  blob: BlobRef
  summary?: Record<string, unknown>
  ismrmrdHeader?: string
  builtin?: boolean
}
export interface SequencePatch {
  name?: string
  description?: string
  type?: string
  tags?: string[]
  blob?: BlobRef
  summary?: Record<string, unknown> | null
  ismrmrdHeader?: string | null
  builtin?: boolean | null
}

export interface DeviceInput {
  id?: string
  peerId: string
  name: string
  manufacturer: string
  model: string
  fieldStrengthT: number
  driver: string
  parameters?: Record<string, number | string | boolean>
}
export interface DevicePatch {
  peerId?: string
  name?: string
  manufacturer?: string
  model?: string
  fieldStrengthT?: number
  driver?: string
  parameters?: Record<string, number | string | boolean>
}

export interface UserInput {
  username: string
  firstName: string
  lastName: string
  email: string
  role: Role
  passwordHash: string
}
export interface UserPatch {
  firstName?: string
  lastName?: string
  email?: string
  role?: Role
  passwordHash?: string
  lastLoginAt?: string | null
}

export interface ExamTemplateInput {
  id?: string
  name: string
  description?: string
  indication?: string
  autoExportDestinationIds?: string[]
}
export type ExamTemplatePatch = ExamPatch

export type DestinationInput = { id?: string, name: string } & (DimseDestinationFields | DicomwebDestinationFields)
/** Fields of the destination's kind; the kind itself cannot change. Null clears an optional field. */
export interface DestinationPatch {
  name?: string
  aeTitle?: string
  host?: string
  port?: number
  callingAeTitle?: string | null
  url?: string
  username?: string | null
  password?: string | null
}

export interface WorkflowTemplateInput {
  id?: string
  examTemplateId?: string
  name: string
  description?: string
}
export type WorkflowTemplatePatch = WorkflowPatch

export type TaskTemplateInput = {
  id?: string
  workflowTemplateId?: string
  name: string
  description?: string
} & TaskKindInput
export type TaskTemplatePatch = TaskPatch
