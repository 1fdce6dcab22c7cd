// Timing and geometry of single events: where their samples sit in time, how long they last, the
// centre and flip angle of an RF pulse, the corner points of a gradient. Shared by the reader (block
// durations of old files, timing checks), the interpreter, the k-space calculation and the summary.
//
// Sampling convention (specification, "Time raster"): events start and end on raster edges, default
// samples sit at raster-cell centres, t_n = t_start + Δt·(n + 0.5).

import type { AdcEvent, ArbitraryGradient, GradientEvent, RfEvent, Sequence } from './types.ts'

type ShapeSource = Pick<Sequence, 'shapes' | 'rasters'>

/** Slack for comparing times that went through decimal text, s. */
export const TIME_EPS = 1e-9

/** A growable list of (t, value) points in two Float64Arrays. */
export class PointBuffer {
  t: Float64Array
  v: Float64Array
  length = 0

  constructor (capacity = 64) {
    this.t = new Float64Array(capacity)
    this.v = new Float64Array(capacity)
  }

  push (t: number, v: number): void {
    if (this.length > 0 && this.t[this.length - 1] === t && this.v[this.length - 1] === v) return
    if (this.length === this.t.length) {
      const t2 = new Float64Array(this.t.length * 2)
      const v2 = new Float64Array(this.t.length * 2)
      t2.set(this.t)
      v2.set(this.v)
      this.t = t2
      this.v = v2
    }
    this.t[this.length] = t
    this.v[this.length] = v
    this.length++
  }

  clear (): void {
    this.length = 0
  }
}

function shape (seq: ShapeSource, id: number): Float64Array {
  const s = seq.shapes.get(id)
  if (s === undefined) throw new RangeError(`shape ${id} is not defined`)
  return s
}

/** Sample times of an RF pulse relative to the start of its shape, s. */
export function rfSampleTimes (seq: ShapeSource, rf: RfEvent): Float64Array {
  const n = shape(seq, rf.magShapeId).length
  const dt = seq.rasters.rf
  if (rf.timeShapeId > 0) return shape(seq, rf.timeShapeId).map((x) => x * dt)
  const t = new Float64Array(n)
  for (let i = 0; i < n; i++) t[i] = (i + 0.5) * dt
  return t
}

/** Duration of the RF shape (without delay), s; a time shape ends on the next raster edge (MATLAB rfFromLibData). */
export function rfShapeDuration (seq: ShapeSource, rf: RfEvent): number {
  const dt = seq.rasters.rf
  if (rf.timeShapeId > 0) {
    const ts = shape(seq, rf.timeShapeId)
    return Math.ceil(ts[ts.length - 1] - 1e-6) * dt
  }
  return shape(seq, rf.magShapeId).length * dt
}

/** End of the RF event from the block start, s. */
export function rfEnd (seq: ShapeSource, rf: RfEvent): number {
  return rf.delay + rfShapeDuration(seq, rf)
}

/**
 * Centre of an RF pulse from its waveform, for files before 1.5: the middle of the samples within
 * 1e-5 of the peak magnitude (the MATLAB toolbox's calcRfCenter), so a block pulse has its centre
 * in its middle and a sinc at its main lobe. Relative to the shape start, s.
 */
export function rfCenterFromShape (mag: ArrayLike<number>, times: ArrayLike<number>): number {
  let peak = 0
  for (let i = 0; i < mag.length; i++) peak = Math.max(peak, Math.abs(mag[i]))
  let first = -1
  let last = -1
  for (let i = 0; i < mag.length; i++) {
    if (Math.abs(mag[i]) >= peak * 0.99999) {
      if (first < 0) first = i
      last = i
    }
  }
  if (first < 0) return 0
  return (times[first] + times[last]) / 2
}

/**
 * Nominal flip angle of an RF pulse in degrees: |∫ B1(t) dt| · 360 with B1 in Hz. Default-raster
 * shapes are summed sample by sample; time-shaped pulses are piecewise linear between their samples.
 */
export function rfFlipAngleDeg (seq: ShapeSource, rf: RfEvent): number {
  const mag = shape(seq, rf.magShapeId)
  const ph = shape(seq, rf.phaseShapeId)
  let re = 0
  let im = 0
  if (rf.timeShapeId > 0) {
    const t = rfSampleTimes(seq, rf)
    for (let i = 0; i + 1 < mag.length; i++) {
      const dt = t[i + 1] - t[i]
      re += 0.5 * dt * (mag[i] * Math.cos(2 * Math.PI * ph[i]) + mag[i + 1] * Math.cos(2 * Math.PI * ph[i + 1]))
      im += 0.5 * dt * (mag[i] * Math.sin(2 * Math.PI * ph[i]) + mag[i + 1] * Math.sin(2 * Math.PI * ph[i + 1]))
    }
  } else {
    const dt = seq.rasters.rf
    for (let i = 0; i < mag.length; i++) {
      re += mag[i] * Math.cos(2 * Math.PI * ph[i]) * dt
      im += mag[i] * Math.sin(2 * Math.PI * ph[i]) * dt
    }
  }
  return Math.abs(rf.amplitude) * Math.hypot(re, im) * 360
}

/** End of a gradient from the block start, s. */
export function gradientEnd (seq: ShapeSource, g: GradientEvent): number {
  if (g.type === 'trap') return g.delay + g.rise + g.flat + g.fall
  const dt = seq.rasters.gradient
  const n = shape(seq, g.shapeId).length
  if (g.timeShapeId > 0) {
    const ts = shape(seq, g.timeShapeId)
    return g.delay + Math.ceil(ts[ts.length - 1] - 1e-6) * dt
  }
  if (g.timeShapeId === -1) return g.delay + (n + 1) * dt / 2
  return g.delay + n * dt
}

/**
 * Appends the corner points of a gradient, shifted by t0, to `out`: trapezoids as their 3 or 4
 * corners, time-shaped gradients at their sample times, and default-raster gradients at the raster
 * centres framed by `first` and `last` on the edges. Linear interpolation between the points is the
 * waveform; its integral is exact with the trapezoid rule.
 */
export function gradientCorners (seq: ShapeSource, g: GradientEvent, t0: number, out: PointBuffer): void {
  const d = t0 + g.delay
  if (g.type === 'trap') {
    out.push(d, 0)
    out.push(d + g.rise, g.amplitude)
    if (g.flat > 0) out.push(d + g.rise + g.flat, g.amplitude)
    out.push(d + g.rise + g.flat + g.fall, 0)
    return
  }
  arbitraryCorners(seq, g, d, out)
}

function arbitraryCorners (seq: ShapeSource, g: ArbitraryGradient, d: number, out: PointBuffer): void {
  const w = shape(seq, g.shapeId)
  const a = g.amplitude
  const dt = seq.rasters.gradient
  if (g.timeShapeId > 0) {
    const ts = shape(seq, g.timeShapeId)
    for (let i = 0; i < w.length; i++) out.push(d + ts[i] * dt, a * w[i])
    return
  }
  out.push(d, g.first)
  if (g.timeShapeId === -1) {
    for (let i = 0; i < w.length; i++) out.push(d + (i + 1) * dt / 2, a * w[i])
    out.push(d + (w.length + 1) * dt / 2, g.last)
  } else {
    for (let i = 0; i < w.length; i++) out.push(d + (i + 0.5) * dt, a * w[i])
    out.push(d + w.length * dt, g.last)
  }
}

/** Area of a gradient, 1/m (Hz/m · s). */
export function gradientArea (seq: ShapeSource, g: GradientEvent): number {
  if (g.type === 'trap') return g.amplitude * (g.rise / 2 + g.flat + g.fall / 2)
  const pts = new PointBuffer()
  arbitraryCorners(seq, g, 0, pts)
  let area = 0
  for (let i = 0; i + 1 < pts.length; i++) area += 0.5 * (pts.v[i] + pts.v[i + 1]) * (pts.t[i + 1] - pts.t[i])
  return area
}

/** End of an ADC event from the block start, s. */
export function adcEnd (adc: AdcEvent): number {
  return adc.delay + adc.numSamples * adc.dwell
}

/**
 * Start time of every block and the total duration, summed with Neumaier's compensation so that a
 * million blocks of 10 µs add up to 10 s, not to 9.99999999998 s.
 */
export function blockStarts (durations: Float64Array): { start: Float64Array, total: number } {
  const start = new Float64Array(durations.length)
  let sum = 0
  let carry = 0
  for (let b = 0; b < durations.length; b++) {
    start[b] = sum + carry
    const d = durations[b]
    const t = sum + d
    carry += Math.abs(sum) >= Math.abs(d) ? (sum - t) + d : (d - t) + sum
    sum = t
  }
  return { start, total: sum + carry }
}

/** The latest end of any event of block `b` (RF, gradients, ADC), s from the block start. */
export function blockEventsEnd (seq: Sequence, b: number): number {
  let end = 0
  const bl = seq.blocks
  const rf = seq.rf.get(bl.rf[b])
  if (rf !== undefined) end = Math.max(end, rfEnd(seq, rf))
  for (const id of [bl.gx[b], bl.gy[b], bl.gz[b]]) {
    const g = seq.gradients.get(id)
    if (g !== undefined) end = Math.max(end, gradientEnd(seq, g))
  }
  const adc = seq.adc.get(bl.adc[b])
  if (adc !== undefined) end = Math.max(end, adcEnd(adc))
  return end
}
