// The sequences ScanHub ships: a 2D Cartesian gradient echo (FLASH), its multi-slice variant, a 2D
// spin echo, and an FID for finding the Larmor frequency. Each is a function from parameters (every
// one optional, with a documented default) to a Sequence; writeSeq turns it into a .seq file.
//
// Conventions shared by the imaging sequences, chosen so that a plain FFT reconstructs them:
// - k-space line LIN = i has ky = (i - floor(Ny/2))/FOVy; line floor(Ny/2) is the centre.
// - readout sample n has kx = (n - N/2)·Δk/os with N = Nx·os samples: sample N/2 is at kx = 0, which
//   is where the echo (TE) is. The readout gradient's area over the ADC is Nx/FOVx (1/m).
// - slices are interleaved within TR; slice s sits at (s - (S-1)/2)·spacing, selected by the RF
//   frequency offset, and carries SLC = s. LIN is set to 0 at the start and incremented (LABELINC)
//   after the last slice of each line. Optional noise readouts carry NOISE = 1.
// - TE and TR default to the shortest the timing allows (the spin echo prefers TE 20 ms, TR 500 ms);
//   asking for less than the minimum is an error that says the minimum.

import { blockDuration, SequenceBuilder } from './builder.ts'
import type { DesignRf, SincPulseSpec, SystemLimits } from './design.ts'
import { GAMMA_1H_HZ_PER_T } from './constants.ts'
import { ceilToRaster, makeAdc, makeBlockPulse, makeSincPulse, makeTrapezoid, roundToRaster, shortestTrapDuration, systemLimits } from './design.ts'
import { SeqBuildError } from './errors.ts'
import type { AdcEvent, Sequence, TrapGradient } from './types.ts'
import { epi2d } from './builtin-epi.ts'
import { gre3d } from './builtin-gre3d.ts'
import { greUndersampled } from './builtin-gre-undersampled.ts'
import { radial2d, ute2d } from './builtin-radial.ts'
import type { RadialParams } from './builtin-radial.ts'
import { spiral2d } from './builtin-spiral.ts'
import { tse2d } from './builtin-tse.ts'

/** Parameters shared by the imaging sequences. */
export interface ImagingParams {
  /** [DEFINITIONS] Name. */
  name?: string
  /** [Nx, Ny], default [64, 64]. */
  matrix?: [number, number]
  /** Field of view in m, one value for a square FOV or [x, y]; default 0.256. */
  fovM?: number | [number, number]
  /** Slice thickness in m, default 0.005. */
  sliceThicknessM?: number
  /** Number of slices, default 1. */
  slices?: number
  /** Distance between slice centres in m, default the slice thickness (contiguous slices). */
  sliceSpacingM?: number
  /** Echo time in s; default the shortest possible (spin echo: 20 ms, or the shortest if longer). */
  teS?: number
  /** Repetition time (between excitations of the same slice) in s; default the shortest possible (spin echo: 500 ms). */
  trS?: number
  /** Flip angle of the excitation in degrees (GRE default 15, spin echo 90). */
  flipAngleDeg?: number
  /** Readout oversampling factor, default 1. */
  readoutOversampling?: number
  /** Duration of the ADC window in s; default 3.2e-3, or longer if the resolution needs it. */
  readoutDurationS?: number
  /** Duration of each RF pulse in s, default 3e-3. */
  rfDurationS?: number
  /** Time-bandwidth product of the sinc pulses, default 4. */
  timeBandwidth?: number
  /** Readouts without RF, flagged NOISE, before the first excitation; default 0. */
  noiseScans?: number
  /** Hardware limits, default DEFAULT_SYSTEM. */
  system?: Partial<SystemLimits>
}

export interface GreParams extends ImagingParams {
  /** RF spoiling phase increment in degrees, default 117; 0 turns RF spoiling off. */
  rfSpoilingIncDeg?: number
}

export type SpinEchoParams = ImagingParams

/** Spin-echo defaults: a T1-weighted protocol (TE 20 ms, TR 500 ms) rather than the shortest timing. */
const SE_DEFAULT_TE = 20e-3
const SE_DEFAULT_TR = 500e-3

export interface FidParams {
  name?: string
  /** Flip angle of the hard pulse in degrees, default 90. */
  flipAngleDeg?: number
  /** Duration of the hard pulse in s, default 5e-4. */
  rfDurationS?: number
  /** Samples of the FID, default 1024. */
  numSamples?: number
  /** Dwell time in s, default 50e-6 (a bandwidth of 20 kHz). */
  dwellS?: number
  /** Time from the end of the RF block to the first sample, default the ADC dead time. */
  adcDelayS?: number
  /** Time between excitations in s, default 1. */
  trS?: number
  /** Number of FIDs, counted in REP; default 1. */
  repetitions?: number
  noiseScans?: number
  system?: Partial<SystemLimits>
}

interface Geometry {
  nx: number
  ny: number
  fovX: number
  fovY: number
  os: number
  thickness: number
  slices: number
  spacing: number
}

function geometry (p: ImagingParams): Geometry {
  const [nx, ny] = p.matrix ?? [64, 64]
  const fov = p.fovM ?? 0.256
  const [fovX, fovY] = typeof fov === 'number' ? [fov, fov] : fov
  const os = p.readoutOversampling ?? 1
  const thickness = p.sliceThicknessM ?? 0.005
  const slices = p.slices ?? 1
  const g = { nx, ny, fovX, fovY, os, thickness, slices, spacing: p.sliceSpacingM ?? thickness }
  for (const [name, v] of [['matrix Nx', nx], ['matrix Ny', ny], ['readout oversampling', os], ['slices', slices]] as const) {
    if (!Number.isInteger(v) || v < 1 || v > 4096) throw new SeqBuildError(`${name} must be a whole number from 1 to 4096, not ${v}`)
  }
  if ((nx * os) % 2 !== 0) throw new SeqBuildError(`Nx × oversampling (${nx * os}) must be even, so that a sample lies on the k-space centre`)
  for (const [name, v] of [['FOV', fovX], ['FOV', fovY], ['slice thickness', thickness], ['slice spacing', g.spacing]] as const) {
    if (!(v > 0 && v < 10)) throw new SeqBuildError(`${name} must be a positive length in m, not ${v}`)
  }
  return g
}

interface Readout {
  gx: TrapGradient
  adc: AdcEvent
  /** Area a prephaser must have so that sample N/2 lands on kx = 0, 1/m. */
  preArea: number
  /** Time of that sample from the start of the readout block, s. */
  echo: number
  /** Area of the spoiler that follows, 1/m. */
  spoilArea: number
}

/**
 * The readout. Without an explicit duration it lasts 3.2 ms, or longer when a fine resolution would
 * otherwise need more than the maximum gradient amplitude.
 */
function designReadout (sys: SystemLimits, g: Geometry, readoutDuration: number | undefined): Readout {
  const dk = 1 / g.fovX
  const n = g.nx * g.os
  const slowest = g.nx * dk / sys.maxGrad
  const dwell = readoutDuration === undefined
    ? ceilToRaster(Math.max(3.2e-3, slowest) / n, sys.rasters.adc)
    : roundToRaster(readoutDuration / n, sys.rasters.adc)
  if (!(dwell > 0)) throw new SeqBuildError(`a readout of ${readoutDuration} s is too short for ${n} samples`)
  const amplitude = dk / g.os / dwell
  if (amplitude > sys.maxGrad) {
    throw new SeqBuildError(`the readout needs ${mTm(amplitude)} mT/m, more than the system's ${mTm(sys.maxGrad)} mT/m; make it last at least ${(slowest * 1e3).toFixed(2)} ms or enlarge the FOV`)
  }
  const gx = makeTrapezoid(sys, { flatArea: amplitude * n * dwell, flatTime: n * dwell })
  const adc = makeAdc(sys, { numSamples: n, dwell, delay: gx.rise })
  return {
    gx,
    adc,
    preArea: -(gx.amplitude * gx.rise / 2 + (n / 2 + 0.5) * dwell * gx.amplitude),
    echo: adc.delay + (n / 2 + 0.5) * dwell,
    spoilArea: 2 * g.nx * dk
  }
}

function mTm (hzPerM: number): string {
  return (hzPerM / GAMMA_1H_HZ_PER_T * 1e3).toFixed(2)
}

/** A sinc pulse whose slice gradient the system can play, or an error that says what to change. */
function slicePulse (sys: SystemLimits, spec: SincPulseSpec): ReturnType<typeof makeSincPulse> {
  const amplitude = (spec.timeBandwidth ?? 4) / spec.duration / spec.sliceThickness
  if (amplitude > sys.maxGrad) {
    throw new SeqBuildError(`a ${(spec.sliceThickness * 1e3).toFixed(2)} mm slice with a ${(spec.duration * 1e3).toFixed(2)} ms pulse needs ${mTm(amplitude)} mT/m, more than the system's ${mTm(sys.maxGrad)} mT/m; use a thicker slice or a longer pulse`)
  }
  return makeSincPulse(sys, spec)
}

/** ky area of line i, 1/m. */
function phaseArea (g: Geometry, i: number): number {
  return (i - Math.floor(g.ny / 2)) / g.fovY
}

function maxPhaseArea (g: Geometry): number {
  return Math.max(Math.abs(phaseArea(g, 0)), Math.abs(phaseArea(g, g.ny - 1)))
}

/** Trapezoids of the given areas sharing the duration of the slowest; area 0 gives no gradient. */
function together (sys: SystemLimits, areas: number[]): { duration: number, make: (area: number) => TrapGradient | undefined } {
  let duration = sys.rasters.gradient * 2
  for (const a of areas) if (a !== 0) duration = Math.max(duration, shortestTrapDuration(sys, a))
  return { duration, make: (area) => area === 0 ? undefined : makeTrapezoid(sys, { area, duration }) }
}

/** Slice position of slice s, m. */
function slicePosition (g: Geometry, s: number): number {
  return (s - (g.slices - 1) / 2) * g.spacing
}

/** The pulse moved to slice s by its frequency, with the phase that keeps the pulse centre at `phase`. */
function onSlice (rf: DesignRf, gz: TrapGradient, position: number, phase: number): DesignRf {
  const freqOffset = gz.amplitude * position
  return { ...rf, freqOffset, phaseOffset: wrap(phase - 2 * Math.PI * freqOffset * rf.center) }
}

function wrap (phase: number): number {
  const p = phase % (2 * Math.PI)
  return p < 0 ? p + 2 * Math.PI : p
}

function addNoiseScans (b: SequenceBuilder, count: number, adc: AdcEvent): void {
  if (!Number.isInteger(count) || count < 0 || count > 1024) throw new SeqBuildError(`noiseScans must be a whole number from 0 to 1024, not ${count}`)
  for (let i = 0; i < count; i++) b.addBlock({ adc, labelSet: i === 0 ? { NOISE: 1 } : undefined })
}

function setImagingDefinitions (b: SequenceBuilder, name: string, g: Geometry, ro: Readout): void {
  b.setDefinition('Name', name)
  b.setDefinition('FOV', [g.fovX, g.fovY, g.thickness])
  b.setDefinition('ReadoutOversamplingFactor', g.os)
  b.setDefinition('SliceThickness', g.thickness)
  b.setDefinition('kSpaceCenterLine', Math.floor(g.ny / 2))
  b.setDefinition('kSpaceCenterSample', ro.adc.numSamples / 2)
}

/**
 * The time asked for, or by default `preferred` when the timing allows it and else the minimum;
 * asking for less than the minimum is an error.
 */
function checkTime (what: string, wanted: number | undefined, minimum: number, preferred = 0): number {
  if (wanted === undefined) return Math.max(minimum, preferred)
  if (!(wanted >= minimum - 1e-9)) {
    throw new SeqBuildError(`${what} of ${(wanted * 1e3).toFixed(3)} ms is too short; the minimum is ${(minimum * 1e3).toFixed(3)} ms`, { what: what.split(' (')[0], minimumS: minimum })
  }
  return wanted
}

/** 2D Cartesian RF-spoiled gradient echo (FLASH). */
export function gre2d (params: GreParams = {}): Sequence {
  const sys = systemLimits(params.system)
  const g = geometry(params)
  const raster = sys.rasters.blockDuration
  const exc = slicePulse(sys, {
    flipAngleDeg: params.flipAngleDeg ?? 15,
    duration: params.rfDurationS ?? 3e-3,
    sliceThickness: g.thickness,
    timeBandwidth: params.timeBandwidth
  })
  const ro = designReadout(sys, g, params.readoutDurationS)
  const pre = together(sys, [ro.preArea, maxPhaseArea(g), exc.rephaseArea])
  const gxPre = pre.make(ro.preArea)
  const gzReph = pre.make(exc.rephaseArea)
  const gzSpoilArea = 4 / g.thickness
  const spoil = together(sys, [ro.spoilArea, maxPhaseArea(g), gzSpoilArea])
  const gxSpoil = spoil.make(ro.spoilArea)
  const gzSpoil = spoil.make(gzSpoilArea)

  const excDur = blockDuration(sys, { rf: exc.rf, gz: exc.gz })
  const preDur = blockDuration(sys, { duration: pre.duration })
  const roDur = blockDuration(sys, { gx: ro.gx, adc: ro.adc })
  const spoilDur = blockDuration(sys, { duration: spoil.duration })
  const minTe = excDur - (exc.rf.delay + exc.rf.center) + preDur + ro.echo
  const te = checkTime('TE', params.teS, minTe)
  const teDelay = Math.max(0, roundToRaster(te - minTe, raster))
  const period = excDur + preDur + teDelay + roDur + spoilDur
  const tr = checkTime('TR', params.trS, period * g.slices)
  const trDelay = Math.max(0, roundToRaster(tr / g.slices - period, raster))

  const b = new SequenceBuilder(sys)
  setImagingDefinitions(b, params.name ?? (g.slices > 1 ? 'gre_multislice' : 'gre'), g, ro)
  const noise = params.noiseScans ?? 0
  addNoiseScans(b, noise, ro.adc)
  const inc = params.rfSpoilingIncDeg ?? 117
  let excitation = 0
  for (let i = 0; i < g.ny; i++) {
    const ky = phaseArea(g, i)
    const gyPre = pre.make(ky)
    const gyRewind = spoil.make(-ky)
    for (let s = 0; s < g.slices; s++) {
      // Quadratic phase cycling (the MATLAB example's RF spoiling): phase_k = inc·(k² + k + 2)/2.
      const spoilPhase = wrap(inc * (excitation * excitation + excitation + 2) / 2 * Math.PI / 180)
      excitation++
      const first = i === 0 && s === 0
      b.addBlock({ rf: onSlice(exc.rf, exc.gz, slicePosition(g, s), spoilPhase), gz: exc.gz, labelSet: first ? { LIN: 0, ...(noise > 0 ? { NOISE: 0 } : {}) } : undefined })
      b.addBlock({ gx: gxPre, gy: gyPre, gz: gzReph, duration: pre.duration })
      if (teDelay > 0) b.addBlock({ duration: teDelay })
      b.addBlock({ gx: ro.gx, adc: { ...ro.adc, phaseOffset: spoilPhase }, labelSet: { SLC: s } })
      b.addBlock({ gx: gxSpoil, gy: gyRewind, gz: gzSpoil, duration: spoil.duration, labelInc: s === g.slices - 1 ? { LIN: 1 } : undefined })
      if (trDelay > 0) b.addBlock({ duration: trDelay })
    }
  }
  return b.build()
}

/** The 2D gradient echo with slices interleaved within TR; default 5 slices. */
export function multiSliceGre (params: GreParams = {}): Sequence {
  return gre2d({ ...params, slices: params.slices ?? 5 })
}

/** 2D spin echo: 90° excitation, 180° refocusing between crushers, one line per TR. */
export function spinEcho2d (params: SpinEchoParams = {}): Sequence {
  const sys = systemLimits(params.system)
  const g = geometry(params)
  const raster = sys.rasters.blockDuration
  const rfDuration = params.rfDurationS ?? 3e-3
  const exc = slicePulse(sys, { flipAngleDeg: params.flipAngleDeg ?? 90, duration: rfDuration, sliceThickness: g.thickness, timeBandwidth: params.timeBandwidth })
  const ref = slicePulse(sys, { flipAngleDeg: 180, duration: rfDuration, sliceThickness: g.thickness, timeBandwidth: params.timeBandwidth, use: 'refocusing' })
  const gzReph = makeTrapezoid(sys, { area: exc.rephaseArea })
  const crusher = makeTrapezoid(sys, { area: 3 / g.thickness })
  const ro = designReadout(sys, g, params.readoutDurationS)
  const pre = together(sys, [ro.preArea, maxPhaseArea(g)])
  const gxPre = pre.make(ro.preArea)
  const gzSpoilArea = 4 / g.thickness
  const spoil = together(sys, [ro.spoilArea, maxPhaseArea(g), gzSpoilArea])
  const gxSpoil = spoil.make(ro.spoilArea)
  const gzSpoil = spoil.make(gzSpoilArea)

  const excDur = blockDuration(sys, { rf: exc.rf, gz: exc.gz })
  const rephDur = blockDuration(sys, { gz: gzReph })
  const crushDur = blockDuration(sys, { gz: crusher })
  const refDur = blockDuration(sys, { rf: ref.rf, gz: ref.gz })
  const preDur = blockDuration(sys, { duration: pre.duration })
  const roDur = blockDuration(sys, { gx: ro.gx, adc: ro.adc })
  const spoilDur = blockDuration(sys, { duration: spoil.duration })
  const tcExc = exc.rf.delay + exc.rf.center
  const tcRef = ref.rf.delay + ref.rf.center
  // TE/2 from the excitation centre to the refocusing centre, and again from there to the echo.
  const half1 = excDur - tcExc + rephDur + crushDur + tcRef
  const half2 = refDur - tcRef + crushDur + preDur + ro.echo
  const te = checkTime('TE', params.teS, 2 * Math.max(half1, half2), SE_DEFAULT_TE)
  const delay1 = Math.max(0, roundToRaster(te / 2 - half1, raster))
  const delay2 = Math.max(0, roundToRaster(te / 2 - half2, raster))
  const period = excDur + rephDur + delay1 + 2 * crushDur + refDur + preDur + delay2 + roDur + spoilDur
  const tr = checkTime('TR', params.trS, period * g.slices, SE_DEFAULT_TR)
  const trDelay = Math.max(0, roundToRaster(tr / g.slices - period, raster))

  const b = new SequenceBuilder(sys)
  setImagingDefinitions(b, params.name ?? 'se', g, ro)
  const noise = params.noiseScans ?? 0
  addNoiseScans(b, noise, ro.adc)
  for (let i = 0; i < g.ny; i++) {
    const ky = phaseArea(g, i)
    const gyPre = pre.make(ky)
    const gyRewind = spoil.make(-ky)
    for (let s = 0; s < g.slices; s++) {
      const pos = slicePosition(g, s)
      const first = i === 0 && s === 0
      b.addBlock({ rf: onSlice(exc.rf, exc.gz, pos, 0), gz: exc.gz, labelSet: first ? { LIN: 0, ...(noise > 0 ? { NOISE: 0 } : {}) } : undefined })
      b.addBlock({ gz: gzReph })
      if (delay1 > 0) b.addBlock({ duration: delay1 })
      b.addBlock({ gz: crusher })
      // Refocusing at 90° to the excitation (the CPMG condition).
      b.addBlock({ rf: onSlice(ref.rf, ref.gz, pos, Math.PI / 2), gz: ref.gz })
      b.addBlock({ gz: crusher })
      b.addBlock({ gx: gxPre, gy: gyPre, duration: pre.duration })
      if (delay2 > 0) b.addBlock({ duration: delay2 })
      b.addBlock({ gx: ro.gx, adc: ro.adc, labelSet: { SLC: s } })
      b.addBlock({ gx: gxSpoil, gy: gyRewind, gz: gzSpoil, duration: spoil.duration, labelInc: s === g.slices - 1 ? { LIN: 1 } : undefined })
      if (trDelay > 0) b.addBlock({ duration: trDelay })
    }
  }
  return b.build()
}

/** Free induction decay after a non-selective hard pulse, for frequency (and flip angle) calibration. */
export function fid (params: FidParams = {}): Sequence {
  const sys = systemLimits(params.system)
  const n = params.numSamples ?? 1024
  const repetitions = params.repetitions ?? 1
  if (!Number.isInteger(repetitions) || repetitions < 1 || repetitions > 1_000_000) {
    throw new SeqBuildError(`repetitions must be a whole number from 1 to 1000000, not ${repetitions}`)
  }
  const rf = makeBlockPulse(sys, { flipAngleDeg: params.flipAngleDeg ?? 90, duration: params.rfDurationS ?? 5e-4 })
  const adc = makeAdc(sys, { numSamples: n, dwell: params.dwellS ?? 50e-6, delay: Math.max(params.adcDelayS ?? 0, sys.adcDeadTime) })
  const rfDur = blockDuration(sys, { rf })
  const adcDur = blockDuration(sys, { adc })
  const tr = checkTime('TR', params.trS ?? 1, rfDur + adcDur)
  const trDelay = roundToRaster(tr - rfDur - adcDur, sys.rasters.blockDuration)

  const b = new SequenceBuilder(sys)
  b.setDefinition('Name', params.name ?? 'fid')
  const noise = params.noiseScans ?? 0
  addNoiseScans(b, noise, adc)
  for (let r = 0; r < repetitions; r++) {
    b.addBlock({ rf, labelSet: r === 0 ? { REP: 0, ...(noise > 0 ? { NOISE: 0 } : {}) } : undefined })
    b.addBlock({ adc })
    // The counter moves on after each FID; the TR block always exists to carry the increment.
    b.addBlock({ duration: Math.max(trDelay, 0), labelInc: { REP: 1 } })
  }
  return b.build()
}

/** Radial GRE with golden-angle spokes, registered under its own name. */
function radialGolden (params: RadialParams = {}): Sequence {
  return radial2d({ goldenAngle: true, ...params })
}

/**
 * The built-in sequences by name, for menus and the lab document's sequence index. Each name is also
 * a stable id (`builtin-<name>` in the lab's library, `builtin:<name>` on the command line): add new
 * names, never rename one.
 */
export const BUILTIN_SEQUENCES = Object.freeze({
  gre: { title: '2D gradient echo (FLASH)', build: gre2d },
  'gre-multislice': { title: '2D multi-slice gradient echo', build: multiSliceGre },
  'spin-echo': { title: '2D spin echo', build: spinEcho2d },
  fid: { title: 'FID for frequency calibration', build: fid },
  tse: { title: '2D turbo spin echo', build: tse2d },
  epi: { title: '2D single-shot gradient-echo EPI', build: epi2d },
  radial: { title: '2D radial gradient echo', build: radial2d },
  'radial-golden': { title: '2D golden-angle radial gradient echo', build: radialGolden },
  ute: { title: '2D UTE (centre-out radial)', build: ute2d },
  spiral: { title: '2D spiral gradient echo', build: spiral2d },
  gre3d: { title: '3D gradient echo', build: gre3d },
  'gre-undersampled': { title: '2D gradient echo, undersampled with calibration lines', build: greUndersampled }
} as const)
