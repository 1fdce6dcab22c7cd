// Radial gradient echoes. `radial2d`: full spokes through the k-space centre, the readout of the 2D GRE
// turned by the spoke angle (sample N/2 at k = 0, |k| up to Nx/(2·FOV)), angles uniform over 180° or
// golden (111.246°, 180°/φ). `ute2d`: centre-out half spokes after a hard (or slice-selective) pulse,
// the ADC opening with the readout gradient so that the first sample sits at k ≈ 0 and the ramp is
// sampled, for the shortest echo time; angles uniform over 360° or by the 360° golden angle (137.51°).
//
// Labels: LIN = spoke index (the ISMRMRD convention for radial data), SLC = slice. Spoke i lies along
// angle φ_i from +kx towards +ky. [DEFINITIONS] MatrixSize (N N 1) names the image the spokes are for,
// which their sample count alone does not tell; Spokes and SpokeAngleIncrement (rad) the angles.

import { blockDuration, SequenceBuilder } from './builder.ts'
import { ceilToRaster, makeAdc, makeBlockPulse, makeTrapezoid, roundToRaster, systemLimits } from './design.ts'
import type { DesignRf, SystemLimits } from './design.ts'
import { SeqBuildError } from './errors.ts'
import type { Sequence, TrapGradient } from './types.ts'
import { cartesianReadout, echoAndRepetitionDelays, labelled, mTm, together, onSlice, positiveLength, trapAreaUntil, rfSpoilPhase, scaled, setCommonDefinitions, slicePosition, slicePulse, wholeNumber } from './builtin-parts.ts'

/** 180°/φ, the golden angle for full spokes (Winkelmann et al., IEEE TMI 2007), rad. */
export const GOLDEN_ANGLE_FULL_SPOKE = Math.PI * (Math.sqrt(5) - 1) / 2
/** 360°/φ², the golden angle for half spokes over the full circle, rad. */
export const GOLDEN_ANGLE_HALF_SPOKE = Math.PI * (3 - Math.sqrt(5))

export interface RadialParams {
  name?: string
  /** [N, N]: N samples (× oversampling) per spoke, image N × N; default [64, 64]. Only the first entry is used. */
  matrix?: [number, number]
  /** Field of view in m, default 0.256. */
  fovM?: number
  /** Spokes, default ⌈π/2 · N⌉ (full spokes) or ⌈π · N⌉ (half spokes). */
  spokes?: number
  /** Golden-angle increments instead of uniform angles; default false. */
  goldenAngle?: boolean
  sliceThicknessM?: number
  slices?: number
  sliceSpacingM?: number
  teS?: number
  trS?: number
  /** Default 10 (radial), 10 (UTE). */
  flipAngleDeg?: number
  readoutOversampling?: number
  readoutDurationS?: number
  rfDurationS?: number
  timeBandwidth?: number
  rfSpoilingIncDeg?: number
  /** LIN and SLC labels; default true. */
  labels?: boolean
  system?: Partial<SystemLimits>
}

export interface UteParams extends RadialParams {
  /** A non-selective hard pulse (default, for the shortest TE) or a slice-selective sinc. */
  excitation?: 'hard' | 'slice'
}

/** Angle of spoke i, rad in [0, 2π). */
export function spokeAngle (i: number, spokes: number, golden: boolean, halfSpokes: boolean): number {
  const a = golden
    ? i * (halfSpokes ? GOLDEN_ANGLE_HALF_SPOKE : GOLDEN_ANGLE_FULL_SPOKE)
    : i * (halfSpokes ? 2 * Math.PI : Math.PI) / spokes
  return a % (2 * Math.PI)
}

interface Common {
  sys: SystemLimits
  n: number
  fov: number
  os: number
  thickness: number
  slices: number
  spacing: number
  labels: boolean
}

function common (params: RadialParams): Common {
  const sys = systemLimits(params.system)
  const n = wholeNumber('matrix N', (params.matrix ?? [64, 64])[0], 2, 4096)
  const fov = positiveLength('FOV', params.fovM ?? 0.256)
  const os = wholeNumber('readout oversampling', params.readoutOversampling ?? 1, 1, 8)
  const thickness = positiveLength('slice thickness', params.sliceThicknessM ?? 0.005)
  const slices = wholeNumber('slices', params.slices ?? 1, 1, 1024)
  const spacing = positiveLength('slice spacing', params.sliceSpacingM ?? thickness)
  return { sys, n, fov, os, thickness, slices, spacing, labels: params.labels ?? true }
}

/** 2D radial RF-spoiled GRE with full spokes. */
export function radial2d (params: RadialParams = {}): Sequence {
  const { sys, n, fov, os, thickness, slices, spacing, labels } = common(params)
  const spokes = wholeNumber('spokes', params.spokes ?? Math.ceil(Math.PI / 2 * n), 1, 100_000)
  const golden = params.goldenAngle ?? false
  const exc = slicePulse(sys, { flipAngleDeg: params.flipAngleDeg ?? 10, duration: params.rfDurationS ?? 2e-3, sliceThickness: thickness, timeBandwidth: params.timeBandwidth })
  const ro = cartesianReadout(sys, n, fov, os, params.readoutDurationS)
  const pre = together(sys, [ro.preArea, exc.rephaseArea])
  const gPre = pre.make(ro.preArea)
  const gzReph = pre.make(exc.rephaseArea)
  const gzSpoilArea = 4 / thickness
  const spoil = together(sys, [ro.spoilArea, gzSpoilArea])
  const gSpoil = spoil.make(ro.spoilArea)
  const gzSpoil = spoil.make(gzSpoilArea)

  const excDur = blockDuration(sys, { rf: exc.rf, gz: exc.gz })
  const roDur = blockDuration(sys, { gx: ro.gx, adc: ro.adc })
  const minTe = excDur - (exc.rf.delay + exc.rf.center) + pre.duration + ro.echo
  const { teDelay, trDelay, period } = echoAndRepetitionDelays(sys, params, minTe, (teDelay) => excDur + pre.duration + teDelay + roDur + spoil.duration, slices)

  const b = new SequenceBuilder(sys)
  setCommonDefinitions(b, {
    name: params.name ?? (golden ? 'radial_golden' : 'radial'),
    fov: [fov, fov, thickness],
    te: minTe + teDelay,
    tr: (period + trDelay) * slices,
    sliceThickness: thickness,
    os,
    extra: { MatrixSize: [n, n, 1], Spokes: spokes, SpokeAngleIncrement: golden ? GOLDEN_ANGLE_FULL_SPOKE : Math.PI / spokes, kSpaceCenterSample: ro.adc.numSamples / 2 }
  })
  const inc = params.rfSpoilingIncDeg ?? 117
  let excitation = 0
  for (let i = 0; i < spokes; i++) {
    const phi = spokeAngle(i, spokes, golden, false)
    const c = Math.cos(phi)
    const s = Math.sin(phi)
    for (let sl = 0; sl < slices; sl++) {
      const phase = rfSpoilPhase(excitation++, inc)
      b.addBlock({ rf: onSlice(exc.rf, exc.gz, slicePosition(sl, slices, spacing), phase), gz: exc.gz })
      b.addBlock({ gx: scaled(gPre, c), gy: scaled(gPre, s), gz: gzReph, duration: pre.duration })
      if (teDelay > 0) b.addBlock({ duration: teDelay })
      b.addBlock({ gx: scaled(ro.gx, c), gy: scaled(ro.gx, s), adc: { ...ro.adc, phaseOffset: phase }, ...labelled(labels, { LIN: i, SLC: sl }) })
      b.addBlock({ gx: scaled(gSpoil, c), gy: scaled(gSpoil, s), gz: gzSpoil, duration: spoil.duration })
      if (trDelay > 0) b.addBlock({ duration: trDelay })
    }
  }
  return b.build()
}

/**
 * The centre-out readout: a trapezoid starting at the block start with the ADC opening with it, as
 * many samples as it takes for the last to pass kmax = N/(2·FOV). The flat-top sample spacing is
 * Δk/os; on the ramp the samples are denser.
 */
function halfSpokeReadout (sys: SystemLimits, n: number, fov: number, os: number, readoutDuration: number | undefined): { g: TrapGradient, adc: ReturnType<typeof makeAdc> } {
  const dk = 1 / fov
  const kmax = n / 2 * dk
  const samples = n / 2 * os
  const slowest = kmax / sys.maxGrad
  const dwell = readoutDuration === undefined
    ? ceilToRaster(Math.max(1.6e-3, slowest) / samples, sys.rasters.adc)
    : roundToRaster(readoutDuration / samples, sys.rasters.adc)
  if (!(dwell > 0)) throw new SeqBuildError(`a readout of ${readoutDuration} s is too short for ${samples} samples`)
  const amplitude = dk / os / dwell
  if (amplitude > sys.maxGrad) {
    throw new SeqBuildError(`the readout needs ${mTm(amplitude)} mT/m, more than the system's ${mTm(sys.maxGrad)} mT/m; make it last at least ${(slowest * 1e3).toFixed(2)} ms or enlarge the FOV`)
  }
  const rise = Math.max(sys.rasters.gradient, ceilToRaster(amplitude / sys.maxSlew, sys.rasters.gradient))
  const flat = ceilToRaster((kmax - amplitude * rise / 2) / amplitude + 2 * dwell, sys.rasters.gradient)
  const g: TrapGradient = { type: 'trap', amplitude, rise, flat, fall: rise, delay: 0 }
  let m = 1
  while (trapAreaUntil(g, (m - 0.5) * dwell) < kmax * (1 - 1e-12)) m++
  return { g, adc: makeAdc(sys, { numSamples: m, dwell, delay: 0 }) }
}

/** 2D UTE: centre-out half spokes, the ADC starting with the readout gradient. */
export function ute2d (params: UteParams = {}): Sequence {
  const { sys, n, fov, os, thickness, slices, spacing, labels } = common(params)
  const spokes = wholeNumber('spokes', params.spokes ?? Math.ceil(Math.PI * n), 1, 100_000)
  const golden = params.goldenAngle ?? false
  const hard = (params.excitation ?? 'hard') === 'hard'
  if (hard && slices > 1) throw new SeqBuildError('a hard pulse excites every slice at once; use excitation \'slice\' for several slices')
  let rf: DesignRf
  let gzSel: TrapGradient | undefined
  let gzReph: TrapGradient | undefined
  if (hard) {
    rf = makeBlockPulse(sys, { flipAngleDeg: params.flipAngleDeg ?? 10, duration: params.rfDurationS ?? 100e-6 })
  } else {
    const p = slicePulse(sys, { flipAngleDeg: params.flipAngleDeg ?? 10, duration: params.rfDurationS ?? 1e-3, sliceThickness: thickness, timeBandwidth: params.timeBandwidth ?? 2 })
    rf = p.rf
    gzSel = p.gz
    gzReph = makeTrapezoid(sys, { area: p.rephaseArea })
  }
  const { g, adc } = halfSpokeReadout(sys, n, fov, os, params.readoutDurationS)
  const gzSpoilArea = 4 / thickness
  const spoil = together(sys, [2 * n / fov, gzSpoilArea])
  const gSpoil = spoil.make(2 * n / fov)
  const gzSpoil = spoil.make(gzSpoilArea)

  const excDur = blockDuration(sys, { rf, gz: gzSel })
  const rephDur = gzReph === undefined ? 0 : blockDuration(sys, { gz: gzReph })
  const roDur = blockDuration(sys, { gx: g, adc })
  const firstSample = adc.delay + adc.dwell / 2
  const minTe = excDur - (rf.delay + rf.center) + rephDur + firstSample
  const { teDelay, trDelay, period } = echoAndRepetitionDelays(sys, params, minTe, (teDelay) => excDur + rephDur + teDelay + roDur + spoil.duration, slices)

  const b = new SequenceBuilder(sys)
  setCommonDefinitions(b, {
    name: params.name ?? 'ute',
    fov: [fov, fov, thickness],
    te: minTe + teDelay,
    tr: (period + trDelay) * slices,
    sliceThickness: thickness,
    os,
    extra: { MatrixSize: [n, n, 1], Spokes: spokes, SpokeAngleIncrement: golden ? GOLDEN_ANGLE_HALF_SPOKE : 2 * Math.PI / spokes }
  })
  const inc = params.rfSpoilingIncDeg ?? 117
  let excitation = 0
  for (let i = 0; i < spokes; i++) {
    const phi = spokeAngle(i, spokes, golden, true)
    const c = Math.cos(phi)
    const s = Math.sin(phi)
    for (let sl = 0; sl < slices; sl++) {
      const phase = rfSpoilPhase(excitation++, inc)
      b.addBlock({ rf: onSlice(rf, gzSel, slicePosition(sl, slices, spacing), phase), gz: gzSel })
      if (gzReph !== undefined) b.addBlock({ gz: gzReph })
      if (teDelay > 0) b.addBlock({ duration: teDelay })
      b.addBlock({ gx: scaled(g, c), gy: scaled(g, s), adc: { ...adc, phaseOffset: phase }, ...labelled(labels, { LIN: i, SLC: sl }) })
      b.addBlock({ gx: scaled(gSpoil, c), gy: scaled(gSpoil, s), gz: gzSpoil, duration: spoil.duration })
      if (trDelay > 0) b.addBlock({ duration: trDelay })
    }
  }
  return b.build()
}
