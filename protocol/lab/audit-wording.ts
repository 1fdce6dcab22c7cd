// The audit log in words, for the history of a patient or an exam and for the lab's audit page:
// "Ada Lovelace changed the patient's weight from 70 to 72 kg on Scanner console", "started the task
// "T1 GRE"". Which entries belong to a patient or an exam, and the filters of the audit page, are
// here too, so that the app and the tests read the log the same way.
import type * as Y from 'yjs'
import { listPeerRecords } from '../peers.ts'
import type { AuditChange, AuditEntry, AuditRecord, AuditValue } from './audit.ts'
import { MEMBERS_MAP } from './members.ts'
import { LAB_DOC_ID, patientDocId } from './schema.ts'
import type { EntityKind } from './schema.ts'

/** How the wording finds names: users by username, peers by peer id, entities by id (all may not know). */
export interface AuditNames {
  /** "Ada Lovelace" for `ada`. */
  user?: (username: string) => string | undefined
  /** "Scanner console" for a peer id. */
  peer?: (peerId: string) => string | undefined
  /** The current name of an entity, for entries written before entries kept it. */
  entity?: (entity: EntityKind, id: string) => string | undefined
}

/** One entry as a line of a history. */
export interface AuditLine {
  at: string
  /** The user's name, or the peer's for a service acting on its own. */
  who: string
  /** What was done, without who: "changed the patient's weight from 70 to 72 kg". */
  what: string
  /** The peer the change was made on, by name. */
  device: string
  /** who + what + device, one sentence. */
  sentence: string
}

const ENTITY_WORDS: Record<EntityKind, string> = {
  lab: 'the lab',
  patient: 'the patient',
  exam: 'the exam',
  workflow: 'the workflow',
  task: 'the task',
  result: 'a result',
  sequence: 'the sequence',
  device: 'the device',
  user: 'the user',
  examTemplate: 'the exam template',
  workflowTemplate: 'the workflow template',
  taskTemplate: 'the task template',
  destination: 'the PACS destination'
}

const FIELD_WORDS: Record<string, { word: string, unit?: string }> = {
  firstName: { word: 'first name' },
  lastName: { word: 'last name' },
  birthDate: { word: 'birth date' },
  heightCm: { word: 'height', unit: 'cm' },
  weightKg: { word: 'weight', unit: 'kg' },
  mrn: { word: 'patient ID' },
  accessionNumber: { word: 'accession number' },
  studyInstanceUid: { word: 'study UID' },
  autoExportDestinationIds: { word: 'automatic sending' },
  fieldStrengthT: { word: 'field strength', unit: 'T' },
  position: { word: 'order' },
  labName: { word: 'name' },
  passwordHash: { word: 'password' },
  aeTitle: { word: 'AE title' },
  callingAeTitle: { word: 'calling AE title' },
  url: { word: 'URL' }
}

/** The words of a field: its entry in FIELD_WORDS, else its camelCase name split ("inputTaskId" → "input task id"). */
export function fieldWord (field: string): string {
  return FIELD_WORDS[field]?.word ?? field.replace(/([a-z0-9])([A-Z])/g, '$1 $2').toLowerCase()
}

function valueWords (field: string, value: AuditValue): string {
  const unit = FIELD_WORDS[field]?.unit
  if (typeof value === 'string') return field === 'sex' || field === 'status' || field === 'role' || field === 'type' ? value.toLowerCase().replace(/_/g, ' ') : `"${value}"`
  return unit === undefined ? String(value) : `${value} ${unit}`
}

function changeWords (change: AuditChange): string {
  const word = fieldWord(change.field)
  const unit = FIELD_WORDS[change.field]?.unit
  if (change.from === undefined && change.to === undefined) return word
  if (change.to === undefined) return `${word} (removed ${valueWords(change.field, change.from as AuditValue)})`
  if (change.from === undefined) return `${word} to ${valueWords(change.field, change.to)}`
  // "from 70 to 72 kg": the unit once, after both numbers
  if (unit !== undefined && typeof change.from === 'number' && typeof change.to === 'number') return `${word} from ${change.from} to ${change.to} ${unit}`
  return `${word} from ${valueWords(change.field, change.from)} to ${valueWords(change.field, change.to)}`
}

/** "a", "a and b", "a, b and c" */
export function listWords (items: string[]): string {
  if (items.length <= 1) return items.join('')
  return `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]}`
}

/** What a task's new status means, as a verb. */
const STATUS_VERBS: Record<string, string> = {
  STARTED: 'started',
  INPROGRESS: 'ran',
  FINISHED: 'finished',
  CANCELLED: 'stopped',
  ERROR: 'reported a failure of',
  NEW: 'reset'
}

function subject (entry: AuditEntry, names: AuditNames): string {
  const label = entry.label ?? names.entity?.(entry.entity, entry.entityId)
  const kind = ENTITY_WORDS[entry.entity] ?? `the ${entry.entity}`
  if (entry.entity === 'user') return `the user ${entry.entityId}`
  return label === undefined ? kind : `${kind} "${label}"`
}

/** What the entry did, in words, without who and where. */
export function auditWhat (entry: AuditEntry, names: AuditNames = {}): string {
  const thing = subject(entry, names)
  switch (entry.action) {
    case 'create':
      return `created ${thing}`
    case 'delete':
      return `deleted ${thing}`
    case 'refuse':
      return `sent a change to ${entry.entity === 'lab' ? 'the lab' : 'this patient\'s records'} that was refused${entry.detail === undefined ? '' : `: ${entry.detail}`}`
    case 'update': {
      const status = entry.entity === 'task' ? entry.changes?.find((c) => c.field === 'status') : undefined
      const verb = status?.to === undefined ? undefined : STATUS_VERBS[String(status.to)]
      if (verb !== undefined) return `${verb} ${thing}`
      const fields = entry.fields ?? []
      if (fields.length === 0) return `changed ${thing}`
      // the hub notes a login on the user's record: for a person, that is what happened
      if (entry.entity === 'user' && fields.includes('lastLoginAt') && fields.every((f) => f === 'lastLoginAt' || f === 'lastActivityAt')) {
        return entry.actor === entry.entityId ? 'logged in' : `noted a login of ${thing}`
      }
      const byField = new Map((entry.changes ?? []).map((c) => [c.field, c]))
      const name = byField.get('name')
      if (fields.length === 1 && name?.from !== undefined && name.to !== undefined) {
        return `renamed ${ENTITY_WORDS[entry.entity] ?? `the ${entry.entity}`} ${valueWords('name', name.from)} to ${valueWords('name', name.to)}`
      }
      const parts = fields.map((f) => changeWords(byField.get(f) ?? { field: f }))
      // "the patient's weight"; for named things "the task "T1": its name" reads better than a possessive
      return entry.entity === 'patient' || entry.entity === 'lab' ? `changed ${thing}'s ${listWords(parts)}` : `changed ${thing}: ${listWords(parts)}`
    }
  }
}

function shortId (id: string): string {
  return id.length > 12 ? `…${id.slice(-8)}` : id
}

/** Actors that are no user: the REST API with the peer's key, and the hub's command line. */
const NON_USER_ACTORS: Record<string, string> = {
  'api-key': 'A program with the API key',
  operator: 'The hub\'s operator (command line)'
}

/** The entry as a line: who, what, on which device, when. */
export function describeAudit (entry: AuditEntry, names: AuditNames = {}): AuditLine {
  const device = names.peer?.(entry.peerId) ?? `an unknown device (${shortId(entry.peerId)})`
  const service = entry.actor.startsWith('peer:')
  // a service acts as `peer:<its peer id>` (some as `peer:<its name>`, which is shown as it is)
  const serviceId = entry.actor.slice(5)
  const who = service
    ? (names.peer?.(serviceId) ?? (serviceId.length <= 12 ? serviceId : `a device (${shortId(serviceId)})`))
    : (names.user?.(entry.actor) ?? NON_USER_ACTORS[entry.actor] ?? entry.actor)
  const what = auditWhat(entry, names)
  const sentence = service ? `${who} ${what}` : `${who} ${what} on ${device}`
  return { at: entry.at, who, what, device, sentence }
}

/**
 * The names of the lab's peers by peer id, from the lab document: the peers that announce an address
 * (hubs, scanners, reconstruction peers) and the members' records (tablets and browsers included).
 * Names are for reading only: membership is judged elsewhere (members.ts).
 */
export function labPeerNames (lab: Y.Doc): Map<string, string> {
  const names = new Map<string, string>()
  for (const [peerId, value] of lab.getMap<unknown>(MEMBERS_MAP)) {
    const body = (value as { body?: unknown } | undefined)?.body
    if (typeof body !== 'string') continue
    try {
      const record = JSON.parse(body) as { name?: unknown }
      if (typeof record.name === 'string' && record.name !== '') names.set(peerId, record.name)
    } catch {
      // a malformed record has no name to show
    }
  }
  for (const record of listPeerRecords(lab)) names.set(record.peerId, record.name)
  return names
}

/** Whether the entry is about this patient: the patient's record, or anything in the patient's document. */
export function isPatientEntry (record: AuditRecord, patientId: string): boolean {
  return record.docId === patientDocId(patientId) || (record.docId === LAB_DOC_ID && record.entity === 'patient' && record.entityId === patientId)
}

/**
 * Whether the entry is about this exam: the exam itself or what the entry says belongs to it. Older
 * entries do not say: `examOf` finds the exam of a workflow, task or result that still exists.
 */
export function isExamEntry (record: AuditRecord, examId: string, examOf?: (entity: EntityKind, id: string) => string | undefined): boolean {
  if (record.entity === 'exam' && record.entityId === examId) return true
  if (record.examId !== undefined) return record.examId === examId
  return examOf?.(record.entity, record.entityId) === examId
}

export interface AuditFilter {
  /** Username (or `peer:<id>`), exactly. */
  actor?: string
  patientId?: string
  /** Entries at or after this time (ISO). */
  from?: string
  /** Entries before this time (ISO). */
  to?: string
}

/** The records that pass every filter given, in their order. */
export function filterAudit (records: readonly AuditRecord[], filter: AuditFilter): AuditRecord[] {
  const from = filter.from === undefined ? -Infinity : Date.parse(filter.from)
  const to = filter.to === undefined ? Infinity : Date.parse(filter.to)
  return records.filter((r) => {
    if (filter.actor !== undefined && r.actor !== filter.actor) return false
    if (filter.patientId !== undefined && !isPatientEntry(r, filter.patientId)) return false
    const t = Date.parse(r.at)
    return t >= from && t < to
  })
}
