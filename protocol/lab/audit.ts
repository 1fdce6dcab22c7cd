// The audit log: every document keeps an append-only Y.Array of who changed what and when. Each
// entry is appended in the same transaction as the change it describes, so a peer that has the
// change has its entry too. Entries name fields, never their values: patient data stays out of it.
import type * as Y from 'yjs'
import { AUDIT } from './schema.ts'
import type { EntityKind } from './schema.ts'

/** `refuse`: a change a peer sent and this peer dropped (detail says why; actor and peerId name the sender). */
export type AuditAction = 'create' | 'update' | 'delete' | 'refuse'

export interface AuditEntry {
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
  auditLog(doc).push([stored])
}

function isEntry (value: unknown): value is AuditEntry {
  if (typeof value !== 'object' || value === null) return false
  const e = value as Record<string, unknown>
  return typeof e.at === 'string' && typeof e.actor === 'string' && typeof e.peerId === 'string' &&
    typeof e.action === 'string' && typeof e.entity === 'string' && typeof e.entityId === 'string' &&
    (e.fields === undefined || (Array.isArray(e.fields) && e.fields.every((f) => typeof f === 'string'))) &&
    (e.detail === undefined || typeof e.detail === 'string')
}

/** The entries of one document in log order, as copies. Malformed entries (from a faulty peer) are skipped. */
export function readAudit (doc: Y.Doc): AuditEntry[] {
  const entries: AuditEntry[] = []
  for (const value of auditLog(doc).toArray()) {
    if (!isEntry(value)) continue
    const entry: AuditEntry = { ...value }
    if (value.fields !== undefined) entry.fields = [...value.fields]
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
