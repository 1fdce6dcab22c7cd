// Event design on a real gradient system: trapezoids within amplitude and slew-rate limits, sinc and
// block RF pulses, ADC events, everything on its raster. The same calculations as the MATLAB toolbox's
// makeTrapezoid, makeSincPulse, makeBlockPulse and makeAdc, reduced to what the built-in sequences use.

import { GAMMA_1H_HZ_PER_T, LEGACY_RASTERS } from './constants.ts'
import { SeqBuildError } from './errors.ts'
import type { AdcEvent, Rasters, RfUse, TrapGradient } from './types.ts'

/** The hardware a sequence is designed for. */
export interface SystemLimits {
  /** Maximum gradient amplitude, Hz/m. */
  maxGrad: number
  /** Maximum slew rate, Hz/m/s. */
  maxSlew: number
  /** Time the RF amplifier needs before a pulse, s. */
  rfDeadTime: number
  /** Time after a pulse before the next event may use the coil, s. */
  rfRingdownTime: number
  /** Time the receiver needs after a readout, s. */
  adcDeadTime: number
  rasters: Rasters
}

/**
 * Defaults: 28 mT/m and 150 T/m/s (the MATLAB examples' values, within reach of clinical and many
 * low-field systems), Siemens dead and ringdown times, and the usual rasters.
 */
export const DEFAULT_SYSTEM: Readonly<SystemLimits> = Object.freeze({
  maxGrad: 28e-3 * GAMMA_1H_HZ_PER_T,
  maxSlew: 150 * GAMMA_1H_HZ_PER_T,
  rfDeadTime: 100e-6,
  rfRingdownTime: 20e-6,
  adcDeadTime: 10e-6,
  rasters: LEGACY_RASTERS
})

/** The default system with some values replaced. */
export function systemLimits (overrides: Partial<SystemLimits> = {}): SystemLimits {
  return { ...DEFAULT_SYSTEM, ...overrides, rasters: { ...DEFAULT_SYSTEM.rasters, ...overrides.rasters } }
}

/** x rounded up to a multiple of `raster`, ignoring float noise below 1e-9 of a raster step. */
export function ceilToRaster (x: number, raster: number): number {
  return Math.ceil(x / raster - 1e-9) * raster
}

/** x rounded to the nearest multiple of `raster`. */
export function roundToRaster (x: number, raster: number): number {
  return Math.round(x / raster) * raster
}

/** An RF pulse as designed: samples, not yet shape IDs. */
export interface DesignRf {
  /** Peak amplitude, Hz. */
  amplitude: number
  /** Magnitude normalised to [0, 1], on the default RF raster. */
  magnitude: Float64Array
  /** Phase in cycles (0.5 = π), on the default RF raster. */
  phase: Float64Array
  /** Centre from the shape start, s. */
  center: number
  delay: number
  freqOffset: number
  phaseOffset: number
  use: RfUse
}

/** Area of a trapezoid, 1/m. */
export function trapArea (g: TrapGradient): number {
  return g.amplitude * (g.rise / 2 + g.flat + g.fall / 2)
}

/** End of a trapezoid from the block start, s. */
export function trapEnd (g: TrapGradient): number {
  return g.delay + g.rise + g.flat + g.fall
}

export interface TrapezoidSpec {
  /** Total area, 1/m (ignored when flatArea is given). */
  area?: number
  /** Area of the flat top, 1/m, with flatTime. */
  flatArea?: number
  /** Flat-top duration, s, with flatArea. */
  flatTime?: number
  /** Total duration, s; the trapezoid is then as low as the slew rate allows. */
  duration?: number
  delay?: number
}

/**
 * A trapezoid with equal rise and fall on the gradient raster. With flatArea and flatTime: that flat
 * top (a readout). With area and duration: that area in that time. With area alone: the shortest.
 */
export function makeTrapezoid (sys: SystemLimits, spec: TrapezoidSpec): TrapGradient {
  const dt = sys.rasters.gradient
  const delay = spec.delay ?? 0
  let amplitude: number
  let rise: number
  let flat: number
  if (spec.flatTime !== undefined && spec.flatArea !== undefined) {
    flat = ceilToRaster(spec.flatTime, dt)
    amplitude = spec.flatArea / spec.flatTime
    rise = Math.max(dt, ceilToRaster(Math.abs(amplitude) / sys.maxSlew, dt))
  } else if (spec.area !== undefined && spec.duration !== undefined) {
    const area = spec.area
    const duration = spec.duration
    // Lowest amplitude a whose ramps a/slew leave room for the area: a·(duration - a/slew) = |area|.
    const disc = duration * duration - 4 * Math.abs(area) / sys.maxSlew
    if (disc < 0) throw new SeqBuildError(`a gradient area of ${area.toPrecision(4)} /m does not fit in ${(duration * 1e3).toPrecision(4)} ms`)
    const a0 = (duration - Math.sqrt(disc)) * sys.maxSlew / 2
    rise = Math.max(dt, ceilToRaster(a0 / sys.maxSlew, dt))
    flat = roundToRaster(duration - 2 * rise, dt)
    if (flat < 0) throw new SeqBuildError(`a gradient of ${(duration * 1e3).toPrecision(4)} ms is too short for its ramps`)
    amplitude = area / (rise + flat)
  } else if (spec.area !== undefined) {
    const area = spec.area
    rise = Math.max(dt, ceilToRaster(Math.sqrt(Math.abs(area) / sys.maxSlew), dt))
    flat = 0
    amplitude = area / rise
    if (Math.abs(amplitude) > sys.maxGrad) {
      rise = ceilToRaster(sys.maxGrad / sys.maxSlew, dt)
      flat = ceilToRaster(Math.abs(area) / sys.maxGrad - rise, dt)
      amplitude = area / (rise + flat)
    }
  } else {
    throw new SeqBuildError('a trapezoid needs an area, or a flat area and flat time')
  }
  if (Math.abs(amplitude) > sys.maxGrad * (1 + 1e-9)) {
    throw new SeqBuildError(`gradient amplitude ${(amplitude / GAMMA_1H_HZ_PER_T * 1e3).toPrecision(4)} mT/m exceeds the system's ${(sys.maxGrad / GAMMA_1H_HZ_PER_T * 1e3).toPrecision(4)} mT/m`)
  }
  return { type: 'trap', amplitude, rise, flat, fall: rise, delay }
}

/** The shortest duration a trapezoid of this area needs, s. */
export function shortestTrapDuration (sys: SystemLimits, area: number): number {
  const g = makeTrapezoid(sys, { area })
  return g.rise + g.flat + g.fall
}

export interface SincPulseSpec {
  flipAngleDeg: number
  /** Pulse duration, s. */
  duration: number
  sliceThickness: number
  timeBandwidth?: number
  /** Hanning-type apodisation, 0 (none) to 1. */
  apodization?: number
  use?: RfUse
  phaseOffset?: number
}

/**
 * A slice-selective sinc pulse with its slice gradient and the rephasing area. The pulse sits on the
 * flat top of gz; the RF starts no earlier than the dead time. Returns the area (1/m) that a rephaser
 * must have to bring kz back to 0 after the pulse centre.
 */
export function makeSincPulse (sys: SystemLimits, spec: SincPulseSpec): { rf: DesignRf, gz: TrapGradient, rephaseArea: number } {
  const dtRf = sys.rasters.rf
  const dtG = sys.rasters.gradient
  const tbw = spec.timeBandwidth ?? 4
  const apod = spec.apodization ?? 0.5
  const duration = ceilToRaster(spec.duration, dtG)
  const n = Math.round(duration / dtRf)
  const bw = tbw / duration
  const signal = new Float64Array(n)
  let sum = 0
  for (let i = 0; i < n; i++) {
    const t = (i + 0.5) * dtRf - duration / 2
    const x = Math.PI * bw * t
    const sinc = x === 0 ? 1 : Math.sin(x) / x
    signal[i] = ((1 - apod) + apod * Math.cos(2 * Math.PI * t / duration)) * sinc
    sum += signal[i] * dtRf
  }
  const scale = (spec.flipAngleDeg / 360) / sum
  let peak = 0
  for (let i = 0; i < n; i++) peak = Math.max(peak, Math.abs(signal[i]))
  const magnitude = new Float64Array(n)
  const phase = new Float64Array(n)
  for (let i = 0; i < n; i++) {
    magnitude[i] = Math.abs(signal[i]) / peak
    phase[i] = signal[i] < 0 ? 0.5 : 0
  }
  const amplitude = bw / spec.sliceThickness
  const gz = makeTrapezoid(sys, { flatArea: amplitude * duration, flatTime: duration })
  // The RF starts at the end of the ramp, delayed if need be to respect the dead time.
  gz.delay = Math.max(0, ceilToRaster(sys.rfDeadTime - gz.rise, dtG))
  const rf: DesignRf = {
    amplitude: peak * scale,
    magnitude,
    phase,
    center: duration / 2,
    delay: gz.delay + gz.rise,
    freqOffset: 0,
    phaseOffset: spec.phaseOffset ?? 0,
    use: spec.use ?? 'excitation'
  }
  const rephaseArea = -(gz.amplitude * (gz.flat - duration / 2) + gz.amplitude * gz.fall / 2)
  return { rf, gz, rephaseArea }
}

/** A non-selective rectangular pulse, after the dead time. */
export function makeBlockPulse (sys: SystemLimits, spec: { flipAngleDeg: number, duration: number, use?: RfUse }): DesignRf {
  const dt = sys.rasters.rf
  const duration = ceilToRaster(spec.duration, dt)
  const n = Math.round(duration / dt)
  return {
    amplitude: spec.flipAngleDeg / 360 / duration,
    magnitude: new Float64Array(n).fill(1),
    phase: new Float64Array(n),
    center: duration / 2,
    delay: ceilToRaster(sys.rfDeadTime, dt),
    freqOffset: 0,
    phaseOffset: 0,
    use: spec.use ?? 'excitation'
  }
}

/** An ADC event; the dwell time is rounded to the ADC raster and the delay to whole µs. */
export function makeAdc (sys: SystemLimits, spec: { numSamples: number, dwell: number, delay?: number, phaseOffset?: number }): AdcEvent {
  const dwell = roundToRaster(spec.dwell, sys.rasters.adc)
  if (!(dwell > 0)) throw new SeqBuildError(`dwell time ${spec.dwell} s is below the ADC raster`)
  if (!Number.isInteger(spec.numSamples) || spec.numSamples < 1) throw new SeqBuildError(`an ADC needs a positive whole number of samples, not ${spec.numSamples}`)
  return {
    numSamples: spec.numSamples,
    dwell,
    delay: roundToRaster(spec.delay ?? 0, 1e-6),
    freqPPM: 0,
    phasePPM: 0,
    freqOffset: 0,
    phaseOffset: spec.phaseOffset ?? 0,
    phaseShapeId: 0
  }
}
