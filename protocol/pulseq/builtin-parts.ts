// Parts shared by the built-in sequence families beyond the basic GRE and spin echo (TSE, EPI, radial,
// UTE, spiral, 3D GRE, undersampled GRE): parameter checks, the Cartesian readout, slice-selective
// pulses the system can play, gradients sharing a duration, RF spoiling, labels that can be left out,
// and the [DEFINITIONS] every imaging sequence carries. builtin.ts keeps its own private copies of
// a few of these so that the two files do not import each other.

import type { BlockSpec, DesignGradient } from './builder.ts'
import type { DesignRf, SincPulseSpec, SystemLimits } from './design.ts'
import { GAMMA_1H_HZ_PER_T } from './constants.ts'
import { ceilToRaster, makeAdc, makeSincPulse, makeTrapezoid, roundToRaster, shortestTrapDuration } from './design.ts'
import { SeqBuildError } from './errors.ts'
import type { AdcEvent, TrapGradient } from './types.ts'
import type { SequenceBuilder } from './builder.ts'

/** A whole number within [min, max], or an error naming the parameter. */
export function wholeNumber (name: string, value: number, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max) throw new SeqBuildError(`${name} must be a whole number from ${min} to ${max}, not ${value}`)
  return value
}

/** A length in m within (0, 10). */
export function positiveLength (name: string, value: number): number {
  if (!(value > 0 && value < 10)) throw new SeqBuildError(`${name} must be a positive length in m, not ${value}`)
  return value
}

/** [x, y] from one value or two. */
export function pair (value: number | [number, number]): [number, number] {
  return typeof value === 'number' ? [value, value] : value
}

export function mTm (hzPerM: number): string {
  return (hzPerM / GAMMA_1H_HZ_PER_T * 1e3).toFixed(2)
}

export function ms (seconds: number): string {
  return (seconds * 1e3).toFixed(3)
}

/**
 * The time asked for, or by default `preferred` when the timing allows it and else the minimum;
 * asking for less than the minimum is an error that says the minimum.
 */
export function checkTime (what: string, wanted: number | undefined, minimum: number, preferred = 0): number {
  if (wanted === undefined) return Math.max(minimum, preferred)
  if (!(wanted >= minimum - 1e-9)) {
    throw new SeqBuildError(`${what} of ${ms(wanted)} ms is too short; the minimum is ${ms(minimum)} ms`, { what: what.split(' (')[0], minimumS: minimum })
  }
  return wanted
}

/** A fill delay on the block raster, never negative. */
export function fill (sys: SystemLimits, seconds: number): number {
  return Math.max(0, roundToRaster(seconds, sys.rasters.blockDuration))
}

/**
 * The delays that put the echo at the TE asked for (at least `minTe`) and repeat each slice's period at
 * the TR asked for (at least the period, shared by `slices` interleaved slices), on the block raster.
 * `periodWith(teDelay)` is one slice's period with that TE delay in it.
 */
export function echoAndRepetitionDelays (
  sys: SystemLimits, params: { teS?: number, trS?: number }, minTe: number, periodWith: (teDelay: number) => number, slices = 1
): { teDelay: number, trDelay: number, period: number } {
  const te = checkTime('TE', params.teS, minTe)
  const teDelay = fill(sys, te - minTe)
  const period = periodWith(teDelay)
  const tr = checkTime('TR', params.trS, period * slices)
  const trDelay = fill(sys, tr / slices - period)
  return { teDelay, trDelay, period }
}

/** A sinc pulse whose slice gradient the system can play, or an error that says what to change. */
export function slicePulse (sys: SystemLimits, spec: SincPulseSpec): ReturnType<typeof makeSincPulse> {
  const amplitude = (spec.timeBandwidth ?? 4) / spec.duration / spec.sliceThickness
  if (amplitude > sys.maxGrad) {
    throw new SeqBuildError(`a ${(spec.sliceThickness * 1e3).toFixed(2)} mm slice with a ${(spec.duration * 1e3).toFixed(2)} ms pulse needs ${mTm(amplitude)} mT/m, more than the system's ${mTm(sys.maxGrad)} mT/m; use a thicker slice or a longer pulse`)
  }
  return makeSincPulse(sys, spec)
}

/** Trapezoids of the given areas sharing the duration of the slowest; area 0 gives no gradient. */
export function together (sys: SystemLimits, areas: number[]): { duration: number, make: (area: number) => TrapGradient | undefined } {
  let duration = sys.rasters.gradient * 2
  for (const a of areas) if (a !== 0) duration = Math.max(duration, shortestTrapDuration(sys, a))
  return { duration, make: (area) => area === 0 ? undefined : makeTrapezoid(sys, { area, duration }) }
}

/** A trapezoid scaled by a factor (a rotated readout), or none when the factor makes it vanish. */
export function scaled (g: TrapGradient | undefined, factor: number): TrapGradient | undefined {
  if (g === undefined) return undefined
  const amplitude = g.amplitude * factor
  return Math.abs(amplitude) < 1e-9 ? undefined : { ...g, amplitude }
}

/** Area of a trapezoid from the block start to t, 1/m. */
export function trapAreaUntil (g: TrapGradient, t: number): number {
  const u = t - g.delay
  if (u <= 0) return 0
  const a = g.amplitude
  if (u <= g.rise) return a * u * u / (2 * g.rise)
  const flatEnd = g.rise + g.flat
  if (u <= flatEnd) return a * (g.rise / 2 + u - g.rise)
  const total = g.rise + g.flat + g.fall
  if (u >= total) return a * (g.rise / 2 + g.flat + g.fall / 2)
  const left = total - u
  return a * (g.rise / 2 + g.flat + g.fall / 2) - a * left * left / (2 * g.fall)
}

/** Slice position of slice s of `count` at `spacing`, m. */
export function slicePosition (s: number, count: number, spacing: number): number {
  return (s - (count - 1) / 2) * spacing
}

/** The pulse moved to a position by its frequency, with the phase that keeps the pulse centre at `phase`. */
export function onSlice (rf: DesignRf, gz: TrapGradient | undefined, position: number, phase: number): DesignRf {
  const freqOffset = gz === undefined ? 0 : gz.amplitude * position
  return { ...rf, freqOffset, phaseOffset: wrap(phase - 2 * Math.PI * freqOffset * rf.center) }
}

export function wrap (phase: number): number {
  const p = phase % (2 * Math.PI)
  return p < 0 ? p + 2 * Math.PI : p
}

/** RF spoiling phase of excitation k, rad: the quadratic schedule inc·(k² + k + 2)/2 of the MATLAB examples. */
export function rfSpoilPhase (k: number, incDeg: number): number {
  return wrap(incDeg * (k * k + k + 2) / 2 * Math.PI / 180)
}

/** Label directives for a block, or none when the sequence is built without labels. */
export function labelled (on: boolean, set?: Record<string, number>, inc?: Record<string, number>): Pick<BlockSpec, 'labelSet' | 'labelInc'> {
  if (!on) return {}
  return { ...(set !== undefined ? { labelSet: set } : {}), ...(inc !== undefined ? { labelInc: inc } : {}) }
}

/** Cartesian readout: sample N/2 at kx = 0, area Nx/FOVx over the ADC window. */
export interface CartesianReadout {
  gx: TrapGradient
  adc: AdcEvent
  /** Area a prephaser must have so that sample N/2 lands on kx = 0, 1/m. */
  preArea: number
  /** Time of sample N/2 from the start of the readout block, s. */
  echo: number
  /** Area of a spoiler after the readout (twice the readout area), 1/m. */
  spoilArea: number
}

/**
 * The readout of the 2D GRE: 3.2 ms unless the resolution needs a longer one to stay within the
 * maximum gradient amplitude, or the duration asked for.
 */
export function cartesianReadout (sys: SystemLimits, nx: number, fovX: number, os: number, readoutDuration: number | undefined): CartesianReadout {
  const dk = 1 / fovX
  const n = nx * os
  if (n % 2 !== 0) throw new SeqBuildError(`Nx × oversampling (${n}) must be even, so that a sample lies on the k-space centre`)
  const slowest = nx * dk / sys.maxGrad
  const dwell = readoutDuration === undefined
    ? ceilToRaster(Math.max(3.2e-3, slowest) / n, sys.rasters.adc)
    : roundToRaster(readoutDuration / n, sys.rasters.adc)
  if (!(dwell > 0)) throw new SeqBuildError(`a readout of ${readoutDuration} s is too short for ${n} samples`)
  const amplitude = dk / os / dwell
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
    spoilArea: 2 * nx * dk
  }
}

/** ky (or kz) area of encoding step i of n on a grid of 1/fov, centre step floor(n/2). */
export function encodeArea (i: number, n: number, fov: number): number {
  return (i - Math.floor(n / 2)) / fov
}

/**
 * The encoding steps kept by partial Fourier: the last round(fraction·n) of 0 … n-1, so that the
 * early (negative) half is the one left out and the centre is reached sooner.
 */
export function partialFourierSteps (what: string, n: number, fraction: number): number[] {
  if (!(fraction > 0.5 && fraction <= 1)) throw new SeqBuildError(`partial Fourier ${what} must be more than 1/2 and at most 1, not ${fraction}`)
  const kept = Math.round(fraction * n)
  if (kept <= Math.floor(n / 2)) throw new SeqBuildError(`partial Fourier ${fraction} of ${n} ${what} steps leaves no line past the centre; use a larger fraction or matrix`)
  return Array.from({ length: kept }, (_, j) => n - kept + j)
}

/** [DEFINITIONS] every imaging built-in writes. */
export function setCommonDefinitions (b: SequenceBuilder, d: { name: string, fov: [number, number, number], te?: number, tr?: number, sliceThickness?: number, os?: number, extra?: Record<string, string | number | number[]> }): void {
  b.setDefinition('Name', d.name)
  b.setDefinition('FOV', d.fov)
  if (d.te !== undefined) b.setDefinition('TE', d.te)
  if (d.tr !== undefined) b.setDefinition('TR', d.tr)
  if (d.sliceThickness !== undefined) b.setDefinition('SliceThickness', d.sliceThickness)
  if (d.os !== undefined) b.setDefinition('ReadoutOversamplingFactor', d.os)
  for (const [k, v] of Object.entries(d.extra ?? {})) b.setDefinition(k, v)
}

/** Samples of a straight ramp from `from` to `to` over n gradient raster cells (values at cell centres). */
export function rampSamples (from: number, to: number, n: number): Float64Array {
  const out = new Float64Array(n)
  for (let i = 0; i < n; i++) out[i] = from + (to - from) * (i + 0.5) / n
  return out
}

export type { DesignGradient }
