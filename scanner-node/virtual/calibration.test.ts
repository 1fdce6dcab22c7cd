import { describe, expect, it } from 'vitest'
import { estimateB1Scale, estimateFrequencyOffset, flipAngleSweep } from './calibration.ts'
import { discPhantom, TISSUES } from './phantom.ts'
import type { PlannedReadout, SequenceTiming } from './readout-plan.ts'
import { simulateReadouts } from './simulate.ts'
import type { SimulateOptions } from './simulate.ts'

const DWELL = 20e-6
const SAMPLES = 1024

/** A pulse-and-acquire: every sample at k = 0, the first 0.5 ms after the pulse. */
function fidReadout (): PlannedReadout {
  return {
    kx: new Float64Array(SAMPLES),
    ky: new Float64Array(SAMPLES),
    kz: new Float64Array(SAMPLES),
    dwellS: DWELL,
    timeFromExcitationS: 0.5e-3,
    centerSample: 0,
    counters: { line: 0, partition: 0, slice: 0, average: 0, contrast: 0, repetition: 0, set: 0, segment: 0 }
  }
}

function simulateFid (overrides: Partial<SimulateOptions>): Float32Array {
  const timing: SequenceTiming = { kind: 'FID', teS: 0, trS: 5, flipAngleDeg: 90 }
  const opts: SimulateOptions = {
    phantom: discPhantom({ radiusM: 0.05 }),
    coils: 1,
    noiseSigma: 0,
    oversampling: 1,
    fovM: [0.2, 0.2, 0.01],
    matrix: [SAMPLES, 1],
    timing,
    seed: 7,
    noiseReadouts: 0,
    signalScale: 1 / (Math.PI * 0.05 ** 2), // the disc's signal is then 1
    ...overrides
  }
  const [acq] = Array.from(simulateReadouts([fidReadout()], opts))
  return acq.data
}

describe('centre frequency from an FID', () => {
  it('finds a planted 150 Hz offset within 5 Hz through noise', () => {
    const data = simulateFid({ offResonanceHz: 150, noiseSigma: 0.3 })
    expect(Math.abs(estimateFrequencyOffset(data, DWELL) - 150)).toBeLessThan(5)
  })

  it('keeps the sign and finds offsets across the band', () => {
    for (const [df, seed] of [[-150, 1], [37, 2], [-420, 3], [1234.5, 4], [-9000, 5], [0, 6]]) {
      const data = simulateFid({ offResonanceHz: df, noiseSigma: 0.3, seed })
      expect(Math.abs(estimateFrequencyOffset(data, DWELL) - df)).toBeLessThan(5)
    }
  })

  it('is far finer than the spectral resolution without noise', () => {
    const data = simulateFid({ offResonanceHz: 61.3 })
    // 1/(n·dwell) = 48.8 Hz
    expect(Math.abs(estimateFrequencyOffset(data, DWELL) - 61.3)).toBeLessThan(0.5)
  })

  it('rejects an empty or silent FID with CalibrationError', () => {
    expect(() => estimateFrequencyOffset(new Float32Array(0), DWELL)).toThrow(expect.objectContaining({ name: 'CalibrationError' }))
    expect(() => estimateFrequencyOffset(new Float32Array(64), DWELL)).toThrow(expect.objectContaining({ name: 'CalibrationError' }))
  })
})

describe('flip-angle sweep', () => {
  const angles = Array.from({ length: 18 }, (_, i) => 10 * (i + 1))

  it('peaks at a nominal 90° with a calibrated transmitter and long TR, and shifts with B1', () => {
    const calibrated = flipAngleSweep({ flipAnglesDeg: angles, b1Scale: 1, tissue: TISSUES.water, trS: 10 })
    expect(angles[calibrated.indexOf(Math.max(...calibrated))]).toBe(90)
    const weak = flipAngleSweep({ flipAnglesDeg: angles, b1Scale: 0.75, tissue: TISSUES.water, trS: 10 })
    expect(angles[weak.indexOf(Math.max(...weak))]).toBe(120)
  })

  it('recovers a planted B1 scale from simulated FIDs with noise', () => {
    for (const b1Scale of [0.8, 1.15]) {
      const magnitudes = angles.map((deg, i) => {
        const data = simulateFid({ b1Scale, noiseSigma: 0.05, seed: 100 + i, timing: { kind: 'FID', teS: 0, trS: 5, flipAngleDeg: deg } })
        // the amplitude of the first 16 samples, where T2* has not yet acted
        let re = 0
        let im = 0
        for (let m = 0; m < 16; m++) { re += data[2 * m] / 16; im += data[2 * m + 1] / 16 }
        return Math.hypot(re, im)
      })
      expect(Math.abs(estimateB1Scale(angles, magnitudes, { tissue: TISSUES.water, trS: 5 }) - b1Scale)).toBeLessThan(0.02)
    }
  })
})
