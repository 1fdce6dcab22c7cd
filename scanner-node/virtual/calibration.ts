// The physics of the two calibrations a scan starts with: the centre frequency (from the spectrum of an
// FID) and the transmit flip angle (from the signal of a sweep of nominal flip angles). Pure functions:
// the same code reads the virtual scanner's data and a real scanner's.
import { fft } from './fft.ts'
import { steadyStateSignal } from './phantom.ts'
import type { Tissue } from './phantom.ts'

/** Thrown for samples or sweeps from which nothing can be estimated. */
export class CalibrationError extends Error {
  constructor (message: string) {
    super(message)
    this.name = 'CalibrationError'
  }
}

export interface FrequencyEstimateOptions {
  /** length of the zero-padded spectrum, a power of two ≥ the sample count; default 8× the next power of two */
  zeroPadTo?: number
}

/**
 * The frequency (Hz) of the strongest spectral line of an FID, relative to the receiver frequency.
 *
 * Sign convention (that of kspace.ts): spins at +Δf give samples rotating as exp(+i2π·Δf·t), and the
 * spectrum is the forward DFT X(f) = Σ x_n·exp(−i2π f·n·dwell), so the peak lies at +Δf. To put the
 * spins back on resonance, move the receiver (and transmitter) frequency by +Δf.
 *
 * Method: zero-padded FFT (interpolates the spectrum on a grid 8× finer than 1/(n·dwell)), then a
 * Gaussian fit through the largest |X| and its two neighbours (a parabola through their logarithms),
 * which places a peak to a small fraction of the padded bin. The range is ±1/(2·dwell).
 *
 * `samples` is one channel, re/im interleaved.
 */
export function estimateFrequencyOffset (samples: Float32Array | Float64Array, dwellS: number, options: FrequencyEstimateOptions = {}): number {
  const n = samples.length >> 1
  if (n < 2 || samples.length % 2 !== 0) throw new CalibrationError(`need at least 2 complex samples, got ${samples.length} values`)
  if (!(dwellS > 0)) throw new CalibrationError(`dwell ${dwellS} s`)
  let size = 1
  while (size < n) size <<= 1
  const padded = options.zeroPadTo ?? 8 * size
  if (padded < n || (padded & (padded - 1)) !== 0) throw new CalibrationError(`zero padding to ${padded}: needs a power of two ≥ ${n}`)
  const re = new Float64Array(padded)
  const im = new Float64Array(padded)
  for (let i = 0; i < n; i++) {
    re[i] = samples[2 * i]
    im[i] = samples[2 * i + 1]
  }
  fft(re, im)
  const power = new Float64Array(padded)
  let peak = 0
  for (let i = 0; i < padded; i++) {
    power[i] = re[i] * re[i] + im[i] * im[i]
    if (power[i] > power[peak]) peak = i
  }
  if (power[peak] === 0) throw new CalibrationError('the FID is all zeros')
  // Gaussian interpolation: ln|X| is a parabola near the top of a Gaussian-like line.
  const left = power[(peak - 1 + padded) % padded]
  const right = power[(peak + 1) % padded]
  const lnL = 0.5 * Math.log(Math.max(left, Number.MIN_VALUE))
  const lnC = 0.5 * Math.log(power[peak])
  const lnR = 0.5 * Math.log(Math.max(right, Number.MIN_VALUE))
  const denominator = lnL - 2 * lnC + lnR
  const delta = denominator < 0 ? Math.max(-0.5, Math.min(0.5, (0.5 * (lnL - lnR)) / denominator)) : 0
  let bin = peak + delta
  if (bin >= padded / 2) bin -= padded
  return bin / (padded * dwellS)
}

export interface FlipAngleSweepOptions {
  /** nominal flip angles played, degrees */
  flipAnglesDeg: ArrayLike<number>
  /** actual over nominal flip angle */
  b1Scale: number
  /** the sample's tissue; its T1 and PD matter */
  tissue: Tissue
  /** repetition time of the sweep; a long TR (≥ 5·T1) gives ρ·sin(b1·α) */
  trS: number
}

/**
 * The FID amplitude of each step of a flip-angle sweep: the spoiled steady state
 * ρ·sin(b1·α)·(1 − E1)/(1 − cos(b1·α)·E1), E1 = exp(−TR/T1) (phantom.ts steadyStateSignal, kind 'FID').
 * Signed: beyond 180° actual the signal changes sign. With a long TR it peaks where b1·α = 90°.
 */
export function flipAngleSweep (options: FlipAngleSweepOptions): Float64Array {
  const out = new Float64Array(options.flipAnglesDeg.length)
  for (let i = 0; i < out.length; i++) {
    out[i] = steadyStateSignal(options.tissue, { kind: 'FID', teS: 0, trS: options.trS, flipAngleDeg: options.flipAnglesDeg[i] }, options.b1Scale)
  }
  return out
}

/**
 * The B1 scale (actual over nominal flip angle) that best explains the magnitudes of a sweep, by least
 * squares over the scale and an overall amplitude: a grid search over 0.2–3 refined by golden-section
 * search. The magnitude model is |flipAngleSweep|; a reference pulse is then scaled by 1/b1.
 */
export function estimateB1Scale (flipAnglesDeg: ArrayLike<number>, magnitudes: ArrayLike<number>, model: { tissue: Tissue, trS: number }): number {
  if (flipAnglesDeg.length !== magnitudes.length || flipAnglesDeg.length < 3) throw new CalibrationError('need at least 3 flip angles, with one magnitude each')
  const misfit = (b1: number): number => {
    const m = flipAngleSweep({ flipAnglesDeg, b1Scale: b1, tissue: model.tissue, trS: model.trS })
    let mm = 0
    let my = 0
    for (let i = 0; i < m.length; i++) {
      m[i] = Math.abs(m[i])
      mm += m[i] * m[i]
      my += m[i] * magnitudes[i]
    }
    if (mm === 0) return Number.POSITIVE_INFINITY
    const amplitude = my / mm
    let r = 0
    for (let i = 0; i < m.length; i++) r += (magnitudes[i] - amplitude * m[i]) ** 2
    return r
  }
  let best = 0.2
  let bestMisfit = Number.POSITIVE_INFINITY
  const step = 0.01
  for (let b = 0.2; b <= 3 + 1e-9; b += step) {
    const r = misfit(b)
    if (r < bestMisfit) {
      bestMisfit = r
      best = b
    }
  }
  let lo = Math.max(0.05, best - step)
  let hi = best + step
  const g = (Math.sqrt(5) - 1) / 2
  for (let i = 0; i < 60; i++) {
    const a = hi - g * (hi - lo)
    const b = lo + g * (hi - lo)
    if (misfit(a) < misfit(b)) hi = b
    else lo = a
  }
  return (lo + hi) / 2
}
