// Viewport layouts and what linking viewports means: scrolling one moves the others to the slice at
// the same place in the patient when both stacks know their positions, else to the same fraction
// of the stack.

export type LayoutName = '1x1' | '1x2' | '2x2'

export const LAYOUTS: ReadonlyArray<{ name: LayoutName, label: string, columns: number, rows: number }> = [
  { name: '1x1', label: '1 × 1', columns: 1, rows: 1 },
  { name: '1x2', label: '1 × 2', columns: 2, rows: 1 },
  { name: '2x2', label: '2 × 2', columns: 2, rows: 2 }
]

export function viewportCount (layout: LayoutName): number {
  const found = LAYOUTS.find((l) => l.name === layout) ?? LAYOUTS[0]
  return found.columns * found.rows
}

/** A stack as linking sees it: its length and, when every slice has one, the positions in mm. */
export interface LinkedStack {
  length: number
  positions?: ReadonlyArray<number | undefined>
}

/** The index the target stack shows when the source stack shows `index`. */
export function linkedIndex (source: LinkedStack, index: number, target: LinkedStack): number {
  if (target.length <= 0) return 0
  const at = source.positions?.[index]
  const positions = target.positions
  if (at !== undefined && positions !== undefined && positions.length === target.length && positions.every((p) => p !== undefined)) {
    let best = 0
    for (let i = 1; i < positions.length; i++) {
      if (Math.abs((positions[i] as number) - at) < Math.abs((positions[best] as number) - at)) best = i
    }
    return best
  }
  if (source.length <= 1) return Math.min(target.length - 1, Math.max(0, index))
  return Math.round(index / (source.length - 1) * (target.length - 1))
}
