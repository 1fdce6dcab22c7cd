// Extensions of the Pulseq format: the [EXTENSIONS] linked lists that blocks point to, and the
// `extension NAME type` tables behind them. Interpreters must recognise an extension by its NAME,
// never by its type number, which is local to one file (specification, "Extensions").

import { KNOWN_LABELS } from './constants.ts'
import type { ExtensionTable, Extensions, Sequence } from './types.ts'

/** The kind of table an extension NAME stands for; anything else is kept raw. */
export function extensionKind (name: string): ExtensionTable['kind'] {
  switch (name) {
    case 'LABELSET': return 'labelset'
    case 'LABELINC': return 'labelinc'
    case 'TRIGGERS': return 'triggers'
    case 'DELAYS': return 'softDelays'
    case 'ROTATIONS': return 'rotations'
    case 'RF_SHIMS': return 'rfShims'
    default: return 'unknown'
  }
}

/** An empty table for an extension NAME. */
export function newExtensionTable (name: string): ExtensionTable {
  const kind = extensionKind(name)
  switch (kind) {
    case 'labelset': return { kind, name, events: new Map() }
    case 'labelinc': return { kind, name, events: new Map() }
    case 'triggers': return { kind, name, events: new Map() }
    case 'softDelays': return { kind, name, events: new Map() }
    case 'rotations': return { kind, name, events: new Map() }
    case 'rfShims': return { kind, name, events: new Map() }
    default: return { kind: 'unknown', name, events: new Map() }
  }
}

/** Whether a label name is one the toolboxes define (others are kept, with a warning). */
export function isKnownLabel (label: string): boolean {
  return (KNOWN_LABELS as readonly string[]).includes(label)
}

/** Thrown by walkExtensionList for a broken list; the reader reports it with the block's line. */
export class ExtensionListError extends Error {
  override readonly name = 'ExtensionListError'
}

/**
 * Visits the entries of the extension list that starts at `head`, in list order. The walk is bounded
 * by the size of the list table, so a cycle in a hostile file ends with an error instead of a hang.
 */
export function walkExtensionList (extensions: Extensions, head: number, visit: (type: number, ref: number) => void): void {
  let id = head
  let steps = 0
  while (id !== 0) {
    const entry = extensions.list.get(id)
    if (entry === undefined) throw new ExtensionListError(`extension list entry ${id} is not defined`)
    if (++steps > extensions.list.size) throw new ExtensionListError(`extension list starting at ${head} loops`)
    visit(entry.type, entry.ref)
    id = entry.next
  }
}

/** Current values of the LABELSET/LABELINC counters and flags; all start at 0 (specification, "Label Extension"). */
export type LabelState = Map<string, number>

/** A fresh label state with every known label at 0. */
export function newLabelState (): LabelState {
  return new Map(KNOWN_LABELS.map((l) => [l, 0]))
}

/**
 * Applies the label directives of one block's extension list: all LABELSET first, then all LABELINC,
 * whatever their order in the list, as the specification prescribes. Returns whether any applied.
 */
export function applyBlockLabels (seq: Sequence, head: number, state: LabelState): boolean {
  if (head === 0) return false
  const sets: Array<[string, number]> = []
  const incs: Array<[string, number]> = []
  walkExtensionList(seq.extensions, head, (type, ref) => {
    const table = seq.extensions.tables.get(type)
    if (table === undefined) return
    if (table.kind === 'labelset') {
      const ev = table.events.get(ref)
      if (ev !== undefined) sets.push([ev.label, ev.value])
    } else if (table.kind === 'labelinc') {
      const ev = table.events.get(ref)
      if (ev !== undefined) incs.push([ev.label, ev.value])
    }
  })
  for (const [label, value] of sets) state.set(label, value)
  for (const [label, value] of incs) state.set(label, (state.get(label) ?? 0) + value)
  return sets.length + incs.length > 0
}

/** A plain snapshot of a label state, for handing out with one ADC readout. */
export function labelSnapshot (state: LabelState): Record<string, number> {
  return Object.fromEntries(state)
}
