// The hospital's modality worklist: a C-FIND of the Modality Worklist Information Model (PS3.4 K.6,
// 1.2.840.10008.5.1.4.31) with dcmjs-dimse, one association per query, and the answers put in the lab's
// words. An answer the provider sends half-filled is listed with what it lacks, never dropped and never a
// crash: the operator sees it and decides.
import dimse from 'dcmjs-dimse'
import { isValidUid } from '../../protocol/dicom/uid.ts'
import type { Sex } from '../../protocol/lab/index.ts'

const { Client, constants, requests, log: dimseLog } = dimse
// the library logs every PDU at info level; our own messages say what matters
dimseLog.setLevel('error')

/** The AE title the lab calls as when its provider names none. */
export const DEFAULT_CALLING_AE_TITLE = 'SCANHUB'
/** More answers than this to one query are cut off (a query for a day and a station yields a few dozen). */
export const MAX_WORKLIST_ANSWERS = 500

/** Where the worklist is asked for: a DICOM application entity (a RIS, a PACS's worklist service). */
export interface WorklistProvider {
  aeTitle: string
  host: string
  port: number
  callingAeTitle?: string
}

export interface WorklistQuery {
  /** YYYYMMDD: the first day of scheduled procedure steps asked for; absent: any day */
  dateFrom?: string
  /** YYYYMMDD: the last day (the same as dateFrom when absent) */
  dateTo?: string
  /** Modality of the scheduled step, e.g. MR; empty asks for any */
  modality?: string
  /** The scheduled station's AE title; empty asks for any */
  station?: string
  /** asks for one accession number only (re-finding an entry to pick it) */
  accessionNumber?: string
}

/** One scheduled procedure step as the lab shows it; fields the provider left empty are absent. */
export interface WorklistEntry {
  patientId?: string
  /** DICOM form, family^given */
  patientName?: string
  /** YYYY-MM-DD */
  birthDate?: string
  sex?: Sex
  accessionNumber?: string
  requestedProcedureId?: string
  requestedProcedureDescription?: string
  studyInstanceUid?: string
  /** YYYY-MM-DDTHH:MM[:SS], the provider's local time */
  scheduledStart?: string
  modality?: string
  stationAeTitle?: string
  scheduledProcedureStepId?: string
  /** names of the fields above the answer left empty */
  missing: string[]
  /** values given but unusable, in words (e.g. a study UID that is no DICOM UID) */
  problems: string[]
}

export const WORKLIST_ENTRY_FIELDS = [
  'patientId', 'patientName', 'birthDate', 'sex', 'accessionNumber', 'requestedProcedureId', 'requestedProcedureDescription',
  'studyInstanceUid', 'scheduledStart', 'modality', 'stationAeTitle', 'scheduledProcedureStepId'
] as const

export interface WorklistAnswer {
  entries: WorklistEntry[]
  /** true when the provider had more than MAX_WORKLIST_ANSWERS answers */
  truncated: boolean
}

/** The provider could not be asked, or refused: the message says which and why, in words. */
export class WorklistError extends Error {
  override name = 'WorklistError'
}

export interface WorklistTimeouts {
  connectMs: number
  /** for the association to be accepted, and between answers */
  associationMs: number
}

export const DEFAULT_WORKLIST_TIMEOUTS: WorklistTimeouts = { connectMs: 10_000, associationMs: 30_000 }

const DA = /^\d{8}$/

function validDa (text: string): boolean {
  if (!DA.test(text)) return false
  const date = new Date(Date.UTC(Number(text.slice(0, 4)), Number(text.slice(4, 6)) - 1, Number(text.slice(6, 8))))
  return date.getUTCFullYear() === Number(text.slice(0, 4)) && date.getUTCMonth() + 1 === Number(text.slice(4, 6)) && date.getUTCDate() === Number(text.slice(6, 8))
}

/** Reads 'YYYYMMDD' or 'YYYYMMDD-YYYYMMDD'; throws WorklistError with what is wrong. */
export function parseDateRange (text: string): { dateFrom: string, dateTo?: string } {
  const [from, to, ...rest] = text.split('-')
  if (rest.length > 0 || from === undefined || !validDa(from) || (to !== undefined && !validDa(to))) {
    throw new WorklistError('date must be a day as YYYYMMDD or a range as YYYYMMDD-YYYYMMDD, e.g. 20260412 or 20260412-20260418')
  }
  if (to !== undefined && to < from) throw new WorklistError('the date range ends before it starts')
  return to === undefined || to === from ? { dateFrom: from } : { dateFrom: from, dateTo: to }
}

/** An AE title as a query key: 1 to 16 characters of the default repertoire without backslash. */
export function checkAeTitle (value: string, what: string): string {
  const trimmed = value.trim()
  // eslint-disable-next-line no-control-regex
  if (trimmed === '' || trimmed.length > 16 || /[\\\x00-\x1f\x7f-\uffff]/.test(trimmed)) {
    throw new WorklistError(`${what} must be a DICOM AE title: 1 to 16 letters, digits, spaces or punctuation (no backslash)`)
  }
  return trimmed
}

// ---- reading answers ---------------------------------------------------------------------------

function text (value: unknown): string | undefined {
  if (Array.isArray(value)) return text(value[0])
  if (typeof value === 'number') return String(value)
  if (typeof value !== 'string') return undefined
  const trimmed = value.trim()
  return trimmed === '' ? undefined : trimmed
}

/** dcmjs hands a person name as 'A^B', [{ Alphabetic: 'A^B' }] or { Alphabetic: 'A^B' }. */
function personName (value: unknown): string | undefined {
  if (Array.isArray(value)) return personName(value[0])
  if (typeof value === 'object' && value !== null) return text((value as { Alphabetic?: unknown }).Alphabetic)
  return text(value)?.replace(/\^+$/, '')
}

function firstItem (value: unknown): Record<string, unknown> {
  const item = Array.isArray(value) ? value[0] : value
  return typeof item === 'object' && item !== null ? item as Record<string, unknown> : {}
}

const SEX_CODES: Record<string, Sex> = { M: 'MALE', F: 'FEMALE', O: 'OTHER' }

/** 'YYYY-MM-DDTHH:MM[:SS]' from DA and TM (HHMMSS.FFFFFF, HHMM, HH, or the old HH:MM:SS). */
function dateTime (da: string | undefined, tm: string | undefined): string | undefined {
  if (da === undefined || !validDa(da)) return undefined
  const day = `${da.slice(0, 4)}-${da.slice(4, 6)}-${da.slice(6, 8)}`
  const time = tm?.replace(/:/g, '').split('.')[0]
  if (time === undefined || !/^\d{2}(\d{2}(\d{2})?)?$/.test(time)) return day
  return `${day}T${time.slice(0, 2)}:${time.length >= 4 ? time.slice(2, 4) : '00'}${time.length === 6 ? ':' + time.slice(4, 6) : ''}`
}

/** A worklist answer (a naturalized dcmjs dataset) as an entry, with what it lacks and what is unusable. */
export function entryFromDataset (elements: Record<string, unknown>): WorklistEntry {
  const step = firstItem(elements.ScheduledProcedureStepSequence)
  const problems: string[] = []
  const birth = text(elements.PatientBirthDate)
  const birthDate = birth !== undefined && validDa(birth) ? `${birth.slice(0, 4)}-${birth.slice(4, 6)}-${birth.slice(6, 8)}` : undefined
  if (birth !== undefined && birthDate === undefined) problems.push('the birth date is not a date (YYYYMMDD)')
  const sexCode = text(elements.PatientSex)
  const sex = sexCode !== undefined ? SEX_CODES[sexCode.toUpperCase()] : undefined
  if (sexCode !== undefined && sex === undefined) problems.push('the sex is none of M, F, O')
  const uid = text(elements.StudyInstanceUID)
  const studyInstanceUid = uid !== undefined && isValidUid(uid) ? uid : undefined
  if (uid !== undefined && studyInstanceUid === undefined) problems.push('the study instance UID is not a valid DICOM UID')
  const accession = text(elements.AccessionNumber)
  if (accession !== undefined && accession.length > 16) problems.push('the accession number is longer than 16 characters')
  const values: Omit<WorklistEntry, 'missing' | 'problems'> = {
    patientId: text(elements.PatientID),
    patientName: personName(elements.PatientName),
    birthDate,
    sex,
    accessionNumber: accession !== undefined && accession.length <= 16 ? accession : undefined,
    requestedProcedureId: text(elements.RequestedProcedureID),
    requestedProcedureDescription: text(elements.RequestedProcedureDescription) ?? text(step.ScheduledProcedureStepDescription),
    studyInstanceUid,
    scheduledStart: dateTime(text(step.ScheduledProcedureStepStartDate), text(step.ScheduledProcedureStepStartTime)),
    modality: text(step.Modality),
    stationAeTitle: text(step.ScheduledStationAETitle),
    scheduledProcedureStepId: text(step.ScheduledProcedureStepID)
  }
  const entry: WorklistEntry = { missing: [], problems }
  for (const field of WORKLIST_ENTRY_FIELDS) {
    const value = values[field]
    if (value === undefined) entry.missing.push(field)
    else (entry as unknown as Record<string, unknown>)[field] = value
  }
  return entry
}

// ---- asking the provider -----------------------------------------------------------------------

// PS3.8 9.3.4: A-ASSOCIATE-RJ source:reason
const REJECT_REASONS: Record<string, string> = {
  '1:1': 'no reason given',
  '1:2': 'the application context is not supported',
  '1:3': 'the calling AE title is not recognised (the provider must know this lab\'s calling AE title)',
  '1:7': 'the called AE title is not recognised',
  '2:1': 'no reason given',
  '2:2': 'the protocol version is not supported',
  '3:1': 'temporary congestion',
  '3:2': 'a local limit was exceeded'
}

function networkMessage (err: unknown, provider: WorklistProvider): string {
  const error = err as NodeJS.ErrnoException | undefined
  const where = `${provider.host}:${provider.port}`
  // dcmjs-dimse hands the socket's error on as ' -> Connection error: <message>', without its code
  const detail = (error?.message ?? String(err)).replace(/^\s*->\s*/, '')
  const code = error?.code ?? /\b(E[A-Z_]+)\b/.exec(detail)?.[1]
  if (code === 'ECONNREFUSED') return `cannot reach the worklist provider at ${where}: connection refused (is it running, and is the port right?)`
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return `cannot reach the worklist provider: the host name ${provider.host} is not known`
  if (code === 'ETIMEDOUT' || /timeout|timed out/i.test(detail)) return `the worklist provider at ${where} did not answer in time`
  return `the connection to the worklist provider at ${where} failed: ${detail}`
}

/** C-FIND failure statuses (PS3.4 C.4.1.1.4, K.4.1.1.4) in words. */
function findStatusMessage (status: number, comment: string): string {
  const why = status === 0xA700
    ? 'it is out of resources'
    : status === 0xA900
      ? 'the query does not match the worklist information model'
      : status === 0xFE00
        ? 'the query was cancelled'
        : status === 0x0122
          ? 'it does not support the Modality Worklist C-FIND'
          : (status & 0xF000) === 0xC000 ? 'it is unable to process the query' : `status 0x${status.toString(16).padStart(4, '0')}`
  return `the worklist provider refused the query: ${why}${comment !== '' ? ` (${comment})` : ''}`
}

/** The C-FIND identifier: the keys matched on (date, modality, station, accession) and every field asked back empty. */
export function worklistIdentifier (query: WorklistQuery): Record<string, unknown> {
  const date = query.dateFrom === undefined ? '' : query.dateTo !== undefined && query.dateTo !== query.dateFrom ? `${query.dateFrom}-${query.dateTo}` : query.dateFrom
  return {
    PatientID: '',
    PatientName: '',
    PatientBirthDate: '',
    PatientSex: '',
    AccessionNumber: query.accessionNumber ?? '',
    RequestedProcedureID: '',
    RequestedProcedureDescription: '',
    StudyInstanceUID: '',
    ScheduledProcedureStepSequence: [{
      ScheduledStationAETitle: query.station ?? '',
      ScheduledProcedureStepStartDate: date,
      ScheduledProcedureStepStartTime: '',
      Modality: query.modality ?? '',
      ScheduledProcedureStepDescription: '',
      ScheduledProcedureStepID: ''
    }]
  }
}

/** Asks the provider for the scheduled procedure steps matching the query. */
export async function queryWorklist (provider: WorklistProvider, query: WorklistQuery, timeouts: WorklistTimeouts = DEFAULT_WORKLIST_TIMEOUTS): Promise<WorklistAnswer> {
  const calling = checkAeTitle(provider.callingAeTitle ?? DEFAULT_CALLING_AE_TITLE, 'the calling AE title')
  const called = checkAeTitle(provider.aeTitle, 'the provider\'s AE title')
  const { promise, resolve, reject } = Promise.withResolvers<WorklistAnswer>()
  const entries: WorklistEntry[] = []
  let truncated = false
  let outcome: { error: string } | { done: true } | undefined
  const settle = (value: { error: string } | { done: true }): void => { outcome ??= value }

  const client = new Client()
  const request = requests.CFindRequest.createWorklistFindRequest({})
  // createWorklistFindRequest asks back dozens of attributes; ours are the ones the lab uses
  request.setDataset(new dimse.Dataset(worklistIdentifier(query)))
  request.on('response', (response) => {
    const status = response.getStatus()
    if (status === constants.Status.Pending || status === 0xFF01) {
      const dataset = response.hasDataset() ? response.getDataset() : undefined
      if (dataset === undefined) return
      if (entries.length >= MAX_WORKLIST_ANSWERS) {
        truncated = true
        return
      }
      try {
        entries.push(entryFromDataset(dataset.getElements()))
      } catch (err) {
        // an answer that cannot even be read is still shown, as missing everything
        entries.push({ missing: [...WORKLIST_ENTRY_FIELDS], problems: [`the answer could not be read: ${(err as Error).message}`] })
      }
    } else if (status === constants.Status.Success) {
      settle({ done: true })
    } else {
      settle({ error: findStatusMessage(status, response.getErrorComment?.() ?? '') })
    }
  })
  client.addRequest(request)
  client.on('associationRejected', (rejection: { result: number, source: number, reason: number }) => {
    const reason = REJECT_REASONS[`${rejection.source}:${rejection.reason}`] ?? `reason ${rejection.reason} from source ${rejection.source}`
    const hint = rejection.source === 1 && rejection.reason === 7 ? ` (is "${called}" the provider's AE title?)` : ''
    settle({ error: `the worklist provider ${called} at ${provider.host}:${provider.port} rejected the association: ${reason}${hint}` })
  })
  client.on('networkError', (err: Error) => { settle({ error: networkMessage(err, provider) }) })
  client.on('closed', () => {
    if (outcome === undefined) settle({ error: `the worklist provider at ${provider.host}:${provider.port} ended the association before answering the query (does it offer the Modality Worklist C-FIND to "${calling}"?)` })
    if ('error' in outcome!) reject(new WorklistError(outcome.error))
    else resolve({ entries, truncated })
  })
  try {
    client.send(provider.host, provider.port, calling, called, {
      connectTimeout: timeouts.connectMs,
      associationTimeout: timeouts.associationMs,
      pduTimeout: timeouts.associationMs,
      associationLingerTimeout: 0
    })
  } catch (err) {
    throw new WorklistError(networkMessage(err, provider))
  }
  return await promise
}
