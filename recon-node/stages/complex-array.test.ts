import { describe, expect, it } from 'vitest'
import { alloc, ArrayShapeError, COIL, cropCentre, fromData, index, PHS1, READ, sliceAxis, strides } from './complex-array.ts'

function ramp (dims: [number, number, number, number]): ReturnType<typeof alloc> {
  const a = alloc(dims)
  for (let i = 0; i < a.data.length / 2; i++) a.data[2 * i] = i
  return a
}

describe('complex array', () => {
  it('is column-major with READ fastest, like BART and ISMRMRD', () => {
    const a = ramp([4, 3, 2, 5])
    expect(strides(a.dims)).toEqual([1, 4, 12, 24])
    expect(index(a.dims, 1, 2, 1, 3)).toBe(1 + 4 * 2 + 12 * 1 + 24 * 3)
    expect(a.data[2 * index(a.dims, 3, 2, 1, 4)]).toBe(119)
  })

  it('allocates shared memory when asked', () => {
    expect(alloc([2, 2, 1, 1], { shared: true }).data.buffer).toBeInstanceOf(SharedArrayBuffer)
    expect(alloc([2, 2, 1, 1]).data.buffer).toBeInstanceOf(ArrayBuffer)
    expect(() => alloc([2, 0, 1, 1])).toThrow(ArrayShapeError)
    expect(() => fromData([2, 2, 1, 1], new Float32Array(7))).toThrow(ArrayShapeError)
  })

  it('slices along any axis', () => {
    const a = ramp([4, 3, 2, 5])
    const coil = sliceAxis(a, COIL, 2)
    expect(coil.dims).toEqual([4, 3, 2, 1])
    expect(coil.data[0]).toBe(48)
    const rows = sliceAxis(a, PHS1, 1, 3)
    expect(rows.dims).toEqual([4, 2, 2, 5])
    expect(rows.data[2 * index(rows.dims, 2, 1, 1, 4)]).toBe(a.data[2 * index(a.dims, 2, 2, 1, 4)])
    const col = sliceAxis(a, READ, 3)
    expect(col.data[2 * index(col.dims, 0, 2, 0, 1)]).toBe(a.data[2 * index(a.dims, 3, 2, 0, 1)])
    expect(() => sliceAxis(a, READ, 4)).toThrow(ArrayShapeError)
  })

  it('crops the centre, keeping index floor(n/2) at floor(m/2)', () => {
    const a = ramp([8, 5, 1, 2])
    const c = cropCentre(a, [4, 3, 1, 2])
    // x from 4 - 2 = 2, y from 2 - 1 = 1
    expect(c.data[2 * index(c.dims, 0, 0, 0, 0)]).toBe(a.data[2 * index(a.dims, 2, 1, 0, 0)])
    expect(c.data[2 * index(c.dims, 3, 2, 0, 1)]).toBe(a.data[2 * index(a.dims, 5, 3, 0, 1)])
    expect(cropCentre(a, [8, 5, 1, 2])).toBe(a)
    expect(() => cropCentre(a, [9, 5, 1, 2])).toThrow(ArrayShapeError)
  })
})
