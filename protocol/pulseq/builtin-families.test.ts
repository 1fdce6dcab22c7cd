// Property test of the newer built-ins: across reasonable protocols each one builds, reads back from
// its file, keeps the hardware limits and acquires as many readouts as its parameters say.
import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { epi2d } from './builtin-epi.ts'
import { gre3d } from './builtin-gre3d.ts'
import { greUndersampled, undersampledLines } from './builtin-gre-undersampled.ts'
import { radial2d, ute2d } from './builtin-radial.ts'
import { spiral2d } from './builtin-spiral.ts'
import { tse2d } from './builtin-tse.ts'
import { expectPhysical, imagingReadouts, roundTrip } from './builtin-test-support.ts'
import type { Sequence } from './types.ts'

const fov = fc.double({ min: 0.18, max: 0.4, noNaN: true })
const thickness = fc.double({ min: 3e-3, max: 8e-3, noNaN: true })
const RUNS = 4

function readouts (seq: Sequence): number {
  const back = roundTrip(seq)
  expectPhysical(back)
  return imagingReadouts(back).length
}

describe('the newer built-ins over reasonable protocols', () => {
  it('tse', () => {
    fc.assert(fc.property(fc.constantFrom(32, 64, 128), fc.constantFrom(4, 8, 16), fc.integer({ min: 1, max: 4 }), fov, thickness, fc.constantFrom('linear', 'centric') as fc.Arbitrary<'linear' | 'centric'>, (nx, etl, shots, f, t, ordering) => {
      expect(readouts(tse2d({ matrix: [nx, etl * shots], echoTrainLength: etl, fovM: f, sliceThicknessM: t, ordering }))).toBe(etl * shots)
    }), { numRuns: RUNS })
  })

  it('epi', () => {
    fc.assert(fc.property(fc.constantFrom(32, 64, 96), fc.constantFrom(32, 48, 64), fov, fc.boolean(), fc.constantFrom(5 / 8, 6 / 8, 7 / 8, 1), fc.constantFrom(1, 2), (nx, ny, f, ramp, pf, os) => {
      expect(readouts(epi2d({ matrix: [nx, ny], fovM: f, rampSampling: ramp, partialFourier: pf, readoutOversampling: os }))).toBe(3 + Math.round(pf * ny))
    }), { numRuns: RUNS })
  })

  it('radial and UTE', () => {
    fc.assert(fc.property(fc.constantFrom(32, 64, 128), fov, fc.integer({ min: 4, max: 40 }), fc.boolean(), fc.constantFrom(1, 2), (n, f, spokes, golden, os) => {
      expect(readouts(radial2d({ matrix: [n, n], fovM: f, spokes, goldenAngle: golden, readoutOversampling: os }))).toBe(spokes)
      expect(readouts(ute2d({ matrix: [n, n], fovM: f, spokes, goldenAngle: golden, readoutOversampling: os, excitation: golden ? 'slice' : 'hard' }))).toBe(spokes)
    }), { numRuns: RUNS })
  })

  it('spiral', () => {
    fc.assert(fc.property(fc.constantFrom(32, 64, 96), fov, fc.integer({ min: 1, max: 8 }), (n, f, interleaves) => {
      expect(readouts(spiral2d({ matrix: [n, n], fovM: f, interleaves }))).toBe(interleaves)
    }), { numRuns: RUNS })
  })

  it('gre3d', () => {
    fc.assert(fc.property(fc.constantFrom(32, 64), fc.integer({ min: 4, max: 24 }), fc.integer({ min: 2, max: 12 }), fc.double({ min: 0.02, max: 0.1, noNaN: true }), fc.constantFrom(6 / 8, 1), fc.boolean(), (nx, ny, nz, slab, pf, selective) => {
      expect(readouts(gre3d({ matrix: [nx, ny, nz], slabThicknessM: slab, partialFourierY: pf, slabSelective: selective }))).toBe(Math.round(pf * ny) * nz)
    }), { numRuns: RUNS })
  })

  it('undersampled GRE', () => {
    fc.assert(fc.property(fc.integer({ min: 32, max: 96 }), fc.constantFrom(2, 3), fov, (ny, r, f) => {
      expect(readouts(greUndersampled({ matrix: [64, ny], acceleration: r, fovM: f }))).toBe(undersampledLines(ny, r, 24).length)
    }), { numRuns: RUNS })
  })
})
