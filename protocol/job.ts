// The job protocol (/scanhub/job/1.0.0): reconstruction peers ask a scanner peer for work, and the
// scanner, the single writer of assignments, grants leases with an epoch. One long-lived stream per
// worker and scanner, opened by the worker; every frame holds one message. Grammar in PROTOCOL.md.
import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'
import { isValidUid } from './dicom/uid.ts'

/** A grant carries the job's description and the units already done; everything else is small. */
export const MAX_JOB_FRAME_LENGTH = 1024 * 1024
export const MAX_JOB_ID_LENGTH = 256
export const MAX_UNIT_KEY_LENGTH = 64
export const MAX_JOB_TEXT_LENGTH = 2000
export const MAX_JOB_DESCRIPTION_LENGTH = 64 * 1024
export const MAX_FILES_PER_UNIT = 4096
export const MAX_DONE_UNITS = 65536

// message types: worker to scanner
export const JOB_HELLO = 0
export const JOB_RENEW = 1
export const JOB_UNIT_DONE = 2
export const JOB_PROGRESS = 3
export const JOB_DONE = 4
export const JOB_FAILED = 5
// scanner to worker
export const JOB_GRANT = 16
export const JOB_ACK = 17
export const JOB_REVOKE = 18
// either side
export const JOB_ERROR = 31

/** A file a worker stored as a blob: what the scanner records in the task's result. */
export interface JobFile {
  name: string
  sha256: string
  size: number
}

/**
 * What a worker needs to know of a job besides its raw data: the task, the reconstruction asked for,
 * and the lab's names for the DICOM files (patient data: it travels only inside the lab's network).
 */
export interface JobDescription {
  taskId: string
  /** the acquisition task whose raw data is reconstructed */
  inputTaskId: string
  patientId: string
  examId: string
  /** ReconstructionParameters.pipeline: 'default', 'batch', ... */
  pipeline: string
  /** ReconstructionParameters.options (a custom chain as options.chain) */
  options: Record<string, unknown>
  patient: { id: string, firstName: string, lastName: string, birthDate?: string, sex?: string, heightCm?: number, weightKg?: number }
  /** uid: the StudyInstanceUID the hospital gave the exam (Exam.studyInstanceUid), else derived from id */
  study: { id: string, uid?: string, name?: string, dateTime: string, accessionNumber?: string }
  /** who ran the acquisition (DICOM OperatorsName) */
  operator?: string
  series: { id: string, number: number, name: string, description?: string, dateTime?: string }
  equipment: { manufacturer: string, model?: string, name?: string, fieldStrengthT?: number }
}

export type JobMessage =
  /** a worker offers `slots` jobs' worth of work (0 = none now) */
  | { type: 'hello', name: string, slots: number }
  /** the worker still holds the lease */
  | { type: 'renew', jobId: string, epoch: number }
  /** a unit's images are stored on the worker; confirmedOffset: all data before it is in done units */
  | { type: 'unit-done', jobId: string, epoch: number, unitKey: string, confirmedOffset: number, files: JobFile[] }
  | { type: 'progress', jobId: string, epoch: number, acquisitions: number, images: number, confirmedOffset: number }
  /** the raw stream ended and every unit has been reported */
  | { type: 'done', jobId: string, epoch: number, images: number }
  /** fatal: the data cannot be reconstructed (the task fails); otherwise this worker cannot, another may */
  | { type: 'failed', jobId: string, epoch: number, fatal: boolean, message: string }
  | { type: 'grant', jobId: string, epoch: number, leaseMs: number, resumeOffset: number, doneUnits: string[], description: JobDescription }
  /** the scanner recorded a unit (unitKey) or the job's end (unitKey '') under this epoch */
  | { type: 'ack', jobId: string, epoch: number, unitKey: string }
  /** stop working on the job under this epoch: lease lapsed, task cancelled, or the epoch is stale */
  | { type: 'revoke', jobId: string, epoch: number, reason: string }
  | { type: 'error', message: string }

export type JobMessageType = JobMessage['type']

export const WORKER_MESSAGES: readonly JobMessageType[] = ['hello', 'renew', 'unit-done', 'progress', 'done', 'failed', 'error']
export const SCANNER_MESSAGES: readonly JobMessageType[] = ['grant', 'ack', 'revoke', 'error']

/** Bytes that are not a job message, or a message that breaks a bound. */
export class JobProtocolError extends Error {
  override name = 'JobProtocolError'
}

const SHA256_HEX = /^[0-9a-f]{64}$/
const UNIT_KEY = /^[0-9]+(\.[0-9]+){4}$/

function writeString (encoder: encoding.Encoder, value: string, max: number, what: string): void {
  if (value.length > max) throw new JobProtocolError(`${what} of ${value.length} characters exceeds ${max}`)
  encoding.writeVarString(encoder, value)
}

function readString (decoder: decoding.Decoder, max: number, what: string): string {
  const value = decoding.readVarString(decoder)
  if (value.length > max) throw new JobProtocolError(`${what} of ${value.length} characters exceeds ${max}`)
  return value
}

function readJobId (decoder: decoding.Decoder): string {
  const id = readString(decoder, MAX_JOB_ID_LENGTH, 'job id')
  if (id.length === 0) throw new JobProtocolError('empty job id')
  return id
}

function readCount (decoder: decoding.Decoder, max: number, what: string): number {
  const n = decoding.readVarUint(decoder)
  if (n > max) throw new JobProtocolError(`${n} ${what} exceed the limit of ${max}`)
  return n
}

function readUnitKey (decoder: decoding.Decoder, allowEmpty = false): string {
  const key = readString(decoder, MAX_UNIT_KEY_LENGTH, 'unit key')
  if (!(allowEmpty && key === '') && !UNIT_KEY.test(key)) throw new JobProtocolError(`unit key '${key.slice(0, 40)}' is not slice.contrast.phase.repetition.set`)
  return key
}

/** The type and the job a message is about: every message but hello and error starts so. */
function writeJobRef (encoder: encoding.Encoder, type: number, message: { jobId: string, epoch: number }): void {
  encoding.writeVarUint(encoder, type)
  writeString(encoder, message.jobId, MAX_JOB_ID_LENGTH, 'job id')
  encoding.writeVarUint(encoder, message.epoch)
}

/** message := varUint(type) • fields, as PROTOCOL.md lists them. */
export function writeJobMessage (encoder: encoding.Encoder, message: JobMessage): void {
  switch (message.type) {
    case 'hello':
      encoding.writeVarUint(encoder, JOB_HELLO)
      writeString(encoder, message.name, MAX_JOB_TEXT_LENGTH, 'name')
      encoding.writeVarUint(encoder, message.slots)
      return
    case 'renew':
      writeJobRef(encoder, JOB_RENEW, message)
      return
    case 'unit-done':
      writeJobRef(encoder, JOB_UNIT_DONE, message)
      writeString(encoder, message.unitKey, MAX_UNIT_KEY_LENGTH, 'unit key')
      encoding.writeVarUint(encoder, message.confirmedOffset)
      if (message.files.length > MAX_FILES_PER_UNIT) throw new JobProtocolError(`${message.files.length} files exceed ${MAX_FILES_PER_UNIT}`)
      encoding.writeVarUint(encoder, message.files.length)
      for (const file of message.files) {
        writeString(encoder, file.name, MAX_JOB_TEXT_LENGTH, 'file name')
        writeString(encoder, file.sha256, 64, 'sha-256')
        encoding.writeVarUint(encoder, file.size)
      }
      return
    case 'progress':
      writeJobRef(encoder, JOB_PROGRESS, message)
      encoding.writeVarUint(encoder, message.acquisitions)
      encoding.writeVarUint(encoder, message.images)
      encoding.writeVarUint(encoder, message.confirmedOffset)
      return
    case 'done':
      writeJobRef(encoder, JOB_DONE, message)
      encoding.writeVarUint(encoder, message.images)
      return
    case 'failed':
      writeJobRef(encoder, JOB_FAILED, message)
      encoding.writeVarUint(encoder, message.fatal ? 1 : 0)
      encoding.writeVarString(encoder, message.message.slice(0, MAX_JOB_TEXT_LENGTH))
      return
    case 'grant': {
      writeJobRef(encoder, JOB_GRANT, message)
      encoding.writeVarUint(encoder, message.leaseMs)
      encoding.writeVarUint(encoder, message.resumeOffset)
      if (message.doneUnits.length > MAX_DONE_UNITS) throw new JobProtocolError(`${message.doneUnits.length} done units exceed ${MAX_DONE_UNITS}`)
      encoding.writeVarUint(encoder, message.doneUnits.length)
      for (const key of message.doneUnits) writeString(encoder, key, MAX_UNIT_KEY_LENGTH, 'unit key')
      writeString(encoder, JSON.stringify(message.description), MAX_JOB_DESCRIPTION_LENGTH, 'job description')
      return
    }
    case 'ack':
      writeJobRef(encoder, JOB_ACK, message)
      writeString(encoder, message.unitKey, MAX_UNIT_KEY_LENGTH, 'unit key')
      return
    case 'revoke':
      writeJobRef(encoder, JOB_REVOKE, message)
      encoding.writeVarString(encoder, message.reason.slice(0, MAX_JOB_TEXT_LENGTH))
      return
    case 'error':
      encoding.writeVarUint(encoder, JOB_ERROR)
      encoding.writeVarString(encoder, message.message.slice(0, MAX_JOB_TEXT_LENGTH))
      return
    default:
      throw new JobProtocolError(`cannot encode a job message of type ${(message as { type: unknown }).type}`)
  }
}

export function encodeJobMessage (message: JobMessage): Uint8Array {
  const encoder = encoding.createEncoder()
  writeJobMessage(encoder, message)
  return encoding.toUint8Array(encoder)
}

/** Reads one message; throws JobProtocolError for an unknown type, a broken bound or trailing bytes. */
export function decodeJobMessage (bytes: Uint8Array): JobMessage {
  const decoder = decoding.createDecoder(bytes)
  let message: JobMessage
  try {
    message = readJobMessage(decoder)
  } catch (err) {
    if (err instanceof JobProtocolError) throw err
    throw new JobProtocolError(`malformed job message: ${(err as Error).message}`)
  }
  if (decoding.hasContent(decoder)) throw new JobProtocolError(`trailing bytes after a job message of type ${message.type}`)
  return message
}

/** The job a message is about (after its type): job id and epoch. */
function readJobRef (decoder: decoding.Decoder): { jobId: string, epoch: number } {
  const jobId = readJobId(decoder)
  return { jobId, epoch: decoding.readVarUint(decoder) }
}

function readJobMessage (decoder: decoding.Decoder): JobMessage {
  const type = decoding.readVarUint(decoder)
  switch (type) {
    case JOB_HELLO:
      return { type: 'hello', name: readString(decoder, MAX_JOB_TEXT_LENGTH, 'name'), slots: readCount(decoder, 1024, 'slots') }
    case JOB_RENEW:
      return { type: 'renew', ...readJobRef(decoder) }
    case JOB_UNIT_DONE: {
      const { jobId, epoch } = readJobRef(decoder)
      const unitKey = readUnitKey(decoder)
      const confirmedOffset = decoding.readVarUint(decoder)
      const n = readCount(decoder, MAX_FILES_PER_UNIT, 'files')
      const files: JobFile[] = []
      for (let i = 0; i < n; i++) {
        const name = readString(decoder, MAX_JOB_TEXT_LENGTH, 'file name')
        const sha256 = readString(decoder, 64, 'sha-256')
        if (!SHA256_HEX.test(sha256)) throw new JobProtocolError('a file hash must be 64 lowercase hex characters (sha-256)')
        if (name.length === 0 || /[/\\\0]/.test(name)) throw new JobProtocolError(`file name '${name.slice(0, 40)}' is empty or has a path separator`)
        files.push({ name, sha256, size: decoding.readVarUint(decoder) })
      }
      return { type: 'unit-done', jobId, epoch, unitKey, confirmedOffset, files }
    }
    case JOB_PROGRESS:
      return {
        type: 'progress',
        ...readJobRef(decoder),
        acquisitions: decoding.readVarUint(decoder),
        images: decoding.readVarUint(decoder),
        confirmedOffset: decoding.readVarUint(decoder)
      }
    case JOB_DONE:
      return { type: 'done', ...readJobRef(decoder), images: decoding.readVarUint(decoder) }
    case JOB_FAILED: {
      const { jobId, epoch } = readJobRef(decoder)
      const fatal = decoding.readVarUint(decoder)
      if (fatal > 1) throw new JobProtocolError(`failed: fatal must be 0 or 1, not ${fatal}`)
      return { type: 'failed', jobId, epoch, fatal: fatal === 1, message: readString(decoder, MAX_JOB_TEXT_LENGTH, 'message') }
    }
    case JOB_GRANT: {
      const { jobId, epoch } = readJobRef(decoder)
      const leaseMs = decoding.readVarUint(decoder)
      const resumeOffset = decoding.readVarUint(decoder)
      const n = readCount(decoder, MAX_DONE_UNITS, 'done units')
      const doneUnits: string[] = []
      for (let i = 0; i < n; i++) doneUnits.push(readUnitKey(decoder))
      const description = parseJobDescription(readString(decoder, MAX_JOB_DESCRIPTION_LENGTH, 'job description'))
      return { type: 'grant', jobId, epoch, leaseMs, resumeOffset, doneUnits, description }
    }
    case JOB_ACK:
      return { type: 'ack', ...readJobRef(decoder), unitKey: readUnitKey(decoder, true) }
    case JOB_REVOKE:
      return { type: 'revoke', ...readJobRef(decoder), reason: readString(decoder, MAX_JOB_TEXT_LENGTH, 'reason') }
    case JOB_ERROR:
      return { type: 'error', message: readString(decoder, MAX_JOB_TEXT_LENGTH, 'message') }
    default:
      throw new JobProtocolError(`unknown job message type ${type}`)
  }
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)

/** Parses and checks the shape of a grant's description (the fields a worker relies on). */
export function parseJobDescription (text: string): JobDescription {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (err) {
    throw new JobProtocolError(`job description is not JSON: ${(err as Error).message}`)
  }
  const fail = (what: string): never => { throw new JobProtocolError(`job description: ${what}`) }
  if (!isObject(value)) return fail('not an object')
  for (const key of ['taskId', 'inputTaskId', 'patientId', 'examId', 'pipeline'] as const) {
    if (typeof value[key] !== 'string') fail(`${key} must be a string`)
  }
  if (!isObject(value.options)) fail('options must be an object')
  const { patient, study, series, equipment } = value
  if (!isObject(patient) || typeof patient.id !== 'string' || typeof patient.firstName !== 'string' || typeof patient.lastName !== 'string') fail('patient needs id, firstName and lastName')
  if (!isObject(study) || typeof study.id !== 'string' || typeof study.dateTime !== 'string' || Number.isNaN(new Date(study.dateTime).getTime())) fail('study needs an id and a dateTime')
  const studyUid = (study as Record<string, unknown>).uid
  if (studyUid !== undefined && (typeof studyUid !== 'string' || !isValidUid(studyUid))) fail('study.uid must be a DICOM UID')
  if (!isObject(series) || typeof series.id !== 'string' || typeof series.name !== 'string' || !Number.isSafeInteger(series.number) || (series.number as number) < 0) fail('series needs an id, a name and a number')
  if (!isObject(equipment) || typeof equipment.manufacturer !== 'string') fail('equipment needs a manufacturer')
  return value as unknown as JobDescription
}
