// Entities as nested Y.Maps: one Y.Map per entity inside its collection map, one key per field.
// Values are JSON and are copied on the way in and out: Yjs keeps a reference to the object it was
// given, so a caller mutating its object (or one read back) would otherwise change the document
// locally without a transaction.
import * as Y from 'yjs'

export type EntityMap = Y.Map<unknown>
export type Collection = Y.Map<EntityMap>

export function collectionOf (doc: Y.Doc, name: string): Collection {
  return doc.getMap(name) as Collection
}

export function copyJson<T> (value: T): T {
  return typeof value === 'object' && value !== null ? structuredClone(value) : value
}

export function jsonEqual (a: unknown, b: unknown): boolean {
  if (a === b) return true
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false
  if (Array.isArray(a) !== Array.isArray(b)) return false
  if (Array.isArray(a) && Array.isArray(b)) {
    return a.length === b.length && a.every((v, i) => jsonEqual(v, b[i]))
  }
  const ka = Object.keys(a)
  const kb = Object.keys(b)
  return ka.length === kb.length &&
    ka.every((k) => Object.hasOwn(b, k) && jsonEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]))
}

function toRecord (map: EntityMap, id: string, keyField: string): Record<string, unknown> {
  const record: Record<string, unknown> = {}
  for (const [key, value] of map.entries()) {
    record[key] = value instanceof Y.AbstractType ? value.toJSON() : copyJson(value)
  }
  record[keyField] = id
  return record
}

/** One entity as a plain object, its collection key under `keyField`; undefined if absent. */
export function readEntity (collection: Collection, id: string, keyField = 'id'): Record<string, unknown> | undefined {
  const map = collection.get(id)
  return map instanceof Y.Map ? toRecord(map, id, keyField) : undefined
}

/** Every entity of a collection, in no particular order. Entries that are not maps are skipped. */
export function readAll (collection: Collection, keyField = 'id'): Array<Record<string, unknown>> {
  const records: Array<Record<string, unknown>> = []
  for (const [id, map] of collection.entries()) {
    if (map instanceof Y.Map) records.push(toRecord(map, id, keyField))
  }
  return records
}

export function hasEntity (collection: Collection, id: string): boolean {
  return collection.get(id) instanceof Y.Map
}

/** Adds an entity; undefined and null fields are left out. */
export function insertEntity (collection: Collection, id: string, fields: Record<string, unknown>): void {
  const map: EntityMap = new Y.Map()
  collection.set(id, map)
  for (const [key, value] of Object.entries(fields)) {
    if (value !== undefined && value !== null) map.set(key, copyJson(value))
  }
}

/**
 * Writes the fields that differ from what is stored (null deletes, undefined skips) and returns
 * their names. Unchanged fields are not rewritten: every overwrite leaves a tombstone.
 */
export function patchEntity (collection: Collection, id: string, changes: Record<string, unknown>): string[] {
  const map = collection.get(id)
  if (!(map instanceof Y.Map)) return []
  const changed: string[] = []
  for (const [key, value] of Object.entries(changes)) {
    if (value === undefined) continue
    if (value === null) {
      if (map.has(key)) {
        map.delete(key)
        changed.push(key)
      }
    } else if (!jsonEqual(map.get(key), value)) {
      map.set(key, copyJson(value))
      changed.push(key)
    }
  }
  return changed
}

export function deleteEntity (collection: Collection, id: string): boolean {
  if (!collection.has(id)) return false
  collection.delete(id)
  return true
}
