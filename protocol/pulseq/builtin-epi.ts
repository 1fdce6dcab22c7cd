// Single-shot 2D gradient-echo EPI, after pypulseq's write_epi_label: a slice-selective excitation,
// three navigator readouts at ky = 0 (polarities +, -, +) for the Nyquist-ghost phase correction, then
// the blipped echo train. Options: ramp sampling, partial Fourier (the first lines left out), several
// slices interleaved within TR.
//
// Timing of the train. Every readout is one block of the same duration T: the readout trapezoid, and
// on y the two halves of the blips that join it to its neighbours, split at the block boundary as
// pypulseq's split_gradient_at does (the y gradient of block j ends at the blip peak, and that of
// block j+1 starts there). The ADC is centred on the trapezoid and stays clear of the blip halves,
// so ky is constant over every readout. Because gradient and ADC are symmetric about the block
// centre, a reversed line sampled backwards is exactly a forward line: after flipping, sample m of
// either sits at the same kx.
//
// Conventions: line LIN = i has ky = (i - floor(Ny/2))/FOVy and lines are acquired in ascending ky.
// On a forward (+) readout sample N/2 is at kx = 0; on a reversed one (REV = 1) it is sample
// N/2 - 1. Without ramp sampling the N = Nx·os samples lie on the flat top at Δk/os; with it the ADC
// also covers the ramps (N > Nx·os, denser there) and the readout needs its trajectory to be gridded.
// TE is the time from the excitation centre to the k = 0 sample of the centre line.
// Labels (pypulseq write_epi_label): NAV = 1 on navigators, 0 on image lines; REV = 1 on reversed
// readouts; LIN = line (navigators: the centre line); SLC = slice.

import { blockDuration, SequenceBuilder } from './builder.ts'
import type { ShapedGradient } from './builder.ts'
import { ceilToRaster, makeAdc, makeTrapezoid, systemLimits } from './design.ts'
import type { SystemLimits } from './design.ts'
import { SeqBuildError } from './errors.ts'
import type { AdcEvent, Sequence, TrapGradient } from './types.ts'
import { pair, partialFourierSteps, echoAndRepetitionDelays, labelled, mTm, encodeArea, together, onSlice, positiveLength, trapAreaUntil, setCommonDefinitions, slicePosition, slicePulse, wholeNumber } from './builtin-parts.ts'

export interface EpiParams {
  name?: string
  /** [Nx, Ny], default [64, 64]. */
  matrix?: [number, number]
  /** Field of view in m, default 0.256. */
  fovM?: number | [number, number]
  /** Default 0.004. */
  sliceThicknessM?: number
  /** Default 1. */
  slices?: number
  sliceSpacingM?: number
  /** Default the shortest. */
  teS?: number
  /** Time between excitations of the same slice; default the shortest. */
  trS?: number
  /** Default 90. */
  flipAngleDeg?: number
  readoutOversampling?: number
  /** Dwell time of the samples on the flat top, s; default 10 µs / oversampling (or longer if the gradient needs it). */
  dwellS?: number
  /** Sample the ramps too; default false. */
  rampSampling?: boolean
  /** Fraction of the lines acquired: 5/8, 6/8, 7/8 or 1 (default). */
  partialFourier?: number
  /** Navigator readouts before the train, 3 (default) or 0. */
  navigators?: number
  /** Default 2.5e-3. */
  rfDurationS?: number
  timeBandwidth?: number
  /** LIN, SLC, NAV and REV labels; default true. */
  labels?: boolean
  system?: Partial<SystemLimits>
}

const PARTIAL_FOURIER = [5 / 8, 6 / 8, 7 / 8, 1]

/** The readout of the train: trapezoid, centred ADC, blip. */
interface EpiReadout {
  gx: TrapGradient
  adc: AdcEvent
  /** Block duration T, s. */
  duration: number
  /** Area before sample N/2 of a forward readout, 1/m (the prephaser is its negative). */
  areaToCentre: number
  /** Half of the blip: its duration (cells) and peak, Hz/m. */
  blipCells: number
  blipPeak: number
}

/** The smallest multiple of the ADC raster ≥ min whose product with `samples` is a whole number of 2 µs. */
function symmetricDwell (sys: SystemLimits, samples: number, min: number): number {
  const raster = sys.rasters.adc
  for (let k = Math.ceil(min / raster - 1e-9); k < Math.ceil(min / raster - 1e-9) + 1000; k++) {
    if (isMultiple(samples * k * raster, 2e-6)) return k * raster
  }
  throw new SeqBuildError(`no dwell time near ${min} s centres ${samples} samples on the microsecond raster`)
}

function isMultiple (x: number, step: number): boolean {
  return Math.abs(x / step - Math.round(x / step)) < 1e-6
}

function designReadout (sys: SystemLimits, nx: number, fovX: number, fovY: number, os: number, dwellWanted: number | undefined, ramp: boolean): EpiReadout {
  const dt = sys.rasters.gradient
  const dk = 1 / fovX
  const minDwell = Math.max(dwellWanted ?? 10e-6 / os, dk / (os * sys.maxGrad))
  // The blip: a triangle of area Δky, split in two halves on the gradient raster.
  const blipHalf = Math.max(ceilToRaster(Math.sqrt(1 / fovY / sys.maxSlew), dt), ceilToRaster(sys.adcDeadTime, dt))
  const blipPeak = 1 / fovY / blipHalf
  if (blipPeak > sys.maxGrad) throw new SeqBuildError(`the phase blips need ${mTm(blipPeak)} mT/m; enlarge the FOV`)

  if (!ramp) {
    const n = nx * os
    const dwell = symmetricDwell(sys, n, minDwell)
    const amplitude = dk / os / dwell
    if (amplitude > sys.maxGrad * (1 + 1e-9)) throw new SeqBuildError(`the readout needs ${mTm(amplitude)} mT/m, more than the system's ${mTm(sys.maxGrad)} mT/m; lengthen the dwell time or enlarge the FOV`)
    const rise = Math.max(ceilToRaster(amplitude / sys.maxSlew, dt), blipHalf)
    const flat = ceilToRaster(n * dwell, dt)
    const gx: TrapGradient = { type: 'trap', amplitude, rise, flat, fall: rise, delay: 0 }
    return finish(sys, gx, n, dwell, blipHalf, blipPeak)
  }
  // Ramp sampling: the flat-top spacing Δk/os sets the dwell; the flat top is as short as lets the
  // samples between the blip halves span Nx·Δk.
  const dwell = ceilToRaster(minDwell, sys.rasters.adc)
  const amplitude = dk / os / dwell
  if (amplitude > sys.maxGrad * (1 + 1e-9)) throw new SeqBuildError(`the readout needs ${mTm(amplitude)} mT/m, more than the system's ${mTm(sys.maxGrad)} mT/m; lengthen the dwell time or enlarge the FOV`)
  const rise = Math.max(ceilToRaster(amplitude / sys.maxSlew, dt), blipHalf)
  for (let flat = 0; flat < 1; flat += dt) {
    const gx: TrapGradient = { type: 'trap', amplitude, rise, flat: Math.round(flat / dt) * dt, fall: rise, delay: 0 }
    const total = 2 * rise + gx.flat
    let n = 2 * Math.floor((total - 2 * blipHalf) / dwell / 2 + 1e-9)
    while (n > 0 && !isMultiple(n * dwell, 2e-6)) n -= 2
    if (n <= 0) continue
    const t0 = (total - n * dwell) / 2 + dwell / 2
    const extent = trapAreaUntil(gx, t0 + (n - 1) * dwell) - trapAreaUntil(gx, t0)
    if (extent >= nx * dk * (1 - 1e-9)) return finish(sys, gx, n, dwell, blipHalf, blipPeak)
  }
  throw new SeqBuildError('no ramp-sampled readout fits; check the FOV and dwell time')
}

function finish (sys: SystemLimits, gx: TrapGradient, n: number, dwell: number, blipHalf: number, blipPeak: number): EpiReadout {
  const duration = gx.rise + gx.flat + gx.fall
  const adc = makeAdc(sys, { numSamples: n, dwell, delay: (duration - n * dwell) / 2 })
  if (Math.abs(adc.delay - (duration - n * dwell) / 2) > 1e-12) throw new SeqBuildError('the EPI readout ADC could not be centred on the microsecond raster')
  if (Math.abs(blockDuration(sys, { gx, adc }) - duration) > 1e-12) {
    throw new SeqBuildError('the EPI readout block is longer than its gradient; the blips would not join')
  }
  return {
    gx,
    adc,
    duration,
    areaToCentre: trapAreaUntil(gx, adc.delay + (n / 2 + 0.5) * dwell),
    blipCells: Math.round(blipHalf / sys.rasters.gradient),
    blipPeak
  }
}

/**
 * The y gradient of one readout block: the second half of the previous blip and the first of the
 * next, as an extended trapezoid (corner points in gradient raster units), so the ramps are exact.
 */
function blipHalves (ro: EpiReadout, cells: number, fromPrevious: boolean, toNext: boolean): ShapedGradient | undefined {
  if (!fromPrevious && !toNext) return undefined
  const h = ro.blipCells
  const peak = ro.blipPeak
  const times: number[] = []
  const values: number[] = []
  if (fromPrevious) { times.push(0, h); values.push(peak, 0) } else { times.push(0); values.push(0) }
  if (toNext) { times.push(cells - h, cells); values.push(0, peak) } else { times.push(cells); values.push(0) }
  return { type: 'shaped', waveform: Float64Array.from(values), times: Float64Array.from(times), first: values[0], last: values[values.length - 1], delay: 0 }
}

/** Single-shot 2D gradient-echo EPI with navigators. */
export function epi2d (params: EpiParams = {}): Sequence {
  const sys = systemLimits(params.system)
  const [nx, ny] = params.matrix ?? [64, 64]
  wholeNumber('matrix Nx', nx, 2, 1024)
  wholeNumber('matrix Ny', ny, 2, 1024)
  const [fovX, fovY] = pair(params.fovM ?? 0.256)
  positiveLength('FOV', fovX)
  positiveLength('FOV', fovY)
  const thickness = positiveLength('slice thickness', params.sliceThicknessM ?? 0.004)
  const slices = wholeNumber('slices', params.slices ?? 1, 1, 1024)
  const spacing = positiveLength('slice spacing', params.sliceSpacingM ?? thickness)
  const os = wholeNumber('readout oversampling', params.readoutOversampling ?? 1, 1, 8)
  if ((nx * os) % 2 !== 0) throw new SeqBuildError(`Nx × oversampling (${nx * os}) must be even, so that a sample lies on the k-space centre`)
  const navigators = params.navigators ?? 3
  if (navigators !== 0 && navigators !== 3) throw new SeqBuildError(`navigators must be 0 or 3, not ${navigators}`)
  const pf = params.partialFourier ?? 1
  if (!PARTIAL_FOURIER.some((f) => Math.abs(f - pf) < 1e-9)) throw new SeqBuildError(`partial Fourier must be 5/8, 6/8, 7/8 or 1, not ${pf}`)
  const lines = partialFourierSteps('ky', ny, pf)
  const labels = params.labels ?? true
  const ramp = params.rampSampling ?? false

  const exc = slicePulse(sys, { flipAngleDeg: params.flipAngleDeg ?? 90, duration: params.rfDurationS ?? 2.5e-3, sliceThickness: thickness, timeBandwidth: params.timeBandwidth })
  const ro = designReadout(sys, nx, fovX, fovY, os, params.dwellS, ramp)
  const T = ro.duration
  const n = ro.adc.numSamples
  const pre = together(sys, [-ro.areaToCentre, exc.rephaseArea])
  const gxPre = pre.make(-ro.areaToCentre)
  const gzReph = pre.make(exc.rephaseArea)
  const ky0 = encodeArea(lines[0], ny, fovY)
  const gyPre = ky0 === 0 ? undefined : makeTrapezoid(sys, { area: ky0 })
  const gyPreDur = gyPre === undefined ? 0 : blockDuration(sys, { gy: gyPre })
  const gzSpoil = makeTrapezoid(sys, { area: 4 / thickness })
  const spoilDur = blockDuration(sys, { gz: gzSpoil })

  const excDur = blockDuration(sys, { rf: exc.rf, gz: exc.gz })
  const centreIndex = Math.floor(ny / 2) - lines[0]
  const centreReversed = (navigators + centreIndex) % 2 === 1
  // On a reversed readout the k = 0 sample is N/2 - 1, half a dwell before the block centre.
  const echoInBlock = ro.adc.delay + (centreReversed ? n / 2 - 0.5 : n / 2 + 0.5) * ro.adc.dwell
  const minTe = excDur - (exc.rf.delay + exc.rf.center) + pre.duration + navigators * T + gyPreDur + centreIndex * T + echoInBlock
  const { teDelay, trDelay, period } = echoAndRepetitionDelays(sys, params, minTe, (teDelay) => excDur + pre.duration + navigators * T + teDelay + gyPreDur + lines.length * T + spoilDur, slices)

  const b = new SequenceBuilder(sys)
  setCommonDefinitions(b, {
    name: params.name ?? 'epi',
    fov: [fovX, fovY, thickness],
    te: minTe + teDelay,
    tr: (period + trDelay) * slices,
    sliceThickness: thickness,
    os,
    extra: {
      kSpaceCenterLine: Math.floor(ny / 2),
      MatrixSize: [nx, ny, 1],
      PhaseEncodingLines: ny,
      PartialFourier: pf,
      RampSampling: ramp ? 1 : 0,
      EchoSpacing: T,
      Navigators: navigators
    }
  })
  const cells = Math.round(T / sys.rasters.gradient)
  const readout = (polarity: number): TrapGradient => ({ ...ro.gx, amplitude: ro.gx.amplitude * polarity })
  for (let s = 0; s < slices; s++) {
    b.addBlock({ rf: onSlice(exc.rf, exc.gz, slicePosition(s, slices, spacing), 0), gz: exc.gz })
    b.addBlock({ gx: gxPre, gz: gzReph, duration: pre.duration })
    let polarity = 1
    for (let k = 0; k < navigators; k++) {
      b.addBlock({ gx: readout(polarity), adc: ro.adc, ...labelled(labels, { NAV: 1, LIN: Math.floor(ny / 2), REV: polarity < 0 ? 1 : 0, SLC: s }) })
      polarity = -polarity
    }
    if (teDelay > 0) b.addBlock({ duration: teDelay })
    if (gyPre !== undefined) b.addBlock({ gy: gyPre })
    lines.forEach((line, j) => {
      b.addBlock({
        gx: readout(polarity),
        gy: blipHalves(ro, cells, j > 0, j < lines.length - 1),
        adc: ro.adc,
        ...labelled(labels, { NAV: 0, LIN: line, REV: polarity < 0 ? 1 : 0, SLC: s })
      })
      polarity = -polarity
    })
    b.addBlock({ gz: gzSpoil })
    if (trDelay > 0) b.addBlock({ duration: trDelay })
  }
  return b.build()
}
