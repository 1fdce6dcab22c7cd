// The audit log: every document keeps an append-only Y.Array of who changed what and when. Each
// entry is appended in the same transaction as the change it describes, so a peer that has the
// change has its entry too. Entries name the fields that changed; the values before and after are
// kept only for the fields in AUDITED_VALUES, which say nothing of who a patient is (a patient's
// height and weight, the inputs of the scanner's safety limits, but never a name, birth date, ID or
// free text): the log outlives deleted records, and a name in it would outlive the patient's.
import type * as Y from 'yjs'
import { AUDIT } from './schema.ts'
import type { EntityKind } from './schema.ts'

/** `refuse`: a change a peer sent and this peer dropped (detail says why; actor and peerId name the sender). */
export type AuditAction = 'create' | 'update' | 'delete' | 'refuse'

/** A value kept in an audit entry: a scalar, shortened to AUDIT_TEXT_MAX characters. */
export type AuditValue = string | number | boolean

/** One field of an update with its value before and after (absent: the field was not set). */
export interface AuditChange {
  field: string
  from?: AuditValue
  to?: AuditValue
}

export const AUDIT_TEXT_MAX = 120

/**
 * The fields whose values an entry keeps, by entity. Anything else is named, never copied: names,
 * birth dates, IDs, descriptions, comments and indications may say who a patient is.
 */
export const AUDITED_VALUES: Partial<Record<EntityKind, readonly string[]>> = {
  patient: ['heightCm', 'weightKg', 'sex'],
  exam: ['name'],
  workflow: ['name'],
  task: ['name', 'status'],
  sequence: ['name', 'type'],
  device: ['name'],
  user: ['role'],
  examTemplate: ['name'],
  workflowTemplate: ['name'],
  taskTemplate: ['name'],
  destination: ['name']
}

/** Entities whose name an entry keeps as its label; a patient's name is never kept. */
const LABELLED: readonly EntityKind[] = ['exam', 'workflow', 'task', 'sequence', 'device', 'examTemplate', 'workflowTemplate', 'taskTemplate', 'destination']

/** What an entry may add to who/what/when: the entity's name, its exam, the values that changed. */
export interface AuditDetails {
  /** The entity's name when the change was made (never a patient's name). */
  label?: string
  /** The exam an exam, workflow, task or result belongs to, so an exam's history finds it after a delete. */
  examId?: string
  changes?: AuditChange[]
}

export interface AuditEntry extends AuditDetails {
  /** ISO 8601 wall-clock time of the peer that made the change. */
  at: string
  /** Username, or `peer:<peerId>` for a service acting on its own. */
  actor: string
  peerId: string
  action: AuditAction
  entity: EntityKind
  entityId: string
  /** For an update: the fields that changed. */
  fields?: string[]
  /** For a refusal: why, in words that name no patient data. */
  detail?: string
}

/** An entry together with the document it was read from. */
export interface AuditRecord extends AuditEntry {
  docId: string
}

export interface AuditQuery {
  /** Only entries at or after this time. */
  since?: string | Date
  /** Only the newest this many entries (after `since`). */
  limit?: number
}

export function auditLog (doc: Y.Doc): Y.Array<AuditEntry> {
  return doc.getArray<AuditEntry>(AUDIT)
}

/** Appends an entry; call it inside the transaction that makes the change. */
export function appendAudit (doc: Y.Doc, entry: AuditEntry): void {
  const stored: AuditEntry = {
    at: entry.at,
    actor: entry.actor,
    peerId: entry.peerId,
    action: entry.action,
    entity: entry.entity,
    entityId: entry.entityId
  }
  if (entry.fields !== undefined) stored.fields = [...entry.fields]
  if (entry.detail !== undefined) stored.detail = entry.detail
  if (entry.label !== undefined) stored.label = entry.label.slice(0, AUDIT_TEXT_MAX)
  if (entry.examId !== undefined) stored.examId = entry.examId
  if (entry.changes !== undefined && entry.changes.length > 0) stored.changes = entry.changes.map((c) => ({ ...c }))
  auditLog(doc).push([stored])
}

function auditValue (value: unknown): AuditValue | undefined {
  if (typeof value === 'string') return value.slice(0, AUDIT_TEXT_MAX)
  if (typeof value === 'number' && Number.isFinite(value)) return value
  if (typeof value === 'boolean') return value
  return undefined
}

/**
 * The values before and after of the changed fields that AUDITED_VALUES lets an entry keep.
 * `before` and `after` read one field of the entity.
 */
export function auditedChanges (entity: EntityKind, fields: readonly string[], before: (field: string) => unknown, after: (field: string) => unknown): AuditChange[] {
  const kept = AUDITED_VALUES[entity] ?? []
  const changes: AuditChange[] = []
  for (const field of fields) {
    if (!kept.includes(field)) continue
    const change: AuditChange = { field }
    const from = auditValue(before(field))
    const to = auditValue(after(field))
    if (from !== undefined) change.from = from
    if (to !== undefined) change.to = to
    changes.push(change)
  }
  return changes
}

/** The label an entry keeps for this entity (its name), or undefined for patients, users and the unnamed. */
export function auditLabel (entity: EntityKind, name: unknown): string | undefined {
  return LABELLED.includes(entity) && typeof name === 'string' && name !== '' ? name.slice(0, AUDIT_TEXT_MAX) : undefined
}

function isEntry (value: unknown): value is AuditEntry {
  if (typeof value !== 'object' || value === null) return false
  const e = value as Record<string, unknown>
  return typeof e.at === 'string' && typeof e.actor === 'string' && typeof e.peerId === 'string' &&
    typeof e.action === 'string' && typeof e.entity === 'string' && typeof e.entityId === 'string' &&
    (e.fields === undefined || (Array.isArray(e.fields) && e.fields.every((f) => typeof f === 'string'))) &&
    (e.detail === undefined || typeof e.detail === 'string') &&
    (e.label === undefined || typeof e.label === 'string') &&
    (e.examId === undefined || typeof e.examId === 'string') &&
    (e.changes === undefined || (Array.isArray(e.changes) && e.changes.every(isChange)))
}

function isChange (value: unknown): value is AuditChange {
  if (typeof value !== 'object' || value === null) return false
  const c = value as Record<string, unknown>
  const scalar = (v: unknown): boolean => v === undefined || typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean'
  return typeof c.field === 'string' && scalar(c.from) && scalar(c.to)
}

/** The entries of one document in log order, as copies. Malformed entries (from a faulty peer) are skipped. */
export function readAudit (doc: Y.Doc): AuditEntry[] {
  const entries: AuditEntry[] = []
  for (const value of auditLog(doc).toArray()) {
    if (!isEntry(value)) continue
    const entry: AuditEntry = { ...value }
    if (value.fields !== undefined) entry.fields = [...value.fields]
    if (value.changes !== undefined) entry.changes = value.changes.map((c) => ({ ...c }))
    entries.push(entry)
  }
  return entries
}

/**
 * Merges the logs of several documents, oldest first. Times come from each peer's own clock (an
 * offline lab has no NTP), so the order across peers is only as good as their clocks; ties keep
 * document and log order.
 */
export function mergeAudit (logs: Iterable<{ docId: string, entries: AuditEntry[] }>, query: AuditQuery = {}): AuditRecord[] {
  const since = query.since === undefined ? -Infinity : new Date(query.since).getTime()
  const keyed: Array<{ time: number, docId: string, index: number, record: AuditRecord }> = []
  for (const { docId, entries } of logs) {
    entries.forEach((entry, index) => {
      const time = Date.parse(entry.at)
      if (Number.isNaN(time) || time < since) return
      keyed.push({ time, docId, index, record: { ...entry, docId } })
    })
  }
  keyed.sort((a, b) => a.time - b.time || (a.docId < b.docId ? -1 : a.docId > b.docId ? 1 : 0) || a.index - b.index)
  const records = keyed.map((k) => k.record)
  if (query.limit === undefined) return records
  return query.limit <= 0 ? [] : records.slice(-query.limit)
}
