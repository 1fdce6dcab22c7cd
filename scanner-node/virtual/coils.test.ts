import { describe, expect, it } from 'vitest'
import { birdcageCoils, sensitivityAt, uniformCoil } from './coils.ts'
import { phantomKspace } from './kspace.ts'
import { discPhantom } from './phantom.ts'

describe('birdcage coils as plane-wave sums', () => {
  it('have a root-sum-of-squares within 1% of 1 over the object', () => {
    for (const count of [2, 8, 32]) {
      const coils = birdcageCoils({ count, objectRadiusM: 0.1 })
      expect(coils.frequencies).toHaveLength(25)
      for (let j = 0; j <= 20; j++) {
        for (let i = 0; i <= 20; i++) {
          const x = 0.1 * (i / 10 - 1)
          const y = 0.1 * (j / 10 - 1)
          if (x * x + y * y > 0.01) continue
          let sum = 0
          for (let c = 0; c < count; c++) sum += Math.hypot(...sensitivityAt(coils, c, x, y)) ** 2
          expect(Math.abs(Math.sqrt(sum) - 1)).toBeLessThan(0.01)
        }
      }
    }
  })

  it('are brighter near their own element (coil c sits at angle 2πc/N)', () => {
    const coils = birdcageCoils({ count: 4, objectRadiusM: 0.1 })
    const near = Math.hypot(...sensitivityAt(coils, 0, 0.08, 0))
    const far = Math.hypot(...sensitivityAt(coils, 0, -0.08, 0))
    expect(near).toBeGreaterThan(2 * far)
    expect(Math.hypot(...sensitivityAt(coils, 1, 0, 0.08))).toBeCloseTo(near, 3)
  })

  it('one coil is uniform', () => {
    const one = birdcageCoils({ count: 1, objectRadiusM: 0.1 })
    expect(one).toEqual(uniformCoil())
    expect(sensitivityAt(one, 0, 0.05, -0.02)).toEqual([1, 0])
  })

  it('k-space of sensitivity × object is the sum of shifted object k-spaces (the model\'s premise)', () => {
    // s(r) = exp(+i2π f·r) multiplies the object; its transform is S(k − f).
    const disc = discPhantom({ radiusM: 0.05 })
    const timing = { kind: 'OTHER', teS: 0, trS: 1, flipAngleDeg: 90 } as const
    const f: [number, number, number] = [3, -2, 0]
    const shifted = phantomKspace(disc, { kx: [3], ky: [-2], kz: [0], tS: [0] }, { timing }, f)
    expect(shifted.re[0]).toBeCloseTo(Math.PI * 0.05 ** 2, 15)
  })

  it('reject impossible arrays with InvalidCoilsError', () => {
    expect(() => birdcageCoils({ count: 0, objectRadiusM: 0.1 })).toThrow(expect.objectContaining({ name: 'InvalidCoilsError' }))
    expect(() => birdcageCoils({ count: 4, objectRadiusM: 0.1, coilRadiusRatio: 0.5 })).toThrow(expect.objectContaining({ name: 'InvalidCoilsError' }))
  })
})
