// The errors the lab model throws. Callers (REST handlers, UI) tell them apart by `name`.

/** The input of a write breaks the schema; the message names the field and what is wrong. */
export class LabValidationError extends Error {
  override name = 'LabValidationError'
}

/** A write names an entity this peer does not hold. */
export class LabNotFoundError extends Error {
  override name = 'LabNotFoundError'
  readonly entity: string
  readonly id: string

  constructor (entity: string, id: string) {
    super(`${entity} ${id} not found`)
    this.entity = entity
    this.id = id
  }
}

/** A document's schema version is one this peer cannot write (newer, or older with no migration path). */
export class LabSchemaError extends Error {
  override name = 'LabSchemaError'
}
