// Two fingers on a viewport either pinch (zoom) or move together (scroll through the slices). A pinch
// also moves the fingers' midpoint a little and a two-finger drag changes their spread a little, so
// a gesture is classified once, by what changed first by more than a few pixels, and keeps its kind.
import type { Point } from './image-math.ts'

export interface TouchPair { a: Point, b: Point }

export type TwoFingerKind = 'zoom' | 'scroll'

function spread (p: TouchPair): number {
  return Math.hypot(p.a.x - p.b.x, p.a.y - p.b.y)
}

function middle (p: TouchPair): Point {
  return { x: (p.a.x + p.b.x) / 2, y: (p.a.y + p.b.y) / 2 }
}

/** What a two-finger gesture is, once it has moved more than `threshold` CSS pixels; undefined before. */
export function classifyTwoFinger (start: TouchPair, now: TouchPair, threshold = 12): TwoFingerKind | undefined {
  const spreadChange = Math.abs(spread(now) - spread(start))
  const m0 = middle(start)
  const m1 = middle(now)
  const moved = Math.hypot(m1.x - m0.x, m1.y - m0.y)
  if (Math.max(spreadChange, moved) < threshold) return undefined
  return spreadChange > moved ? 'zoom' : 'scroll'
}

/** The zoom factor of a pinch: the ratio of the fingers' spread now to at the start. */
export function pinchFactor (start: TouchPair, now: TouchPair): number {
  return spread(now) / Math.max(1, spread(start))
}

/** Slices moved by a two-finger drag: one per `step` CSS pixels down (negative: up). */
export function scrollSlices (start: TouchPair, now: TouchPair, step = 20): number {
  return Math.trunc((middle(now).y - middle(start).y) / step)
}
