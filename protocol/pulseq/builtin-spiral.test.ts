import { describe, expect, it } from 'vitest'
import { spiral2d } from './builtin-spiral.ts'
import { gradientArea } from './events.ts'
import type { AdcReadout } from './kspace.ts'
import { adcReadouts } from './kspace.ts'
import { excitationCentres, expectNoLabels, expectPhysical, imagingReadouts, roundTrip, sampleTime, totalDuration } from './builtin-test-support.ts'

/**
 * Radii at which the readouts cross the ray at angle ψ, all interleaves together, sorted: the
 * samples' polar angle is unwrapped along each readout and the radius interpolated at each crossing.
 */
function crossings (readouts: AdcReadout[], psi: number): number[] {
  const radii: number[] = []
  for (const r of readouts) {
    let unwrapped = Math.atan2(r.ky[0], r.kx[0])
    let previous = unwrapped
    let previousRadius = Math.hypot(r.kx[0], r.ky[0])
    for (let m = 1; m < r.numSamples; m++) {
      const a = Math.atan2(r.ky[m], r.kx[m])
      let d = a - (unwrapped % (2 * Math.PI))
      d = ((d + 3 * Math.PI) % (2 * Math.PI)) - Math.PI
      unwrapped += d
      const radius = Math.hypot(r.kx[m], r.ky[m])
      const before = Math.floor((previous - psi) / (2 * Math.PI))
      const after = Math.floor((unwrapped - psi) / (2 * Math.PI))
      if (after !== before && m > 1) {
        const target = psi + after * 2 * Math.PI
        const f = (target - previous) / (unwrapped - previous)
        radii.push(previousRadius + f * (radius - previousRadius))
      }
      previous = unwrapped
      previousRadius = radius
    }
  }
  return radii.sort((a, b) => a - b)
}

describe('spiral2d', () => {
  for (const interleaves of [1, 4]) {
    it(`with ${interleaves} interleave(s) reaches kmax with turns 1/FOV apart and samples 1/FOV apart along the path`, () => {
      const n = 64
      const fov = 0.256
      const dk = 1 / fov
      const kmax = n / (2 * fov)
      const seq = roundTrip(spiral2d({ interleaves }))
      expectPhysical(seq)
      const readouts = imagingReadouts(seq)
      expect(readouts.length).toBe(interleaves)
      expect(seq.definitions.get('MatrixSize')).toBe('64 64 1')
      expect(readouts.map((r) => r.labels.LIN)).toEqual(Array.from({ length: interleaves }, (_, j) => j))
      for (const r of readouts) {
        // Starts at the centre, ends beyond kmax, never a step of more than Δk between samples.
        expect(Math.hypot(r.kx[0], r.ky[0])).toBeLessThan(0.01 * dk)
        let reach = 0
        let step = 0
        for (let m = 0; m < r.numSamples; m++) {
          reach = Math.max(reach, Math.hypot(r.kx[m], r.ky[m]))
          if (m > 0) step = Math.max(step, Math.hypot(r.kx[m] - r.kx[m - 1], r.ky[m] - r.ky[m - 1]))
          expect(Math.abs(r.kz[m])).toBeLessThan(1e-6)
        }
        expect(reach).toBeGreaterThanOrEqual(kmax)
        expect(reach).toBeLessThan(kmax + 2 * dk)
        expect(step).toBeLessThanOrEqual(dk * (1 + 1e-6))
      }
      // Interleave j is interleave 0 turned by 2πj/Nint.
      readouts.forEach((r, j) => {
        const phi = 2 * Math.PI * j / interleaves
        const r0 = readouts[0]
        let error = 0
        for (let m = 0; m < r.numSamples; m += 7) {
          error = Math.max(error, Math.abs(r.kx[m] - (Math.cos(phi) * r0.kx[m] - Math.sin(phi) * r0.ky[m])), Math.abs(r.ky[m] - (Math.sin(phi) * r0.kx[m] + Math.cos(phi) * r0.ky[m])))
        }
        expect(error).toBeLessThan(1e-6 * kmax)
      })
      // Nyquist along every radius: consecutive turns (all interleaves) at most 1/FOV apart out to kmax.
      for (let i = 0; i < 12; i++) {
        const radii = crossings(readouts, -Math.PI + (i + 0.5) * 2 * Math.PI / 12).filter((k) => k <= kmax + dk)
        expect(radii[0]).toBeLessThanOrEqual(dk * 1.01)
        let gap = 0
        for (let m = 1; m < radii.length; m++) gap = Math.max(gap, radii[m] - radii[m - 1])
        expect(gap).toBeLessThanOrEqual(dk * 1.01)
        expect(gap).toBeGreaterThan(dk * 0.95)
        expect(radii[radii.length - 1]).toBeGreaterThan(kmax - dk)
      }
    })
  }

  it('rewinds k to 0 after each readout, starts its samples at TE, and lasts interleaves × TR', () => {
    const seq = roundTrip(spiral2d({ interleaves: 3, teS: 4e-3, trS: 30e-3 }))
    const exc = excitationCentres(seq)
    imagingReadouts(seq).forEach((r, j) => {
      expect(Math.abs(sampleTime(r, 0) - exc[j] - 4e-3)).toBeLessThanOrEqual(5e-6 + 1e-9)
    })
    expect(totalDuration(seq)).toBeCloseTo(3 * 30e-3, 9)
    let kx = 0
    let ky = 0
    for (let b = 0; b < seq.blocks.length; b++) {
      const gx = seq.gradients.get(seq.blocks.gx[b])
      const gy = seq.gradients.get(seq.blocks.gy[b])
      if (gx !== undefined) kx += gradientArea(seq, gx)
      if (gy !== undefined) ky += gradientArea(seq, gy)
      if (seq.blocks.rf[b] !== 0) {
        // The shapes are written with 12 significant digits: a residue of 1e-4 /m is 3e-5 of Δk.
        expect(Math.hypot(kx, ky)).toBeLessThan(1e-4)
        kx = 0
        ky = 0
      }
    }
    expect(Math.hypot(kx, ky)).toBeLessThan(1e-4)
    expect([...seq.gradients.values()].some((g) => g.type === 'arbitrary')).toBe(true)
  })

  it('can leave the labels out', () => {
    const seq = roundTrip(spiral2d({ matrix: [32, 32], interleaves: 2, labels: false }))
    expectNoLabels(seq)
    expect([...adcReadouts(seq)].length).toBe(2)
  })
})
