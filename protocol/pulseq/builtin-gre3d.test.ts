import { describe, expect, it } from 'vitest'
import { gre3d } from './builtin-gre3d.ts'
import { SeqBuildError } from './errors.ts'
import { rfPulses } from './interpret.ts'
import { excitationCentres, expectNoLabels, expectPhysical, imagingReadouts, roundTrip, sampleTime, totalDuration } from './builtin-test-support.ts'
import type { Sequence } from './types.ts'

/** Every readout on the 3D grid; returns the (line, partition) pairs acquired. */
function gridSteps (seq: Sequence, nx: number, ny: number, nz: number, fov: [number, number, number], labels = true): Array<[number, number]> {
  const out: Array<[number, number]> = []
  let error = 0
  for (const r of imagingReadouts(seq)) {
    const line = Math.round(r.ky[0] * fov[1]) + Math.floor(ny / 2)
    const par = Math.round(r.kz[0] * fov[2]) + Math.floor(nz / 2)
    for (let n = 0; n < r.numSamples; n++) {
      error = Math.max(error,
        Math.abs(r.kx[n] - (n - nx / 2) / fov[0]),
        Math.abs(r.ky[n] - (line - Math.floor(ny / 2)) / fov[1]),
        Math.abs(r.kz[n] - (par - Math.floor(nz / 2)) / fov[2]))
    }
    expect([r.labels.LIN, r.labels.PAR]).toEqual(labels ? [line, par] : [0, 0])
    out.push([line, par])
  }
  expect(error).toBeLessThan(1e-6)
  return out
}

describe('gre3d', () => {
  it('encodes every line and partition once on 1/FOVy and 1/FOVz, partitions outer', () => {
    const seq = roundTrip(gre3d({ matrix: [32, 24, 8], fovM: [0.24, 0.2], slabThicknessM: 0.048 }))
    expectPhysical(seq)
    const steps = gridSteps(seq, 32, 24, 8, [0.24, 0.2, 0.048])
    expect(steps.length).toBe(24 * 8)
    expect(new Set(steps.map(([l, p]) => `${l}/${p}`)).size).toBe(24 * 8)
    expect(steps.slice(0, 24).every(([, p]) => p === 0)).toBe(true)
    expect(steps[24]).toEqual([0, 1])
    const pulses = [...rfPulses(seq)]
    expect(pulses[0].flipAngleDeg).toBeCloseTo(10, 6)
    expect(seq.definitions.get('FOV')).toBe('0.24 0.2 0.048')
  })

  for (const [pfY, pfZ] of [[5 / 8, 1], [1, 6 / 8], [7 / 8, 5 / 8]]) {
    it(`leaves out the first steps with partial Fourier ${pfY} in y and ${pfZ} in z`, () => {
      const seq = roundTrip(gre3d({ matrix: [32, 32, 16], partialFourierY: pfY, partialFourierZ: pfZ }))
      expectPhysical(seq)
      const steps = gridSteps(seq, 32, 32, 16, [0.256, 0.256, 0.032])
      const lines = new Set(steps.map(([l]) => l))
      const pars = new Set(steps.map(([, p]) => p))
      expect(Math.min(...lines)).toBe(32 - Math.round(pfY * 32))
      expect(Math.max(...lines)).toBe(31)
      expect(lines.size).toBe(Math.round(pfY * 32))
      expect(Math.min(...pars)).toBe(16 - Math.round(pfZ * 16))
      expect(pars.size).toBe(Math.round(pfZ * 16))
      expect(steps.length).toBe(lines.size * pars.size)
    })
  }

  it('meets TE and TR, and lasts the sum of its TRs', () => {
    const seq = roundTrip(gre3d({ matrix: [32, 16, 4], teS: 4e-3, trS: 12e-3 }))
    const exc = excitationCentres(seq)
    const readouts = imagingReadouts(seq)
    readouts.forEach((r, i) => expect(Math.abs(sampleTime(r, 16) - exc[i] - 4e-3)).toBeLessThanOrEqual(5e-6 + 1e-9))
    expect(totalDuration(seq)).toBeCloseTo(16 * 4 * 12e-3, 9)
  })

  it('excites non-selectively with a hard pulse and can leave the labels out', () => {
    const seq = roundTrip(gre3d({ matrix: [32, 16, 4], slabSelective: false, labels: false }))
    expectNoLabels(seq)
    expectPhysical(seq)
    expect(seq.blocks.gz[seq.blocks.rf.indexOf(1)]).toBe(0)
    expect(gridSteps(seq, 32, 16, 4, [0.256, 0.256, 0.032], false).length).toBe(64)
  })

  it('refuses partial Fourier at or below one half', () => {
    expect(() => gre3d({ partialFourierY: 0.5 })).toThrow(SeqBuildError)
    expect(() => gre3d({ partialFourierZ: 0.4 })).toThrow(/more than 1\/2/)
  })
})
