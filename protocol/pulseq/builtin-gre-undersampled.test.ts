import { describe, expect, it } from 'vitest'
import { greUndersampled, undersampledLines } from './builtin-gre-undersampled.ts'
import { SeqBuildError } from './errors.ts'
import { excitationCentres, expectNoLabels, expectPhysical, imagingReadouts, roundTrip, sampleTime, totalDuration } from './builtin-test-support.ts'

describe('greUndersampled', () => {
  for (const R of [2, 3]) {
    it(`acquires exactly every ${R}-th line and 24 centre lines, each once, on the 1/FOV grid`, () => {
      const ny = 64
      const fov = 0.22
      const seq = roundTrip(greUndersampled({ acceleration: R, fovM: fov, matrix: [64, ny] }))
      expectPhysical(seq)
      const readouts = imagingReadouts(seq)
      const centre = 32
      const expected = new Set<number>()
      for (let i = 0; i < ny; i++) if ((i - centre) % R === 0 || (i >= centre - 12 && i < centre + 12)) expected.add(i)
      const lines = readouts.map((r) => r.labels.LIN)
      expect(lines).toEqual([...expected].sort((a, b) => a - b))
      for (const r of readouts) {
        const lin = r.labels.LIN
        const calibration = lin >= centre - 12 && lin < centre + 12
        const image = (lin - centre) % R === 0
        expect(r.labels.REF).toBe(calibration ? 1 : 0)
        expect(r.labels.IMA).toBe(calibration && image ? 1 : 0)
        let error = 0
        for (let n = 0; n < r.numSamples; n++) {
          error = Math.max(error, Math.abs(r.ky[n] - (lin - centre) / fov), Math.abs(r.kx[n] - (n - 32) / fov), Math.abs(r.kz[n]))
        }
        expect(error).toBeLessThan(1e-6)
      }
      const calibrationOnly = readouts.filter((r) => r.labels.REF === 1 && r.labels.IMA === 0).length
      expect(calibrationOnly).toBe(24 - 24 / R)
      expect(seq.definitions.get('AccelerationFactor')).toBe(String(R))
    })
  }

  it('puts the echo at the TE asked for and lasts the sum of its TRs', () => {
    const te = 5e-3
    const tr = 15e-3
    const seq = roundTrip(greUndersampled({ teS: te, trS: tr, acceleration: 3 }))
    const excitations = excitationCentres(seq)
    const readouts = imagingReadouts(seq)
    expect(readouts.length).toBe(excitations.length)
    readouts.forEach((r, i) => expect(Math.abs(sampleTime(r, 32) - excitations[i] - te)).toBeLessThanOrEqual(5e-6 + 1e-9))
    expect(totalDuration(seq)).toBeCloseTo(readouts.length * tr, 9)
    expect(Number(seq.definitions.get('TR'))).toBeCloseTo(tr, 9)
  })

  it('can leave the labels out, the ky pattern alone telling the lines', () => {
    const seq = roundTrip(greUndersampled({ labels: false, acceleration: 2, matrix: [32, 48], fovM: 0.2 }))
    expectNoLabels(seq)
    const ky = imagingReadouts(seq).map((r) => Math.round(r.ky[16] * 0.2) + 24)
    expect(ky).toEqual(undersampledLines(48, 2, 24).map((l) => l.line))
  })

  it('refuses calibration regions smaller than R and accelerations it cannot label', () => {
    expect(() => greUndersampled({ acceleration: 3, calibrationLines: 2 })).toThrow(SeqBuildError)
    expect(() => greUndersampled({ acceleration: 1 })).toThrow(/acceleration must be a whole number from 2/)
  })
})
