// Schema versions of the lab documents. Labs keep data for years and peers are upgraded one at a
// time, so every document says which schema it follows: a peer writes only documents of its own
// version, upgrades older ones through explicit migrations, and leaves newer ones untouched.
import type * as Y from 'yjs'
import { LabSchemaError } from './errors.ts'
import { META } from './schema.ts'

/** The schema this code reads and writes. */
export const SCHEMA_VERSION = 1

export type SchemaState = 'current' | 'newer' | 'older'

/** One step of the upgrade path. */
export interface Migration {
  /** The version this step upgrades from; the document is at `from + 1` after it. */
  from: number
  /** One line, for logs and the UI. */
  description: string
  /**
   * Rewrites the document, inside a transaction. Yjs cannot roll a transaction back, so check
   * everything before changing anything.
   */
  run (doc: Y.Doc): void
}

/** The upgrade path, in order. Empty while there is only version 1. */
export const MIGRATIONS: readonly Migration[] = []

/**
 * The version stored in the document's meta, or undefined if it has none. Version 1 is the first;
 * a document without one has not been written through this model yet (other modules, such as the
 * peer records, write to the lab document without stamping it), so it counts as current and gets
 * its version at the model's first write.
 */
export function schemaVersionOf (doc: Y.Doc): unknown {
  return doc.getMap(META).get('schemaVersion')
}

function isVersion (value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0
}

/**
 * How the document's schema compares with `understood` (this code's). A document without a
 * version is current. A version that is not a whole number is one this peer cannot understand,
 * so it counts as newer.
 */
export function checkSchema (doc: Y.Doc, understood: number = SCHEMA_VERSION): SchemaState {
  const version = schemaVersionOf(doc)
  if (version === undefined) return 'current'
  if (!isVersion(version) || version > understood) return 'newer'
  return version < understood ? 'older' : 'current'
}

export function newerSchemaMessage (docId: string, version: unknown, understood: number = SCHEMA_VERSION): string {
  return `document ${docId} has schema version ${String(version)}; this peer understands up to ${understood}: upgrade ScanHub`
}

export interface MigrateOptions {
  /** Used in error messages. */
  docId?: string
  migrations?: readonly Migration[]
  /** The version to reach; this code's by default. */
  target?: number
  /** The transaction origin, e.g. the actor whose write needed the upgrade. */
  origin?: unknown
}

/**
 * Upgrades an older document to `target` in one transaction and returns the version it is at.
 * Throws LabSchemaError, changing nothing, when the document is newer or a step is missing.
 */
export function migrate (doc: Y.Doc, options: MigrateOptions = {}): number {
  const docId = options.docId ?? doc.guid
  const migrations = options.migrations ?? MIGRATIONS
  const target = options.target ?? SCHEMA_VERSION
  const version = schemaVersionOf(doc)
  if (version === undefined) return target
  if (!isVersion(version) || version > target) throw new LabSchemaError(newerSchemaMessage(docId, version, target))
  if (version === target) return version
  const steps: Migration[] = []
  for (let from = version; from < target; from++) {
    const step = migrations.find((m) => m.from === from)
    if (step === undefined) {
      throw new LabSchemaError(`document ${docId} has schema version ${version} and this peer knows no migration from version ${from}`)
    }
    steps.push(step)
  }
  doc.transact(() => {
    for (const step of steps) step.run(doc)
    doc.getMap(META).set('schemaVersion', target)
  }, options.origin ?? null)
  return target
}

/**
 * Makes a document ready for a write of this code: throws LabSchemaError if it is newer (leaving it
 * untouched), migrates it if older.
 */
export function prepareForWrite (doc: Y.Doc, docId: string, migrations: readonly Migration[] = MIGRATIONS, origin?: unknown): void {
  const state = checkSchema(doc)
  if (state === 'newer') throw new LabSchemaError(newerSchemaMessage(docId, schemaVersionOf(doc)))
  if (state === 'older') migrate(doc, { docId, migrations, origin })
}

/** Gives a document its schema version if it has none; part of the first write's transaction. */
export function stampSchemaVersion (doc: Y.Doc): void {
  const meta = doc.getMap(META)
  if (meta.get('schemaVersion') === undefined) meta.set('schemaVersion', SCHEMA_VERSION)
}
