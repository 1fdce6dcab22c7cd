// What the sampling pattern of a k-space buffer (BufferMeta.sampled) says to GRAPPA: which lines were
// acquired along the undersampled axis, how far apart (the acceleration R and the lattice's offset),
// where the fully sampled calibration block at the k-space centre lies, and, for each missing line,
// the acquired lines its value is estimated from. The pattern is read along PHS1 with partitions
// across it; for undersampling along PHS2 the stage hands it the buffer with the two axes swapped.
// Either way the same lines must be acquired in every row across that holds data: undersampling
// along both axes at once is refused.
import type { Dims } from './complex-array.ts'
import { UnsupportedSamplingError } from './grappa-errors.ts'

export interface LinePattern {
  ny: number
  /** 1 where the line is acquired (in every partition that holds data). */
  lines: Uint8Array
  /** Partitions that hold data. */
  partitions: number[]
  /** First and last acquired line (-1 when none). */
  first: number
  last: number
  /** Lines missing between first and last. */
  missingInside: number
  /**
   * The contiguous block of acquired lines that holds the k-space centre (line floor(ny/2)); count 0
   * when the centre is not inside a block of at least two lines.
   */
  calibration: { start: number, count: number }
  /** The most common distance between consecutive acquired lines outside the calibration block. */
  step: number
  /** The residue modulo step of most acquired lines outside the calibration block. */
  offset: number
}

function mode (values: number[]): number {
  const counts = new Map<number, number>()
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1)
  let best = -1
  let bestCount = 0
  for (const [v, c] of counts) {
    if (c > bestCount || (c === bestCount && v < best)) {
      best = v
      bestCount = c
    }
  }
  return best
}

/** Names of the axes in messages: `along` is the axis read for gaps, `across` the other phase axis. */
export interface AxisNames {
  along: 'PHS1' | 'PHS2'
  across: 'PHS1' | 'PHS2'
}

export const PHS1_AXES: AxisNames = { along: 'PHS1', across: 'PHS2' }
export const PHS2_AXES: AxisNames = { along: 'PHS2', across: 'PHS1' }

function hasGap (count: number, stride: number, at: (i: number) => number): boolean {
  let first = -1
  let last = -1
  let acquired = 0
  for (let i = 0; i < count; i++) {
    if (at(i * stride) === 0) continue
    if (first < 0) first = i
    last = i
    acquired++
  }
  return acquired > 0 && acquired !== last - first + 1
}

/**
 * Along which phase axes a line is missing between acquired ones (in some partition along PHS1, in
 * some PHS1 line along PHS2). Neither: nothing to fill, whatever the outline of the acquired region
 * (an elliptical 3-D scan, zero filling, partial Fourier).
 */
export function gapAxes (dims: Dims, sampled: Uint8Array): { phs1: boolean, phs2: boolean } {
  const [, ny, nz] = dims
  let phs1 = false
  let phs2 = false
  for (let z = 0; z < nz && !phs1; z++) phs1 = hasGap(ny, 1, (i) => sampled[i + ny * z])
  for (let y = 0; y < ny && !phs2; y++) phs2 = hasGap(nz, ny, (i) => sampled[y + i])
  return { phs1, phs2 }
}

/** The buffer with PHS1 and PHS2 swapped: element (x, y, z, c) moves to (x, z, y, c). */
export function swapPhaseAxes (dims: Dims, data: Float32Array, into: Float32Array = new Float32Array(data.length)): { dims: Dims, data: Float32Array } {
  const [nx, ny, nz, coils] = dims
  for (let c = 0; c < coils; c++) {
    for (let z = 0; z < nz; z++) {
      for (let y = 0; y < ny; y++) {
        const from = 2 * nx * (y + ny * (z + nz * c))
        into.set(data.subarray(from, from + 2 * nx), 2 * nx * (z + nz * (y + ny * c)))
      }
    }
  }
  return { dims: [nx, nz, ny, coils], data: into }
}

/** A sampling pattern (index y + ny·z) with PHS1 and PHS2 swapped. */
export function swapSampled (dims: Dims, sampled: Uint8Array): Uint8Array {
  const [, ny, nz] = dims
  const out = new Uint8Array(sampled.length)
  for (let z = 0; z < nz; z++) for (let y = 0; y < ny; y++) out[z + nz * y] = sampled[y + ny * z]
  return out
}

/** Reads the sampling pattern along PHS1; throws UnsupportedSamplingError for patterns that vary across it. */
export function linePattern (dims: Dims, sampled: Uint8Array, context: string, axes: AxisNames = PHS1_AXES): LinePattern {
  const [, ny, nz] = dims
  const partitions: number[] = []
  let lines: Uint8Array | undefined
  for (let z = 0; z < nz; z++) {
    const row = sampled.subarray(ny * z, ny * (z + 1))
    if (!row.some((v) => v !== 0)) continue
    partitions.push(z)
    if (lines === undefined) {
      lines = Uint8Array.from(row, (v) => v !== 0 ? 1 : 0)
    } else if (row.some((v, y) => (v !== 0 ? 1 : 0) !== lines?.[y])) {
      throw new UnsupportedSamplingError(`${context}: ${axes.across} positions ${partitions[0]} and ${z} have different ${axes.along} lines acquired (undersampling along both PHS1 and PHS2, or a 2-D pattern): grappa fills lines along one phase axis, with the same lines acquired at every position of the other`)
    }
  }
  if (partitions.length > 1) {
    const missing = partitions[partitions.length - 1] - partitions[0] + 1 - partitions.length
    if (missing > 0) throw new UnsupportedSamplingError(`${context}: ${missing} ${axes.across} positions are missing between acquired ones as well as ${axes.along} lines (undersampling along both PHS1 and PHS2): grappa fills lines along one phase axis only`)
  }
  const line = lines ?? new Uint8Array(ny)
  let first = -1
  let last = -1
  for (let y = 0; y < ny; y++) {
    if (line[y] === 0) continue
    if (first < 0) first = y
    last = y
  }
  let missingInside = 0
  for (let y = Math.max(first, 0); y <= last; y++) if (line[y] === 0) missingInside++

  const centre = Math.floor(ny / 2)
  let start = centre
  let end = centre
  if (line[centre] !== 0) {
    while (start > 0 && line[start - 1] !== 0) start--
    while (end < ny && line[end] !== 0) end++
  }
  // a single line is no block: it carries no neighbours to learn from
  const calibration = end - start >= 2 ? { start, count: end - start } : { start: centre, count: 0 }
  const inBlock = (y: number): boolean => y >= calibration.start && y < calibration.start + calibration.count

  const gaps: number[] = []
  const outside: number[] = []
  let previous = -1
  for (let y = 0; y < ny; y++) {
    if (line[y] === 0) continue
    if (!inBlock(y)) {
      outside.push(y)
      if (previous >= 0 && !inBlock(previous)) gaps.push(y - previous)
    }
    previous = y
  }
  const step = gaps.length > 0 ? mode(gaps) : 1
  const offset = outside.length > 0 ? mode(outside.map((y) => y % step)) : 0
  return { ny, lines: line, partitions, first, last, missingInside, calibration, step, offset }
}

/**
 * Source lines for missing line y: on the acquisition lattice (offset + k·step), `below` lattice lines
 * below and `above` above, as regular GRAPPA uses them, when all of those are acquired and inside the
 * buffer; otherwise (next to the buffer's edge, or around a hole in the pattern) the nearest acquired
 * lines, up to `below` below and `above` above, at most `reach` lines away.
 */
export function sourcesFor (y: number, pattern: LinePattern, below: number, above: number, reach: number): number[] {
  const { lines, ny, step, offset } = pattern
  const t = (((y - offset) % step) + step) % step
  if (t !== 0) {
    const base = y - t
    const lattice: number[] = []
    for (let j = below - 1; j >= 0; j--) lattice.push(base - step * j)
    for (let j = 1; j <= above; j++) lattice.push(base + step * j)
    if (lattice.every((s) => s >= 0 && s < ny && lines[s] !== 0)) return lattice
  }
  const lower: number[] = []
  const upper: number[] = []
  const total = below + above
  for (let s = y - 1; s >= 0 && y - s <= reach && lower.length < total; s--) if (lines[s] !== 0) lower.push(s)
  for (let s = y + 1; s < ny && s - y <= reach && upper.length < total; s++) if (lines[s] !== 0) upper.push(s)
  // next to an edge one side has fewer lines: the other side makes up for them, so that an
  // extrapolating kernel still sees as many lines
  const fromBelow = Math.min(lower.length, Math.max(below, total - upper.length))
  const fromAbove = Math.min(upper.length, total - fromBelow)
  return [...lower.slice(0, fromBelow).reverse(), ...upper.slice(0, fromAbove)]
}

/** Runs of missing lines: [start, end) with whether they lie between acquired lines. */
export function missingRuns (pattern: LinePattern): Array<{ start: number, end: number, inside: boolean }> {
  const runs: Array<{ start: number, end: number, inside: boolean }> = []
  const { lines, ny, first, last } = pattern
  for (let y = 0; y < ny;) {
    if (lines[y] !== 0) { y++; continue }
    const start = y
    while (y < ny && lines[y] === 0) y++
    runs.push({ start, end: y, inside: start > first && y <= last && first >= 0 })
  }
  return runs
}
