// Measurements belong to the image they were drawn on: they are kept in the browser's local storage
// under the image's SOPInstanceUID (and frame), so that reopening the viewer, in any layout or
// from any result that holds the image, shows them again.
import type { Point } from './image-math.ts'

export type MeasurementKind = 'length' | 'roi' | 'ellipse'

export interface Measurement {
  kind: MeasurementKind
  /** the SOPInstanceUID of the image drawn on */
  sop: string
  /** the frame of a multi-frame image */
  frame: number
  /** image pixel coordinates: the ends of a length, or opposite corners of the ROI's box */
  a: Point
  b: Point
}

/** The part of Web Storage used here (tests give a Map-backed one). */
export interface KeyValueStorage {
  getItem: (key: string) => string | null
  setItem: (key: string, value: string) => void
  removeItem: (key: string) => void
}

const PREFIX = 'scanhub:measurements:'
const KINDS: readonly string[] = ['length', 'roi', 'ellipse']

function isPoint (p: unknown): p is Point {
  return typeof p === 'object' && p !== null && Number.isFinite((p as Point).x) && Number.isFinite((p as Point).y)
}

function defaultStorage (): KeyValueStorage | undefined {
  try {
    return globalThis.localStorage
  } catch {
    return undefined
  }
}

export class MeasurementStore {
  private readonly storage: KeyValueStorage | undefined

  constructor (storage: KeyValueStorage | undefined = defaultStorage()) {
    this.storage = storage
  }

  /** The measurements kept for an image; what is unreadable (another version's, edited by hand) is left out. */
  load (sop: string): Measurement[] {
    let parsed: unknown
    try {
      parsed = JSON.parse(this.storage?.getItem(PREFIX + sop) ?? '[]')
    } catch {
      return []
    }
    if (!Array.isArray(parsed)) return []
    return parsed.filter((m): m is Omit<Measurement, 'sop'> => typeof m === 'object' && m !== null && KINDS.includes((m as Measurement).kind) &&
      Number.isInteger((m as Measurement).frame) && isPoint((m as Measurement).a) && isPoint((m as Measurement).b))
      .map((m) => ({ kind: m.kind, sop, frame: m.frame, a: { x: m.a.x, y: m.a.y }, b: { x: m.b.x, y: m.b.y } }))
  }

  /** Replaces what is kept for an image (none: the key goes). A full or disabled storage keeps nothing. */
  save (sop: string, measurements: readonly Measurement[]): void {
    const own = measurements.filter((m) => m.sop === sop).map(({ kind, frame, a, b }) => ({ kind, frame, a, b }))
    try {
      if (own.length === 0) this.storage?.removeItem(PREFIX + sop)
      else this.storage?.setItem(PREFIX + sop, JSON.stringify(own))
    } catch {
      // Storage full or disabled: the measurements stay on screen for this visit only.
    }
  }
}
