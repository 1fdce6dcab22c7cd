// 2D spiral-out gradient echo: after a slice-selective excitation, an Archimedean spiral
// k(θ) = λ·θ·e^{iθ} from k = 0 to beyond kmax = N/(2·FOV), one or a few interleaves turned by 2π/Nint.
// With λ = Nint/(2π·FOV) the turns of all interleaves together are 1/FOV apart along every radius
// (Nyquist for the FOV), and the ADC dwell keeps consecutive samples within 1/(os·FOV) along the path.
//
// The waveform is designed on a fine time grid at the slew limit until the amplitude limit takes
// over (the usual two-regime spiral, e.g. Glover, MRM 1999; Hargreaves' vds), then put on the gradient
// raster as arbitrary gradients ([GRADIENTS] shapes, cell averages of dk/dt), with a ramp down to 0
// after the readout and trapezoids that rewind k to 0 before the spoiler. Design limits are 98% of the
// maximum amplitude and 95% of the maximum slew rate (less, down to 60%, if the rastered waveform
// needs it: at the centre the curve turns fast); the rastered waveform is checked against the full
// limits, and a design that breaks them is refused.
//
// Labels: LIN = interleave (the ISMRMRD convention for spiral data), SLC = slice. TE is the time from
// the excitation centre to the first sample, at k ≈ 0.

import { blockDuration, SequenceBuilder } from './builder.ts'
import type { ShapedGradient } from './builder.ts'
import { makeAdc, makeTrapezoid, systemLimits } from './design.ts'
import type { SystemLimits } from './design.ts'
import { SeqBuildError } from './errors.ts'
import type { Sequence } from './types.ts'
import { echoAndRepetitionDelays, labelled, mTm, together, onSlice, positiveLength, rfSpoilPhase, setCommonDefinitions, slicePosition, slicePulse, wholeNumber } from './builtin-parts.ts'

export interface SpiralParams {
  name?: string
  /** [N, N], image N × N; default [64, 64]. Only the first entry is used. */
  matrix?: [number, number]
  /** Field of view in m, default 0.256. */
  fovM?: number
  /** Spiral interleaves, default 1. */
  interleaves?: number
  sliceThicknessM?: number
  slices?: number
  sliceSpacingM?: number
  teS?: number
  trS?: number
  /** Default 15. */
  flipAngleDeg?: number
  /** Samples per 1/FOV along the path at the peak gradient; default 1. */
  readoutOversampling?: number
  rfDurationS?: number
  timeBandwidth?: number
  rfSpoilingIncDeg?: number
  /** LIN and SLC labels, default true. */
  labels?: boolean
  system?: Partial<SystemLimits>
}

/** One interleave on the gradient raster. */
export interface SpiralWaveform {
  /** Gradient per raster cell (Hz/m), spiral then ramp down to 0. */
  gx: Float64Array
  gy: Float64Array
  /** Cells of the spiral proper, before the ramp down. */
  spiralCells: number
  /** Largest gradient magnitude of the spiral, Hz/m. */
  peak: number
}

const AMPLITUDE_MARGIN = 0.98
/** Fractions of the slew rate tried in turn until the rastered waveform keeps within the full limit. */
const SLEW_MARGINS = [0.95, 0.9, 0.85, 0.8, 0.7, 0.6]
const FINE_STEPS = 16
const MAX_TURN_PER_CELL = 0.5

/**
 * The first interleave of an Archimedean spiral out to kmax (1/m) with turn spacing `turn` (1/m),
 * time-optimal under the amplitude and slew limits as far as a forward integration gets it.
 */
export function designSpiral (sys: SystemLimits, kmax: number, turn: number, slewFraction = SLEW_MARGINS[0]): SpiralWaveform {
  const dt = sys.rasters.gradient
  const G = sys.maxGrad * AMPLITUDE_MARGIN
  const S = sys.maxSlew * slewFraction
  const lambda = turn / (2 * Math.PI)
  const thetaMax = kmax / lambda
  const h = dt / FINE_STEPS
  const edges: number[] = [0]
  let theta = 0
  let omega = 0
  let step = 0
  // θ(t) at every raster edge; α = d²θ/dt² is the largest the slew limit allows:
  // |λ(α(1 + iθ) + ω²(2i - θ))| = S, a quadratic in α.
  while (theta < thetaMax) {
    const a2 = 1 + theta * theta
    const re = theta * omega * omega
    const b2 = omega ** 4 * (theta * theta + 4)
    const disc = re * re - a2 * (b2 - (S / lambda) ** 2)
    const alpha = disc > 0 ? (-re + Math.sqrt(disc)) / a2 : -re / a2
    // Near the centre the turns are tiny: at most MAX_TURN_PER_CELL rad per raster cell, so that the
    // rastered waveform follows the curve within the slew limit.
    const omegaMax = Math.min(G / (lambda * Math.sqrt(a2)), MAX_TURN_PER_CELL / dt)
    const next = Math.min(omega + alpha * h, omegaMax)
    theta += (omega + next) / 2 * h
    omega = next
    if (++step % FINE_STEPS === 0) edges.push(theta)
    if (edges.length * dt > 10) throw new SeqBuildError('the spiral would last longer than 10 s; use more interleaves')
  }
  if (step % FINE_STEPS !== 0) {
    // Finish the last raster cell on the spiral, beyond kmax.
    while (step % FINE_STEPS !== 0) {
      theta += omega * h
      step++
    }
    edges.push(theta)
  }
  const cells = edges.length - 1
  const kx = edges.map((t) => lambda * t * Math.cos(t))
  const ky = edges.map((t) => lambda * t * Math.sin(t))
  const sx = centreValues(kx, dt)
  const sy = centreValues(ky, dt)
  let peak = 0
  for (let m = 0; m < cells; m++) peak = Math.max(peak, Math.hypot(sx[m], sy[m]))
  // Ramp down from the last value at the slew limit.
  const ex = sx[cells - 1]
  const ey = sy[cells - 1]
  const ramp = rampCells(Math.hypot(ex, ey), S * dt)
  const gx = new Float64Array(cells + ramp)
  const gy = new Float64Array(cells + ramp)
  gx.set(sx)
  gy.set(sy)
  for (let r = 1; r <= ramp; r++) {
    gx[cells + r - 1] = ex * (ramp - r) / ramp
    gy[cells + r - 1] = ey * (ramp - r) / ramp
  }
  return { gx, gy, spiralCells: cells, peak }
}

function rampCells (amplitude: number, stepPerCell: number): number {
  return Math.max(1, Math.ceil(amplitude / stepPerCell))
}

/**
 * Values at the raster-cell centres whose piecewise-linear interpolation (0 at the start edge, the
 * last cell at its plain average) has exactly the area k[m+1] - k[m] over every other cell m, so
 * that k is exact at every raster edge up to kmax. Cell m of the interpolant has area dt·(w[m-1]/8 + 3w[m]/4 + w[m+1]/8)
 * (the first cell dt·(5w[0]/8 + w[1]/8)); a diagonally dominant tridiagonal system (Thomas algorithm).
 */
function centreValues (k: number[], dt: number): Float64Array {
  const n = k.length - 1
  const lower = new Float64Array(n).fill(1 / 8)
  const diag = new Float64Array(n).fill(3 / 4)
  const upper = new Float64Array(n).fill(1 / 8)
  const rhs = Float64Array.from({ length: n }, (_, m) => (k[m + 1] - k[m]) / dt)
  diag[0] = 5 / 8
  lower[0] = 0
  // The last cell, which joins the ramp down, keeps its plain average (its far edge is past kmax).
  diag[n - 1] = 1
  lower[n - 1] = 0
  upper[n - 1] = 0
  for (let m = 1; m < n; m++) {
    const f = lower[m] / diag[m - 1]
    diag[m] -= f * upper[m - 1]
    rhs[m] -= f * rhs[m - 1]
  }
  const w = new Float64Array(n)
  w[n - 1] = rhs[n - 1] / diag[n - 1]
  for (let m = n - 2; m >= 0; m--) w[m] = (rhs[m] - upper[m] * w[m + 1]) / diag[m]
  return w
}

/**
 * Largest gradient magnitude and slew of a rastered waveform pair read as the interpreter reads it
 * (linear between cell centres, 0 at both edges); as vector norms, so they hold for every rotation.
 */
function rasteredLimits (w: SpiralWaveform, dt: number): { amplitude: number, slew: number } {
  const n = w.gx.length
  const x = (m: number): number => m < 0 || m >= n ? 0 : w.gx[m]
  const y = (m: number): number => m < 0 || m >= n ? 0 : w.gy[m]
  let amplitude = 0
  let slew = 0
  for (let m = 0; m <= n; m++) {
    amplitude = Math.max(amplitude, Math.hypot(x(m), y(m)))
    const step = m === 0 || m === n ? dt / 2 : dt
    slew = Math.max(slew, Math.hypot(x(m) - x(m - 1), y(m) - y(m - 1)) / step)
  }
  return { amplitude, slew }
}

/** Area of a rastered waveform as the interpreter integrates it (linear between cell centres, 0 at the edges), 1/m. */
function rasteredArea (w: Float64Array, dt: number): number {
  let area = w[0] * dt / 4 + w[w.length - 1] * dt / 4
  for (let m = 1; m < w.length; m++) area += (w[m - 1] + w[m]) / 2 * dt
  return area
}

function rotated (w: SpiralWaveform, phi: number): { gx: Float64Array, gy: Float64Array } {
  const c = Math.cos(phi)
  const s = Math.sin(phi)
  return { gx: w.gx.map((x, m) => c * x - s * w.gy[m]), gy: w.gx.map((x, m) => s * x + c * w.gy[m]) }
}

/** 2D spiral-out RF-spoiled gradient echo. */
export function spiral2d (params: SpiralParams = {}): Sequence {
  const sys = systemLimits(params.system)
  const dt = sys.rasters.gradient
  const n = wholeNumber('matrix N', (params.matrix ?? [64, 64])[0], 2, 1024)
  const fov = positiveLength('FOV', params.fovM ?? 0.256)
  const interleaves = wholeNumber('interleaves', params.interleaves ?? 1, 1, 256)
  const thickness = positiveLength('slice thickness', params.sliceThicknessM ?? 0.005)
  const slices = wholeNumber('slices', params.slices ?? 1, 1, 1024)
  const spacing = positiveLength('slice spacing', params.sliceSpacingM ?? thickness)
  const os = wholeNumber('readout oversampling', params.readoutOversampling ?? 1, 1, 8)
  const labels = params.labels ?? true
  const kmax = n / (2 * fov)

  // One extra Δk past kmax, so that the last sample is surely beyond it.
  let wave: SpiralWaveform | undefined
  let limits = { amplitude: 0, slew: 0 }
  for (const fraction of SLEW_MARGINS) {
    wave = designSpiral(sys, kmax + 1 / fov, interleaves / fov, fraction)
    limits = rasteredLimits(wave, dt)
    if (limits.amplitude <= sys.maxGrad && limits.slew <= sys.maxSlew) break
    wave = undefined
  }
  if (wave === undefined) {
    throw new SeqBuildError(`the rastered spiral needs ${mTm(limits.amplitude)} mT/m and ${(limits.slew / sys.maxSlew * 100).toFixed(1)}% of the slew rate; use a finer gradient raster`)
  }
  const dwell = Math.floor(1 / (fov * os * wave.peak) / sys.rasters.adc + 1e-9) * sys.rasters.adc
  if (!(dwell > 0)) throw new SeqBuildError('the spiral is too fast for the ADC raster')
  const samples = Math.floor(wave.spiralCells * dt / dwell)
  const adc = makeAdc(sys, { numSamples: samples, dwell, delay: 0 })

  const exc = slicePulse(sys, { flipAngleDeg: params.flipAngleDeg ?? 15, duration: params.rfDurationS ?? 2e-3, sliceThickness: thickness, timeBandwidth: params.timeBandwidth })
  const gzReph = makeTrapezoid(sys, { area: exc.rephaseArea })
  const gzSpoilArea = 4 / thickness
  const areaX = rasteredArea(wave.gx, dt)
  const areaY = rasteredArea(wave.gy, dt)
  const rewind = together(sys, [Math.hypot(areaX, areaY), gzSpoilArea])
  const gzSpoil = rewind.make(gzSpoilArea)

  const excDur = blockDuration(sys, { rf: exc.rf, gz: exc.gz })
  const rephDur = blockDuration(sys, { gz: gzReph })
  const readoutDur = blockDuration(sys, { gx: { type: 'shaped', waveform: wave.gx, first: 0, last: 0, delay: 0 }, adc })
  const minTe = excDur - (exc.rf.delay + exc.rf.center) + rephDur + dwell / 2
  const { teDelay, trDelay, period } = echoAndRepetitionDelays(sys, params, minTe, (teDelay) => excDur + rephDur + teDelay + readoutDur + rewind.duration, slices)

  const b = new SequenceBuilder(sys)
  setCommonDefinitions(b, {
    name: params.name ?? 'spiral',
    fov: [fov, fov, thickness],
    te: minTe + teDelay,
    tr: (period + trDelay) * slices,
    sliceThickness: thickness,
    os,
    extra: { Interleaves: interleaves, MatrixSize: [n, n, 1] }
  })
  const inc = params.rfSpoilingIncDeg ?? 117
  let excitation = 0
  for (let j = 0; j < interleaves; j++) {
    const phi = 2 * Math.PI * j / interleaves
    const { gx, gy } = rotated(wave, phi)
    const shaped = (w: Float64Array): ShapedGradient => ({ type: 'shaped', waveform: w, first: 0, last: 0, delay: 0 })
    const c = Math.cos(phi)
    const s = Math.sin(phi)
    const rx = rewind.make(-(c * areaX - s * areaY))
    const ry = rewind.make(-(s * areaX + c * areaY))
    for (let sl = 0; sl < slices; sl++) {
      const phase = rfSpoilPhase(excitation++, inc)
      b.addBlock({ rf: onSlice(exc.rf, exc.gz, slicePosition(sl, slices, spacing), phase), gz: exc.gz })
      b.addBlock({ gz: gzReph })
      if (teDelay > 0) b.addBlock({ duration: teDelay })
      b.addBlock({ gx: shaped(gx), gy: shaped(gy), adc: { ...adc, phaseOffset: phase }, ...labelled(labels, { LIN: j, SLC: sl }) })
      b.addBlock({ gx: rx, gy: ry, gz: gzSpoil, duration: rewind.duration })
      if (trDelay > 0) b.addBlock({ duration: trDelay })
    }
  }
  return b.build()
}
