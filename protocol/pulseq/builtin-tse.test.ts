import { describe, expect, it } from 'vitest'
import { tse2d, tseLineOrder } from './builtin-tse.ts'
import { SeqBuildError } from './errors.ts'
import { rfPulses } from './interpret.ts'
import { expectNoLabels, expectPhysical, imagingReadouts, roundTrip, sampleTime, totalDuration } from './builtin-test-support.ts'
import type { Sequence } from './types.ts'

/** Every readout on the Cartesian grid (kz = 0 after the crushers); returns the lines in acquisition order. */
function cartesianLines (seq: Sequence, nx: number, ny: number, fov: number, labels = true): number[] {
  const out: number[] = []
  let error = 0
  for (const r of imagingReadouts(seq)) {
    const line = Math.round(r.ky[0] * fov) + Math.floor(ny / 2)
    for (let n = 0; n < r.numSamples; n++) {
      error = Math.max(error, Math.abs(r.kx[n] - (n - nx / 2) / fov), Math.abs(r.ky[n] - (line - Math.floor(ny / 2)) / fov), Math.abs(r.kz[n]))
    }
    expect(r.labels.LIN).toBe(labels ? line : 0)
    out.push(line)
  }
  expect(error).toBeLessThan(1e-6)
  return out
}

describe('tseLineOrder', () => {
  it('gives each echo a band of ky (linear) or the centre first (centric)', () => {
    expect(tseLineOrder(8, 4, 'linear')).toEqual([[0, 2, 4, 6], [1, 3, 5, 7]])
    expect(tseLineOrder(8, 4, 'centric')).toEqual([[4, 3, 2, 1], [5, 6, 7, 0]])
    expect(() => tseLineOrder(10, 4, 'linear')).toThrow(/multiple of the echo train length/)
  })
})

describe('tse2d', () => {
  it('refocuses every ESP with 180° refocusing pulses and reads each line once on the grid', () => {
    const seq = roundTrip(tse2d())
    expectPhysical(seq)
    const pulses = [...rfPulses(seq)]
    const esp = Number(seq.definitions.get('EchoSpacing'))
    expect(pulses.length).toBe(8 * 9)
    for (let shot = 0; shot < 8; shot++) {
      const [exc, ...refs] = pulses.slice(shot * 9, shot * 9 + 9)
      expect(exc.use).toBe('excitation')
      expect(exc.flipAngleDeg).toBeCloseTo(90, 6)
      refs.forEach((p, e) => {
        expect(p.use).toBe('refocusing')
        expect(p.flipAngleDeg).toBeCloseTo(180, 6)
        expect(p.center - exc.center).toBeCloseTo((e + 0.5) * esp, 9)
        expect(p.phaseOffset - exc.phaseOffset).toBeCloseTo(Math.PI / 2, 9)
      })
    }
    const lines = cartesianLines(seq, 64, 64, 0.256)
    expect(lines).toEqual(tseLineOrder(64, 8, 'linear').flat())
    // Each echo lies midway between two refocusing pulses (within half a block raster).
    const readouts = imagingReadouts(seq)
    readouts.forEach((r, k) => {
      const shot = Math.floor(k / 8)
      const e = k % 8
      const exc = pulses[shot * 9].center
      expect(Math.abs(sampleTime(r, 32) - exc - (e + 1) * esp)).toBeLessThanOrEqual(5e-6 + 1e-9)
    })
  })

  it('reaches the centre line at the effective TE: echo 5 of 8 with linear ordering, echo 1 with centric', () => {
    for (const ordering of ['linear', 'centric'] as const) {
      const seq = roundTrip(tse2d({ ordering, matrix: [32, 32], echoTrainLength: 8 }))
      const readouts = imagingReadouts(seq)
      const excitations = [...rfPulses(seq)].filter((p) => p.use === 'excitation').map((p) => p.center)
      const k = readouts.findIndex((r) => r.labels.LIN === 16)
      const te = sampleTime(readouts[k], 16) - excitations[Math.floor(k / 8)]
      const esp = Number(seq.definitions.get('EchoSpacing'))
      const echo = ordering === 'linear' ? 5 : 1
      expect(k % 8).toBe(echo - 1)
      expect(Math.abs(te - echo * esp)).toBeLessThanOrEqual(5e-6 + 1e-9)
      expect(Number(seq.definitions.get('TE'))).toBeCloseTo(echo * esp, 9)
      expect(cartesianLines(seq, 32, 32, 0.256).sort((a, b) => a - b)).toEqual(Array.from({ length: 32 }, (_, i) => i))
    }
  })

  it('meets the TE and TR asked for, interleaves slices, and lasts shots × TR', () => {
    const seq = roundTrip(tse2d({ teS: 80e-3, trS: 1.5, slices: 2, echoTrainLength: 16 }))
    expectPhysical(seq)
    // ESP is a whole number of 20 µs, so the effective TE (echo 9) is within 9 × 10 µs of the request.
    expect(Math.abs(Number(seq.definitions.get('TE')) - 80e-3)).toBeLessThanOrEqual(9 * 10e-6 + 1e-9)
    expect(totalDuration(seq)).toBeCloseTo(4 * 1.5, 9)
    const slices = imagingReadouts(seq).map((r) => r.labels.SLC)
    expect(slices.slice(0, 32)).toEqual([...Array(16).fill(0), ...Array(16).fill(1)])
  })

  it('can leave the labels out', () => {
    const seq = roundTrip(tse2d({ labels: false, matrix: [32, 16], echoTrainLength: 4 }))
    expectNoLabels(seq)
    expect(cartesianLines(seq, 32, 16, 0.256, false)).toEqual(tseLineOrder(16, 4, 'linear').flat())
  })

  it('refuses an echo spacing below the minimum and a TE given with an echo spacing', () => {
    expect(() => tse2d({ echoSpacingS: 2e-3 })).toThrow(/echo spacing of 2\.000 ms is too short/)
    expect(() => tse2d({ teS: 0.1, echoSpacingS: 0.02 })).toThrow(SeqBuildError)
  })
})
