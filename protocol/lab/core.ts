// What every collection shares: reaching documents through the DocSource, writing in one
// transaction per document with its audit entries, and finding which patient document holds an
// exam, workflow, task or result.
import type * as Y from 'yjs'
import { appendAudit, auditLabel, auditedChanges } from './audit.ts'
import type { AuditAction, AuditDetails } from './audit.ts'
import type { DocSource } from './doc-source.ts'
import { collectionOf, deleteEntity, hasEntity, insertEntity, patchEntity } from './entity-map.ts'
import { LabSchemaError, LabValidationError } from './errors.ts'
import { LAB_DOC_ID, META, PATIENT_COLLECTIONS, patientDocId, patientIdOfDoc } from './schema.ts'
import type { Actor, EntityKind, PatientCollectionName, Stamps } from './schema.ts'
import { MIGRATIONS, checkSchema, newerSchemaMessage, prepareForWrite, schemaVersionOf, stampSchemaVersion } from './schema-version.ts'
import type { Migration } from './schema-version.ts'
import { validateActor } from './validate.ts'

/** The handle a write gets: every change through it is audited in the same transaction. */
export interface Writer {
  readonly doc: Y.Doc
  readonly docId: string
  /** ISO time of this write, the same for all its changes. */
  readonly at: string
  readonly actor: Actor
  /** Inserts an entity and audits 'create'. */
  create (entity: EntityKind, collection: string, id: string, fields: Record<string, unknown>): void
  /**
   * Writes the changed fields (null deletes) and audits 'update' with their names; with `stamp`,
   * also updatedAt/updatedBy when anything changed. Returns the changed fields.
   */
  update (entity: EntityKind, collection: string, id: string, changes: Record<string, unknown>, stamp?: boolean): string[]
  /** Deletes an entity and audits 'delete'. */
  remove (entity: EntityKind, collection: string, id: string): boolean
  /** Appends an audit entry for a change made directly on the document. */
  audit (action: AuditAction, entity: EntityKind, entityId: string, fields?: string[], details?: AuditDetails): void
}

/** createdAt/updatedAt/createdBy/updatedBy of an entity created by this write. */
export function stampsOf (w: Writer): Stamps {
  return { createdAt: w.at, updatedAt: w.at, createdBy: w.actor.name, updatedBy: w.actor.name }
}

export class LabCore {
  readonly source: DocSource
  readonly now: () => Date
  readonly migrations: readonly Migration[]
  /** Told of every document a write opens, so change listeners can watch it before it changes. */
  onOpen: ((docId: string, doc: Y.Doc) => void) | undefined
  /** `${collection}/${id}` → patient id; a cache, checked on every hit and rebuilt on a miss. */
  private readonly index = new Map<string, string>()

  constructor (source: DocSource, now: () => Date = () => new Date(), migrations: readonly Migration[] = MIGRATIONS) {
    this.source = source
    this.now = now
    this.migrations = migrations
    this.onOpen = undefined
  }

  labDoc (): Y.Doc {
    return this.source.get(LAB_DOC_ID)
  }

  /** The document if this peer holds it, without creating it. */
  held (docId: string): Y.Doc | undefined {
    return this.source.ids().includes(docId) ? this.source.get(docId) : undefined
  }

  patientDoc (patientId: string): Y.Doc | undefined {
    return this.held(patientDocId(patientId))
  }

  heldPatientDocs (): Array<{ patientId: string, doc: Y.Doc }> {
    const docs: Array<{ patientId: string, doc: Y.Doc }> = []
    for (const docId of this.source.ids()) {
      const patientId = patientIdOfDoc(docId)
      if (patientId !== undefined) docs.push({ patientId, doc: this.source.get(docId) })
    }
    return docs
  }

  newId (given: string | undefined): string {
    return given ?? crypto.randomUUID()
  }

  /** Throws LabSchemaError if a write to this document would be refused, without writing anything. */
  assertWritable (docId: string): void {
    const doc = this.held(docId)
    if (doc !== undefined && checkSchema(doc) === 'newer') {
      throw new LabSchemaError(newerSchemaMessage(docId, schemaVersionOf(doc)))
    }
  }

  /**
   * Runs `fn` in one transaction on the document, with `actor` as its origin. The document's schema
   * is checked first (newer: refused untouched; older: migrated). `fn` must check everything before
   * it changes anything: Yjs cannot roll a transaction back.
   */
  write<T> (docId: string, actor: Actor, fn: (w: Writer) => T): T {
    const checked = validateActor(actor)
    if (!checked.ok) throw new LabValidationError(checked.error)
    const who = checked.value
    const doc = this.source.get(docId)
    this.onOpen?.(docId, doc)
    prepareForWrite(doc, docId, this.migrations, actor)
    const at = this.now().toISOString()
    let changed = false
    const audit = (action: AuditAction, entity: EntityKind, entityId: string, fields?: string[], details: AuditDetails = {}): void => {
      changed = true
      appendAudit(doc, { at, actor: who.name, peerId: who.peerId, action, entity, entityId, fields, ...details })
    }
    // the entity's name and exam, so that its history reads in words even after it is deleted
    const context = (entity: EntityKind, id: string, read: (field: string) => unknown): AuditDetails => {
      const details: AuditDetails = {}
      const label = auditLabel(entity, read('name'))
      if (label !== undefined) details.label = label
      const examId = entity === 'exam' ? id : entity === 'result' ? collectionOf(doc, 'tasks').get(String(read('taskId')))?.get('examId') : read('examId')
      if (typeof examId === 'string') details.examId = examId
      return details
    }
    const w: Writer = {
      doc,
      docId,
      at,
      actor: who,
      create (entity, collection, id, fields) {
        insertEntity(collectionOf(doc, collection), id, fields)
        audit('create', entity, id, undefined, context(entity, id, (f) => fields[f]))
      },
      update (entity, collection, id, changes, stamp = false) {
        const map = collectionOf(doc, collection)
        const before = map.get(id)?.toJSON() ?? {}
        const fields = patchEntity(map, id, changes)
        if (fields.length > 0) {
          if (stamp) patchEntity(map, id, { updatedAt: at, updatedBy: who.name })
          const after = map.get(id)?.toJSON() ?? {}
          const values = auditedChanges(entity, fields, (f) => before[f], (f) => after[f])
          audit('update', entity, id, fields, { ...context(entity, id, (f) => after[f]), ...(values.length > 0 ? { changes: values } : {}) })
        }
        return fields
      },
      remove (entity, collection, id) {
        const gone = collectionOf(doc, collection).get(id)?.toJSON() ?? {}
        if (!deleteEntity(collectionOf(doc, collection), id)) return false
        audit('delete', entity, id, undefined, context(entity, id, (f) => gone[f]))
        return true
      },
      audit
    }
    let result: T | undefined
    doc.transact(() => {
      result = fn(w)
      if (changed) {
        stampSchemaVersion(doc)
        const patientId = patientIdOfDoc(docId)
        const meta = doc.getMap(META)
        if (patientId !== undefined && meta.get('patientId') === undefined) meta.set('patientId', patientId)
      }
    }, actor)
    return result as T
  }

  /** The patient whose document holds this exam/workflow/task/result, if this peer holds it. */
  locate (collection: PatientCollectionName, id: string): string | undefined {
    const key = `${collection}/${id}`
    const known = this.index.get(key)
    if (known !== undefined) {
      const doc = this.patientDoc(known)
      if (doc !== undefined && hasEntity(collectionOf(doc, collection), id)) return known
    }
    this.reindex()
    return this.index.get(key)
  }

  remember (collection: PatientCollectionName, id: string, patientId: string): void {
    this.index.set(`${collection}/${id}`, patientId)
  }

  private reindex (): void {
    this.index.clear()
    for (const { patientId, doc } of this.heldPatientDocs()) {
      for (const name of PATIENT_COLLECTIONS) {
        for (const id of collectionOf(doc, name).keys()) this.index.set(`${name}/${id}`, patientId)
      }
    }
  }
}
