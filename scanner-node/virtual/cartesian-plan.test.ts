import { describe, expect, it } from 'vitest'
import { cartesianReadouts } from './cartesian-plan.ts'

describe('cartesianReadouts', () => {
  it('puts the k-space centre at sample nx/2 and lines from −ny/2 to ny/2 − 1', () => {
    const plan = Array.from(cartesianReadouts({ matrix: [8, 4], fovM: 0.2, teS: 0.004 }))
    expect(plan).toHaveLength(4)
    expect(plan[0].kx[4]).toBe(0)
    expect(plan[0].kx[0]).toBeCloseTo(-4 / 0.2, 12)
    expect(plan[0].kx[7]).toBeCloseTo(3 / 0.2, 12)
    expect(plan.map((r) => r.ky[0] * 0.2)).toEqual([-2, -1, 0, 1].map((v) => expect.closeTo(v, 12)))
    expect(plan[2].timeFromExcitationS).toBe(0.004)
    expect(plan[0].sliceOffsetM).toBeUndefined()
  })

  it('oversampling halves the spacing over the same extent', () => {
    const [r] = cartesianReadouts({ matrix: [8, 4], fovM: 0.2, teS: 0.004, oversampling: 2 })
    expect(r.kx).toHaveLength(16)
    expect(r.kx[8]).toBe(0)
    expect(r.kx[0]).toBeCloseTo(-4 / 0.2, 12)
    expect(r.dwellS).toBeCloseTo(5e-6, 15)
  })

  it('counts partitions in 3D and slices in 2D', () => {
    const plan3d = Array.from(cartesianReadouts({ matrix: [4, 4, 2], fovM: [0.2, 0.2, 0.1], teS: 0 }))
    expect(plan3d.map((r) => r.counters.partition)).toEqual([0, 0, 0, 0, 1, 1, 1, 1])
    expect(plan3d[0].kz[0]).toBeCloseTo(-1 / 0.1, 12)
    const plan2d = Array.from(cartesianReadouts({ matrix: [4, 2], fovM: [0.2, 0.2, 0.005], teS: 0, slices: 3 }))
    expect(plan2d.map((r) => r.sliceOffsetM)).toEqual([-0.005, -0.005, 0, 0, 0.005, 0.005])
  })

  it('rejects impossible plans with InvalidPlanError', () => {
    expect(() => Array.from(cartesianReadouts({ matrix: [0, 4], fovM: 0.2, teS: 0 }))).toThrow(expect.objectContaining({ name: 'InvalidPlanError' }))
  })
})
