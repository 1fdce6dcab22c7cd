// The collections of the lab document: patients, sequences, devices, users (and, in templates.ts,
// the templates). Each entity is a nested Y.Map keyed by its id (a user by its username).
import { stampsOf } from './core.ts'
import type { LabCore, Writer } from './core.ts'
import { collectionOf, hasEntity, readAll, readEntity } from './entity-map.ts'
import type { Collection } from './entity-map.ts'
import { LabNotFoundError, LabValidationError } from './errors.ts'
import { clearPatientDoc } from './patient-collections.ts'
import { compareText } from './positions.ts'
import { LAB_DOC_ID, patientDocId } from './schema.ts'
import type {
  Actor, Destination, DestinationInput, DestinationPatch, Device, DeviceInput, DevicePatch, EntityKind, LabCollectionName, Patient, PatientInput, PatientPatch,
  Sequence, SequenceInput, SequencePatch, User, UserInput, UserPatch
} from './schema.ts'
import {
  validateDestinationInput, validateDestinationPatch, validateDeviceInput, validateDevicePatch, validatePatientInput, validatePatientPatch, validateSequenceInput,
  validateSequencePatch, validateUserInput, validateUserPatch
} from './validate.ts'
import type { Validation } from './validate.ts'

export interface RecordSpec<T> {
  entity: EntityKind
  collection: LabCollectionName
  /** The field that holds the collection key; 'id' unless said otherwise. */
  keyField?: string
  /** 'full': createdAt, updatedAt, createdBy, updatedBy; 'created': createdAt only. */
  stamps: 'full' | 'created'
  validateInput (input: unknown, now: Date): Validation<object>
  validatePatch (patch: unknown, current: T, now: Date): Validation<object>
  /** Order of list(). */
  compare (a: T, b: T): number
}


/** By name, then id: names repeat, ids do not. */
export function byName (a: { name: string, id: string }, b: { name: string, id: string }): number {
  return a.name.localeCompare(b.name) || compareText(a.id, b.id)
}

/** A collection of the lab document: list, get, create, update, remove. */
export class RecordCollection<T extends object, I, P> {
  protected readonly core: LabCore
  protected readonly spec: RecordSpec<T>

  constructor (core: LabCore, spec: RecordSpec<T>) {
    this.core = core
    this.spec = spec
  }

  protected get keyField (): string {
    return this.spec.keyField ?? 'id'
  }

  protected map (): Collection {
    return collectionOf(this.core.labDoc(), this.spec.collection)
  }

  list (): T[] {
    return (readAll(this.map(), this.keyField) as T[]).sort((a, b) => this.spec.compare(a, b))
  }

  get (id: string): T | undefined {
    return readEntity(this.map(), id, this.keyField) as T | undefined
  }

  protected require (id: string): T {
    const value = this.get(id)
    if (value === undefined) throw new LabNotFoundError(this.spec.entity, id)
    return value
  }

  create (input: I, actor: Actor): T {
    const checked = this.spec.validateInput(input, this.core.now())
    if (!checked.ok) throw new LabValidationError(checked.error)
    const value = checked.value as Record<string, unknown>
    const id = this.keyField === 'id' ? this.core.newId(value.id as string | undefined) : value[this.keyField] as string
    this.core.write(LAB_DOC_ID, actor, (w) => {
      if (hasEntity(collectionOf(w.doc, this.spec.collection), id)) {
        throw new LabValidationError(`${this.spec.entity} ${id} already exists`)
      }
      const derived = this.prepareCreate(w, id, value)
      const stamps = this.spec.stamps === 'full' ? stampsOf(w) : { createdAt: w.at }
      w.create(this.spec.entity, this.spec.collection, id, { ...value, ...derived, [this.keyField]: id, ...stamps })
    })
    return this.require(id)
  }

  update (id: string, patch: P, actor: Actor): T {
    const current = this.require(id)
    const checked = this.spec.validatePatch(patch, current, this.core.now())
    if (!checked.ok) throw new LabValidationError(checked.error)
    this.core.write(LAB_DOC_ID, actor, (w) => {
      w.update(this.spec.entity, this.spec.collection, id, checked.value as Record<string, unknown>, this.spec.stamps === 'full')
    })
    return this.require(id)
  }

  remove (id: string, actor: Actor): void {
    this.require(id)
    this.core.write(LAB_DOC_ID, actor, (w) => {
      this.removeChildren(w, id)
      w.remove(this.spec.entity, this.spec.collection, id)
    })
  }

  /** Checks parents and returns fields derived at create (e.g. a position); runs inside the write, before any change. */
  protected prepareCreate (_w: Writer, _id: string, _value: Record<string, unknown>): Record<string, unknown> {
    return {}
  }

  /** Removes what belongs to the entity, inside the write that removes it. */
  protected removeChildren (_w: Writer, _id: string): void {}
}

export class Patients extends RecordCollection<Patient, PatientInput, PatientPatch> {
  constructor (core: LabCore) {
    super(core, {
      entity: 'patient',
      collection: 'patients',
      stamps: 'full',
      validateInput: validatePatientInput,
      validatePatch: (patch, _current, now) => validatePatientPatch(patch, now),
      compare: (a, b) => a.lastName.localeCompare(b.lastName) || a.firstName.localeCompare(b.firstName) || compareText(a.id, b.id)
    })
  }

  /**
   * Removes the patient record from the lab document and every exam, workflow, task and result from
   * the patient's document (each audited there). The patient document itself stays, with its audit log.
   */
  override remove (id: string, actor: Actor): void {
    this.require(id)
    this.core.assertWritable(LAB_DOC_ID)
    const docId = patientDocId(id)
    if (this.core.held(docId) !== undefined) this.core.write(docId, actor, (w) => { clearPatientDoc(w) })
    super.remove(id, actor)
  }
}

export class Sequences extends RecordCollection<Sequence, SequenceInput, SequencePatch> {
  constructor (core: LabCore) {
    super(core, {
      entity: 'sequence',
      collection: 'sequences',
      stamps: 'full',
      validateInput: validateSequenceInput,
      validatePatch: validateSequencePatch,
      compare: byName
    })
  }
}

export class Devices extends RecordCollection<Device, DeviceInput, DevicePatch> {
  constructor (core: LabCore) {
    super(core, {
      entity: 'device',
      collection: 'devices',
      stamps: 'full',
      validateInput: validateDeviceInput,
      validatePatch: validateDevicePatch,
      compare: byName
    })
  }
}

/** PACS destinations the lab sends images to (node/pacs/). */
export class Destinations extends RecordCollection<Destination, DestinationInput, DestinationPatch> {
  constructor (core: LabCore) {
    super(core, {
      entity: 'destination',
      collection: 'destinations',
      stamps: 'full',
      validateInput: validateDestinationInput,
      validatePatch: (patch, current) => validateDestinationPatch(patch, current),
      compare: byName
    })
  }
}

/** Users, keyed by username. */
export class Users extends RecordCollection<User, UserInput, UserPatch> {
  constructor (core: LabCore) {
    super(core, {
      entity: 'user',
      collection: 'users',
      keyField: 'username',
      stamps: 'created',
      validateInput: validateUserInput,
      validatePatch: validateUserPatch,
      compare: (a, b) => compareText(a.username, b.username)
    })
  }
}
