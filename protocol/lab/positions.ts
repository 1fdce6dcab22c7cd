// Ordering of tasks and workflows by a numeric position. A move writes one new position between
// its new neighbours, so the others keep theirs and a concurrent move of another item on another
// peer merges cleanly. Equal positions (two peers appending at once) sort by id, identically everywhere.
import { LabValidationError } from './errors.ts'
import type { Writer } from './core.ts'
import type { EntityKind } from './schema.ts'

export interface Positioned {
  id: string
  position: number
}

/** Code-unit order: the same on every peer, whatever its locale. */
export function compareText (a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}

export function byPosition (a: Positioned, b: Positioned): number {
  return a.position - b.position || compareText(a.id, b.id)
}

/** The position after every sibling. */
export function nextPosition (siblings: readonly Positioned[]): number {
  let last = -1
  for (const s of siblings) if (Number.isFinite(s.position) && s.position > last) last = s.position
  return Math.floor(last) + 1
}

/**
 * Where an item goes to land at `index` among `others` (sorted, without the item): one new position,
 * or, when its neighbours leave no room between them (equal positions, or floating point used up
 * after many moves), positions for the whole list.
 */
export function placeAt (others: readonly Positioned[], index: number, id: string): { position: number } | { renumber: Map<string, number> } {
  const before = others[index - 1]
  const after = others[index]
  if (before === undefined && after === undefined) return { position: 0 }
  if (after === undefined) return { position: before.position + 1 }
  if (before === undefined) return { position: after.position - 1 }
  const middle = (before.position + after.position) / 2
  if (middle > before.position && middle < after.position) return { position: middle }
  const ids = others.map((o) => o.id)
  ids.splice(index, 0, id)
  return { renumber: new Map(ids.map((each, i) => [each, i])) }
}

/**
 * Moves `id` to `index` among `siblings` (sorted, with the item), inside a write. Only the moved
 * item's position changes unless a renumbering is needed; each changed position is audited.
 */
export function moveTo (w: Writer, entity: EntityKind, collection: string, siblings: readonly Positioned[], id: string, index: number): void {
  if (!Number.isInteger(index) || index < 0 || index >= siblings.length) {
    throw new LabValidationError(`index must be an integer between 0 and ${siblings.length - 1}`)
  }
  const current = siblings.findIndex((s) => s.id === id)
  if (current === index) return
  const others = siblings.filter((s) => s.id !== id)
  const placed = placeAt(others, index, id)
  if ('position' in placed) {
    w.update(entity, collection, id, { position: placed.position })
    return
  }
  for (const s of [...others, { id, position: NaN }]) {
    const position = placed.renumber.get(s.id)
    if (position !== undefined && position !== s.position) w.update(entity, collection, s.id, { position })
  }
}
