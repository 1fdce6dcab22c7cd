// Which parts of the lab document a browser's user may change through sync, and what no peer may do to
// any document: rewrite its audit log. Sync moves whole Yjs updates, so checks finer than "may write at
// all" look at what an update would change: it is applied to a scratch copy of the document and the
// guarded parts are compared before and after.
import * as Y from 'yjs'
import type { Role } from '../../protocol/lab/index.ts'
import { AUDIT } from '../../protocol/lab/schema.ts'

/** Collections of the lab document, each writable through sync by some roles only. */
const GUARDED = ['users', 'devices', 'peers', 'members', 'revocations', 'meta', 'sequences', 'examTemplates', 'workflowTemplates', 'taskTemplates', 'patients', 'destinations'] as const
type Guarded = typeof GUARDED[number]

/**
 * Which roles may change a collection of the lab document through sync (as in ScanHub: admin —
 * everything; medical — patients and their exams; scientist — as medical, plus sequences and
 * templates; engineer — devices and sequences, reading patients; viewer — reading only). Users change
 * only through the hub's API, which hashes passwords; peers only by the peers themselves.
 */
const ALLOWED: Record<Guarded, readonly Role[]> = {
  users: [],
  peers: [],
  // signed by admin hubs only (protocol/lab/members.ts); a browser pairs through a hub's API
  members: [],
  revocations: [],
  meta: ['admin'],
  devices: ['admin', 'engineer'],
  sequences: ['admin', 'scientist', 'engineer'],
  examTemplates: ['admin', 'scientist'],
  workflowTemplates: ['admin', 'scientist'],
  taskTemplates: ['admin', 'scientist'],
  patients: ['admin', 'medical', 'scientist'],
  // where the lab's images go outside the lab: chosen by those who run its systems
  destinations: ['admin', 'engineer']
}

/** Which roles may change a guarded collection of the lab document, through sync or the REST API. */
export function rolesAllowedToChange (collection: Guarded): readonly Role[] {
  return ALLOWED[collection]
}

/** Who may change a patient's document (exams, workflows, tasks, results; running and stopping tasks). */
const PATIENT_WRITERS: readonly Role[] = ['admin', 'medical', 'scientist']
/** Who may delete a patient. */
const PATIENT_DELETERS: readonly Role[] = ['admin', 'medical']

/**
 * A document as it would be after an update, for the checks to compare with the document as it is. The
 * copy is made once, when a check first asks for it, and shared by every check of the same update.
 */
export class UpdatePreview {
  private scratch: Y.Doc | undefined

  constructor (readonly doc: Y.Doc, readonly update: Uint8Array) {}

  get after (): Y.Doc {
    if (this.scratch === undefined) {
      const scratch = new Y.Doc()
      Y.applyUpdate(scratch, Y.encodeStateAsUpdate(this.doc))
      Y.applyUpdate(scratch, this.update)
      this.scratch = scratch
    }
    return this.scratch
  }

  dispose (): void {
    this.scratch?.destroy()
    this.scratch = undefined
  }
}

/** JSON with every object's keys in sorted order, so that equal values give equal text. */
function canonicalJson (value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => typeof v === 'object' && v !== null && !Array.isArray(v)
    ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => a < b ? -1 : a > b ? 1 : 0))
    : v)
}

/** The guarded collections of the lab document the update would change, and how many patients it would delete. */
function labChanges (preview: UpdatePreview, ownPeerId?: string): { changed: Guarded[], deletedPatients: number } {
  // keys sorted: a document rebuilt from its state lists a map's keys in another order than the live one
  const json = (doc: Y.Doc, name: Guarded): string => canonicalJson(doc.getMap(name).toJSON())
  const after = preview.after
  const patientsAfter = after.getMap('patients')
  // every peer keeps its own entry of the lab's peers (its addresses) up to date
  const ownPeerOnly = ownPeerId !== undefined && (() => {
    const { added, removed, changed } = entryChanges(preview, 'peers')
    return removed.length === 0 && [...added, ...changed].every((key) => key === ownPeerId)
  })()
  return {
    changed: GUARDED.filter((name) => !(name === 'peers' && ownPeerOnly) && json(preview.doc, name) !== json(after, name)),
    deletedPatients: [...preview.doc.getMap('patients').keys()].filter((id) => !patientsAfter.has(id)).length
  }
}

/**
 * Why the update would rewrite the document's audit log, or undefined when it only adds to it. The
 * audit log is append-only for everyone: entries may be added, never removed or changed. Entries
 * appended by two peers while apart merge in Yjs's order, so one peer's may land before the other's:
 * what must hold is that every existing entry is still there, unchanged and in its order. Asked for
 * every update of every peer.
 */
export function auditRewrite (preview: UpdatePreview): string | undefined {
  const before = preview.doc.getArray(AUDIT).toJSON().map((entry) => JSON.stringify(entry))
  if (before.length === 0) return undefined
  const after = preview.after.getArray(AUDIT).toJSON().map((entry) => JSON.stringify(entry))
  // every entry of before, in order, among the entries of after
  let kept = 0
  for (const entry of after) if (kept < before.length && entry === before[kept]) kept++
  if (kept < before.length) {
    return `it would remove or change entry ${kept} of the ${before.length} entries of the audit log, which is append-only`
  }
  return undefined
}

/**
 * Why a user with this role may not apply the update to the document, or undefined if they may: the
 * lab document's collections by ALLOWED, a patient's document by PATIENT_WRITERS, deleting a patient
 * by PATIENT_DELETERS.
 */
export function refusalFor (role: Role, docId: string, preview: UpdatePreview, ownPeerId?: string): string | undefined {
  if (role === 'viewer') return 'viewers cannot change anything'
  if (docId !== 'lab') {
    return PATIENT_WRITERS.includes(role) ? undefined : `a ${role} may read patients' exams but not change them`
  }
  const { changed, deletedPatients } = labChanges(preview, ownPeerId)
  const refused = changed.filter((name) => !ALLOWED[name].includes(role))
  if (refused.length > 0) {
    return `a ${role} may not change ${refused.join(', ')} of the lab document${refused.includes('users') ? ' (users change through the hub\'s user API)' : ''}`
  }
  if (deletedPatients > 0 && !PATIENT_DELETERS.includes(role)) return `a ${role} may not delete patients`
  return undefined
}

/** Fields of a task a scanner or recon peer sets while it runs it (see milestones in patient-collections.ts). */
const TASK_RUN_FIELDS = new Set(['status', 'startedAt', 'startedBy', 'finishedAt', 'error', 'run', 'inputRun', 'updatedAt', 'updatedBy'])

interface EntryChanges { added: string[], removed: string[], changed: string[] }

/** Which entries of a top-level map of the document the update adds, removes or changes. */
function entryChanges (preview: UpdatePreview, name: string): EntryChanges {
  const before = mapJson(preview.doc, name)
  const after = mapJson(preview.after, name)
  const out: EntryChanges = { added: [], removed: [], changed: [] }
  for (const key of Object.keys(after)) {
    if (!(key in before)) out.added.push(key)
    else if (canonicalJson(before[key]) !== canonicalJson(after[key])) out.changed.push(key)
  }
  for (const key of Object.keys(before)) if (!(key in after)) out.removed.push(key)
  return out
}

function mapJson (doc: Y.Doc, name: string): Record<string, unknown> {
  const type = doc.share.get(name)
  if (type === undefined) return {}
  return type instanceof Y.Map ? type.toJSON() as Record<string, unknown> : doc.getMap(name).toJSON() as Record<string, unknown>
}

/** Names of the document's top-level types other than the audit log, on either side of the update. */
function topLevelNames (preview: UpdatePreview): string[] {
  return [...new Set([...preview.doc.share.keys(), ...preview.after.share.keys()])].filter((name) => name !== AUDIT)
}

/**
 * Why a scanner or recon peer may not apply the update, or undefined if it may. Such a peer acts for no
 * user: it writes its own record of the lab's peers, the devices it drives (a scanner), and the run
 * state and results of tasks (a scanner runs acquisitions and hands out their reconstructions; a recon
 * peer reconstructs). Anything else — patients, exams, users, members, sequences, templates, deleting
 * anything — is refused, whoever holds its key.
 */
export function refusalForDevicePeer (kind: 'scanner' | 'recon', peerId: string, docId: string, preview: UpdatePreview): string | undefined {
  for (const name of topLevelNames(preview)) {
    const { added, removed, changed } = entryChanges(preview, name)
    if (added.length + removed.length + changed.length === 0) continue
    if (removed.length > 0) return `a ${kind} peer may not delete ${name}`
    // stamping the schema version is part of any write (protocol/lab/schema-version.ts)
    if (name === 'meta' && [...added, ...changed].every((key) => key === 'schemaVersion')) continue
    if (docId === 'lab') {
      if (name === 'peers' && [...added, ...changed].every((key) => key === peerId)) continue
      if (name === 'devices' && kind === 'scanner') {
        const after = mapJson(preview.after, name)
        const before = mapJson(preview.doc, name)
        const foreign = [...added, ...changed].filter((id) => (after[id] as { peerId?: unknown } | undefined)?.peerId !== peerId ||
          (id in before && (before[id] as { peerId?: unknown }).peerId !== peerId))
        if (foreign.length === 0) continue
        return 'a scanner peer may change only the devices it drives'
      }
      return `a ${kind} peer may not change ${name} of the lab document`
    }
    if (name === 'results') {
      if (changed.length > 0) return `a ${kind} peer may add results but not change them`
      continue
    }
    if (name === 'tasks' && added.length === 0) {
      const before = mapJson(preview.doc, name)
      const after = mapJson(preview.after, name)
      for (const id of changed) {
        const was = before[id] as Record<string, unknown>
        const now = after[id] as Record<string, unknown>
        if (kind === 'recon' && was.type === 'ACQUISITION') return 'a recon peer may not change acquisitions'
        const fields = [...new Set([...Object.keys(was), ...Object.keys(now)])].filter((f) => canonicalJson(was[f]) !== canonicalJson(now[f]))
        const other = fields.filter((f) => !TASK_RUN_FIELDS.has(f))
        if (other.length > 0) return `a ${kind} peer may change a task's run state only, not ${other.join(', ')}`
      }
      continue
    }
    return `a ${kind} peer may not change ${name} of a patient's document`
  }
  return undefined
}
