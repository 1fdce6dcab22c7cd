// The image viewer's arithmetic, apart from the screen: windowing (PS3.3 C.11.2.1.2), the "Auto"
// window from the pixel range, rectangle and ellipse ROI statistics, lengths, orientation letters and the view transform.

export type Pixels = ArrayLike<number>

export interface Window {
  center: number
  width: number
}

export interface Frame {
  pixels: Pixels
  /** index of the frame's first pixel in `pixels` */
  offset: number
  rows: number
  columns: number
  slope: number
  intercept: number
}

export interface Point { x: number, y: number }

/** The window spanning the frame's rescaled values, min to max. */
export function autoWindow (frame: Frame): Window {
  let min = Infinity
  let max = -Infinity
  const count = frame.rows * frame.columns
  for (let i = 0; i < count; i++) {
    const v = frame.pixels[frame.offset + i] * frame.slope + frame.intercept
    if (v < min) min = v
    if (v > max) max = v
  }
  if (!Number.isFinite(min)) return { center: 0, width: 1 }
  return { center: (min + max) / 2, width: Math.max(1, max - min) }
}

/**
 * The linear VOI function of DICOM: values up to c − 0.5 − (w − 1)/2 are black, above
 * c − 0.5 + (w − 1)/2 white, linear in between. MONOCHROME1 and `invert` swap black and white.
 */
export function toRgba (frame: Frame, window: Window, options: { invert?: boolean } = {}, out?: Uint8ClampedArray): Uint8ClampedArray {
  const count = frame.rows * frame.columns
  const rgba = out ?? new Uint8ClampedArray(count * 4)
  const c = window.center - 0.5
  const w = Math.max(1, window.width) - 1
  const low = c - w / 2
  const high = c + w / 2
  const invert = options.invert === true
  for (let i = 0; i < count; i++) {
    const v = frame.pixels[frame.offset + i] * frame.slope + frame.intercept
    let g = v <= low ? 0 : v > high ? 255 : w === 0 ? 255 : ((v - c) / w + 0.5) * 255
    if (invert) g = 255 - g
    const o = i * 4
    rgba[o] = g
    rgba[o + 1] = g
    rgba[o + 2] = g
    rgba[o + 3] = 255
  }
  return rgba
}

export interface RoiStats {
  mean: number
  std: number
  /** pixels inside */
  count: number
  /** mm² when the pixel spacing is known, else pixels */
  area: number
  areaUnit: 'mm²' | 'px'
}

/**
 * Mean and (population) standard deviation of the rescaled values of the pixels in columns [x0, x1)
 * and rows [y0, y1) that `inside` accepts; the area is `shapeArea` (in pixels) when given, else the
 * pixels counted, scaled to mm² when the spacing is known.
 */
function regionStats (frame: Frame, box: { x0: number, x1: number, y0: number, y1: number }, inside: (x: number, y: number) => boolean, spacing?: [number, number], shapeArea?: number): RoiStats {
  let n = 0
  let sum = 0
  let sumSq = 0
  for (let y = Math.max(0, box.y0); y < Math.min(frame.rows, box.y1); y++) {
    for (let x = Math.max(0, box.x0); x < Math.min(frame.columns, box.x1); x++) {
      if (!inside(x, y)) continue
      const v = frame.pixels[frame.offset + y * frame.columns + x] * frame.slope + frame.intercept
      n++
      sum += v
      sumSq += v * v
    }
  }
  const mean = n === 0 ? 0 : sum / n
  const std = n === 0 ? 0 : Math.sqrt(Math.max(0, sumSq / n - mean * mean))
  const pixelArea = spacing === undefined ? 1 : spacing[0] * spacing[1]
  return { mean, std, count: n, area: (shapeArea ?? n) * pixelArea, areaUnit: spacing === undefined ? 'px' : 'mm²' }
}

/** Mean and (population) standard deviation of the rescaled values inside a rectangle of image pixels. */
export function rectangleStats (frame: Frame, a: Point, b: Point, spacing?: [number, number]): RoiStats {
  const box = { x0: Math.floor(Math.min(a.x, b.x)), x1: Math.ceil(Math.max(a.x, b.x)), y0: Math.floor(Math.min(a.y, b.y)), y1: Math.ceil(Math.max(a.y, b.y)) }
  return regionStats(frame, box, () => true, spacing)
}

/**
 * Mean and (population) standard deviation of the rescaled values of the pixels whose centres lie
 * inside the ellipse inscribed in the rectangle a–b; the area is the ellipse's own (π·rx·ry), in mm²
 * when the pixel spacing is known.
 */
export function ellipseStats (frame: Frame, a: Point, b: Point, spacing?: [number, number]): RoiStats {
  const cx = (a.x + b.x) / 2
  const cy = (a.y + b.y) / 2
  const rx = Math.abs(b.x - a.x) / 2
  const ry = Math.abs(b.y - a.y) / 2
  const box = { x0: Math.floor(cx - rx), x1: Math.ceil(cx + rx) + 1, y0: Math.floor(cy - ry), y1: Math.ceil(cy + ry) + 1 }
  const inside = (x: number, y: number): boolean => {
    const dx = (x + 0.5 - cx) / rx
    const dy = (y + 0.5 - cy) / ry
    return dx * dx + dy * dy <= 1
  }
  return regionStats(frame, rx > 0 && ry > 0 ? box : { x0: 0, x1: 0, y0: 0, y1: 0 }, inside, spacing, Math.PI * rx * ry)
}

/** Distance between two image points; spacing is DICOM's [row spacing, column spacing] in mm. */
export function distance (a: Point, b: Point, spacing?: [number, number]): { value: number, unit: 'mm' | 'px' } {
  if (spacing === undefined) return { value: Math.hypot(b.x - a.x, b.y - a.y), unit: 'px' }
  return { value: Math.hypot((b.x - a.x) * spacing[1], (b.y - a.y) * spacing[0]), unit: 'mm' }
}

/** The value of the pixel under an image point, or undefined outside. */
export function probe (frame: Frame, p: Point): number | undefined {
  const x = Math.floor(p.x)
  const y = Math.floor(p.y)
  if (x < 0 || y < 0 || x >= frame.columns || y >= frame.rows) return undefined
  return frame.pixels[frame.offset + y * frame.columns + x] * frame.slope + frame.intercept
}

type Vec = [number, number, number]

/** Patient-axis letters of a direction (LPS: +x left, +y posterior, +z head), strongest first. */
export function orientationLetters (v: Vec): string {
  const letters: Array<[number, string]> = [
    [v[0], v[0] > 0 ? 'L' : 'R'],
    [v[1], v[1] > 0 ? 'P' : 'A'],
    [v[2], v[2] > 0 ? 'H' : 'F']
  ]
  return letters
    .filter(([c]) => Math.abs(c) > 0.25)
    .sort((p, q) => Math.abs(q[0]) - Math.abs(p[0]))
    .slice(0, 2)
    .map(([, l]) => l)
    .join('')
}

export interface ViewState {
  zoom: number
  panX: number
  panY: number
  /** clockwise quarter turns, 0..3 */
  rotation: number
  flipH: boolean
  flipV: boolean
}

export const INITIAL_VIEW: ViewState = { zoom: 1, panX: 0, panY: 0, rotation: 0, flipH: false, flipV: false }

/**
 * The markers at the screen's edges: which patient directions point right and down after the
 * flips and rotation the view applies (flips first, then rotation, as drawn).
 */
export function edgeMarkers (orientation: [number, number, number, number, number, number] | undefined, view: ViewState): { left: string, right: string, top: string, bottom: string } | undefined {
  if (orientation === undefined) return undefined
  let right: Vec = [orientation[0], orientation[1], orientation[2]]
  let down: Vec = [orientation[3], orientation[4], orientation[5]]
  const neg = (v: Vec): Vec => [-v[0], -v[1], -v[2]]
  if (view.flipH) right = neg(right)
  if (view.flipV) down = neg(down)
  for (let i = 0; i < view.rotation % 4; i++) {
    // A quarter turn clockwise: what pointed up now points right, what pointed right now points down.
    const nextRight = neg(down)
    down = right
    right = nextRight
  }
  return { left: orientationLetters(neg(right)), right: orientationLetters(right), top: orientationLetters(neg(down)), bottom: orientationLetters(down) }
}

/** The canvas transform (a, b, c, d, e, f) that draws image pixels on a canvas of the given size. */
export function viewMatrix (view: ViewState, image: { columns: number, rows: number }, canvas: { width: number, height: number }): DOMMatrix {
  const turned = view.rotation % 2 === 1
  const w = turned ? image.rows : image.columns
  const h = turned ? image.columns : image.rows
  const fit = Math.min(canvas.width / w, canvas.height / h)
  const m = new DOMMatrix()
  m.translateSelf(canvas.width / 2 + view.panX, canvas.height / 2 + view.panY)
  m.scaleSelf(fit * view.zoom, fit * view.zoom)
  m.rotateSelf(90 * (view.rotation % 4))
  m.scaleSelf(view.flipH ? -1 : 1, view.flipV ? -1 : 1)
  m.translateSelf(-image.columns / 2, -image.rows / 2)
  return m
}

/** Where a canvas point falls in image pixel coordinates. */
export function canvasToImage (matrix: DOMMatrix, p: Point): Point {
  const q = matrix.inverse().transformPoint({ x: p.x, y: p.y })
  return { x: q.x, y: q.y }
}
