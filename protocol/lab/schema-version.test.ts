import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { LabSchemaError } from './errors.ts'
import { Lab } from './lab.ts'
import { MemoryDocSource } from './memory-doc-source.ts'
import { LAB_DOC_ID, META, patientDocId } from './schema.ts'
import { SCHEMA_VERSION, checkSchema, migrate, schemaVersionOf } from './schema-version.ts'
import type { Migration } from './schema-version.ts'
import { alice, jane, steppingClock } from './test-support.ts'

/** A lab document as a (hypothetical) version 0 wrote it: one `name` field per patient. */
function fakeV0 (doc: Y.Doc): void {
  doc.getMap(META).set('schemaVersion', 0)
  const patient = new Y.Map<unknown>()
  doc.getMap('patients').set('p0', patient)
  patient.set('name', 'Jane Doe')
  patient.set('birthDate', '1980-02-29')
  patient.set('sex', 'FEMALE')
}

/** The step a version 1 would have shipped with: split `name` into first and last name. */
const splitNames: Migration = {
  from: 0,
  description: 'split patient name into firstName and lastName',
  run (doc) {
    for (const patient of (doc.getMap('patients') as Y.Map<Y.Map<unknown>>).values()) {
      const name = patient.get('name')
      if (typeof name !== 'string') continue
      const [firstName, ...rest] = name.split(' ')
      patient.set('firstName', firstName)
      patient.set('lastName', rest.join(' '))
      patient.delete('name')
    }
  }
}

describe('schema version', () => {
  it('is 1', () => {
    expect(SCHEMA_VERSION).toBe(1)
  })

  it('counts a document without a version as current and stamps it at the first write', () => {
    const docs = new MemoryDocSource()
    const lab = new Lab(docs, { now: steppingClock() })
    const doc = docs.get(LAB_DOC_ID)
    expect(schemaVersionOf(doc)).toBeUndefined()
    expect(checkSchema(doc)).toBe('current')
    // Peer records are written by another module without a version; that does not make it older.
    doc.getMap('peers').set('peer-a', 'record')
    expect(checkSchema(doc)).toBe('current')
    const patient = lab.patients.create(jane, alice)
    expect(doc.getMap(META).get('schemaVersion')).toBe(1)
    lab.exams.create({ patientId: patient.id, name: 'Knee' }, alice)
    const meta = docs.get(patientDocId(patient.id)).getMap(META)
    expect(meta.toJSON()).toEqual({ schemaVersion: 1, patientId: patient.id })
  })

  it('tells newer and older documents apart', () => {
    const newer = new Y.Doc()
    newer.getMap(META).set('schemaVersion', 2)
    expect(checkSchema(newer)).toBe('newer')
    const garbled = new Y.Doc()
    garbled.getMap(META).set('schemaVersion', 'two')
    expect(checkSchema(garbled)).toBe('newer')
    const v0 = new Y.Doc()
    fakeV0(v0)
    expect(schemaVersionOf(v0)).toBe(0)
    expect(checkSchema(v0)).toBe('older')
  })

  it('migrates a version 0 document through the migration table', () => {
    const doc = new Y.Doc()
    fakeV0(doc)
    expect(migrate(doc, { migrations: [splitNames] })).toBe(1)
    expect(checkSchema(doc)).toBe('current')
    expect(doc.getMap('patients').toJSON()).toEqual({
      p0: { firstName: 'Jane', lastName: 'Doe', birthDate: '1980-02-29', sex: 'FEMALE' }
    })
  })

  it('refuses, changing nothing, when a migration step is missing or the document is newer', () => {
    const doc = new Y.Doc()
    fakeV0(doc)
    const before = Y.encodeStateAsUpdate(doc)
    expect(() => migrate(doc, { docId: 'lab' })).toThrow(new LabSchemaError('document lab has schema version 0 and this peer knows no migration from version 0'))
    expect(Y.encodeStateAsUpdate(doc)).toEqual(before)
    const newer = new Y.Doc()
    newer.getMap(META).set('schemaVersion', 2)
    expect(() => migrate(newer, { docId: 'lab' })).toThrow(LabSchemaError)
  })

  it('has a Lab migrate an older document before writing to it', () => {
    const docs = new MemoryDocSource()
    fakeV0(docs.get(LAB_DOC_ID))
    const lab = new Lab(docs, { now: steppingClock(), migrations: [splitNames] })
    lab.patients.create(jane, alice)
    expect(lab.patients.list().map((p) => `${p.firstName} ${p.lastName}`)).toEqual(['Jane Doe', 'Jane Doe'])
    expect(lab.schemaStatus()).toEqual([{ docId: 'lab', state: 'current', version: 1 }])
  })

  it('refuses a Lab write to a newer document and leaves it untouched', () => {
    const docs = new MemoryDocSource()
    const lab = new Lab(docs, { now: steppingClock() })
    const patient = lab.patients.create(jane, alice)
    const labDoc = docs.get(LAB_DOC_ID)
    labDoc.getMap(META).set('schemaVersion', 2)
    const before = Y.encodeStateAsUpdate(labDoc)
    const message = 'document lab has schema version 2; this peer understands up to 1: upgrade ScanHub'
    expect(() => lab.patients.update(patient.id, { firstName: 'Janet' }, alice)).toThrow(new LabSchemaError(message))
    expect(() => lab.patients.create(jane, alice)).toThrow(LabSchemaError)
    expect(() => lab.patients.remove(patient.id, alice)).toThrow(LabSchemaError)
    expect(Y.encodeStateAsUpdate(labDoc)).toEqual(before)
    expect(lab.patients.get(patient.id)?.firstName).toBe('Jane')
    expect(lab.schemaStatus()).toContainEqual({ docId: 'lab', state: 'newer', version: 2 })
  })

  it('refuses a write to a newer patient document', () => {
    const docs = new MemoryDocSource()
    const lab = new Lab(docs, { now: steppingClock() })
    const patient = lab.patients.create(jane, alice)
    docs.get(patientDocId(patient.id)).getMap(META).set('schemaVersion', 7)
    expect(() => lab.exams.create({ patientId: patient.id, name: 'Knee' }, alice))
      .toThrow(`document patient:${patient.id} has schema version 7; this peer understands up to 1: upgrade ScanHub`)
    // Removing the patient would clear that document: refused before the lab document changes.
    expect(() => lab.patients.remove(patient.id, alice)).toThrow(LabSchemaError)
    expect(lab.patients.get(patient.id)).toBeDefined()
  })
})
