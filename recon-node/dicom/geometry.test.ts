import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { DicomWriteError } from './errors.ts'
import { cross, dot, imagePlane } from './geometry.ts'
import type { SliceGeometry, Vec3 } from './geometry.ts'

function closeTo (actual: readonly number[], expected: readonly number[], digits = 9): void {
  expect(actual.length).toBe(expected.length)
  actual.forEach((v, i) => expect(v, `index ${i}`).toBeCloseTo(expected[i], digits))
}

describe('imagePlane', () => {
  it('puts the slice position at pixel ⌊n/2⌋, where the centred FFT puts x = 0', () => {
    const plane = imagePlane({ position: [1, 2, 3], readDir: [1, 0, 0], phaseDir: [0, 1, 0], sliceDir: [0, 0, 1], fieldOfViewMm: [200, 160, 5] }, 100, 80)
    // dx = 200/100 = 2, dy = 160/80 = 2: centre − 50·2·[1,0,0] − 40·2·[0,1,0]
    closeTo(plane.imagePositionPatient, [-99, -78, 3])
    closeTo(plane.imageOrientationPatient, [1, 0, 0, 0, 1, 0])
    closeTo(plane.pixelSpacing, [2, 2])
    closeTo(plane.normal, [0, 0, 1])
    expect(plane.sliceLocation).toBeCloseTo(3)
  })

  it('computes an oblique plane by hand', () => {
    // read = [0.6, 0.8, 0], phase = [0, 0, 1]; normal = read × phase = [0.8, −0.6, 0].
    // 50 × 25 pixels over 100 × 50 mm: dx = dy = 2; IPP = c − 25·2·read − 12·2·phase (odd rows: ⌊25/2⌋ = 12).
    const plane = imagePlane({ position: [10, 20, 30], readDir: [0.6, 0.8, 0], phaseDir: [0, 0, 1], sliceDir: [0.8, -0.6, 0], fieldOfViewMm: [100, 50, 4] }, 50, 25)
    closeTo(plane.imagePositionPatient, [10 - 30, 20 - 40, 30 - 24])
    closeTo(plane.imageOrientationPatient, [0.6, 0.8, 0, 0, 0, 1])
    closeTo(plane.normal, [0.8, -0.6, 0])
    expect(plane.sliceLocation).toBeCloseTo(8 - 12)
  })

  it('has PixelSpacing [phase spacing, readout spacing] for anisotropic pixels', () => {
    const plane = imagePlane({ position: [0, 0, 0], readDir: [0, 1, 0], phaseDir: [0, 0, -1], sliceDir: [-1, 0, 0], fieldOfViewMm: [256, 192, 3] }, 128, 64)
    closeTo(plane.pixelSpacing, [3, 2])
    // dx = 2, dy = 3: centre − 64·2·[0,1,0] − 32·3·[0,0,−1]
    closeTo(plane.imagePositionPatient, [0, -128, 96])
  })

  it('maps every pixel back to the ISMRMRD position of its readout sample and phase line', () => {
    const angle = fc.double({ min: -Math.PI, max: Math.PI, noNaN: true })
    fc.assert(fc.property(angle, angle, angle, fc.integer({ min: 1, max: 300 }), fc.integer({ min: 1, max: 300 }), (a, b, c, columns, rows) => {
      // An arbitrary rotation applied to the identity frame.
      const rz = (v: Vec3): Vec3 => [v[0] * Math.cos(a) - v[1] * Math.sin(a), v[0] * Math.sin(a) + v[1] * Math.cos(a), v[2]]
      const rx = (v: Vec3): Vec3 => [v[0], v[1] * Math.cos(b) - v[2] * Math.sin(b), v[1] * Math.sin(b) + v[2] * Math.cos(b)]
      const ry = (v: Vec3): Vec3 => [v[0] * Math.cos(c) + v[2] * Math.sin(c), v[1], -v[0] * Math.sin(c) + v[2] * Math.cos(c)]
      const rot = (v: Vec3): Vec3 => ry(rx(rz(v)))
      const g: SliceGeometry = { position: [12, -34, 56], readDir: rot([1, 0, 0]), phaseDir: rot([0, 1, 0]), sliceDir: rot([0, 0, 1]), fieldOfViewMm: [220, 180, 4] }
      const plane = imagePlane(g, columns, rows)
      const [dy, dx] = plane.pixelSpacing
      const row = plane.imageOrientationPatient.slice(0, 3) as unknown as Vec3
      const col = plane.imageOrientationPatient.slice(3) as unknown as Vec3
      // Pixel i of row j lies (i − ⌊columns/2⌋)·dx along readDir and (j − ⌊rows/2⌋)·dy along phaseDir from the position.
      for (const [i, j] of [[0, 0], [columns - 1, rows - 1], [Math.floor(columns / 3), Math.floor(rows / 2)]]) {
        const dicom = [0, 1, 2].map((k) => plane.imagePositionPatient[k] + i * dx * row[k] + j * dy * col[k])
        const ismrmrd = [0, 1, 2].map((k) => g.position[k] + (i - Math.floor(columns / 2)) * dx * g.readDir[k] + (j - Math.floor(rows / 2)) * dy * g.phaseDir[k])
        closeTo(dicom, ismrmrd, 6)
      }
      expect(Math.abs(dot(cross(row, col), g.sliceDir))).toBeCloseTo(1, 9)
    }))
  })

  it('rejects directions that are not orthonormal', () => {
    const base: SliceGeometry = { position: [0, 0, 0], readDir: [1, 0, 0], phaseDir: [0, 1, 0], sliceDir: [0, 0, 1], fieldOfViewMm: [100, 100, 5] }
    expect(() => imagePlane({ ...base, readDir: [2, 0, 0] }, 10, 10)).toThrow(DicomWriteError)
    expect(() => imagePlane({ ...base, phaseDir: [Math.SQRT1_2, Math.SQRT1_2, 0] }, 10, 10)).toThrow(/not orthogonal/)
    expect(() => imagePlane({ ...base, sliceDir: [1, 0, 0] }, 10, 10)).toThrow(/sliceDir/)
    expect(() => imagePlane({ ...base, fieldOfViewMm: [0, 100, 5] }, 10, 10)).toThrow(/field of view/)
    expect(() => imagePlane({ ...base, position: [Number.NaN, 0, 0] }, 10, 10)).toThrow(/position/)
  })
})
