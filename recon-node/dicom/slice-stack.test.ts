// The thickness and spacing rules of slice-stack.ts, on stacks along an oblique normal.
import { describe, expect, it } from 'vitest'
import { SliceStack } from './slice-stack.ts'
import type { Vec3 } from './geometry.ts'

const NORMAL: Vec3 = [0, -Math.sin(Math.PI / 9), Math.cos(Math.PI / 9)]
const at = (offset: number): Vec3 => [3 + offset * NORMAL[0], -2 + offset * NORMAL[1], 10 + offset * NORMAL[2]]

function stack (count: number, offsets: number[]): SliceStack {
  const s = new SliceStack(count)
  offsets.forEach((o, slice) => s.note(slice, at(o), NORMAL))
  return s
}

describe('SliceStack', () => {
  it('gives the spacing of evenly spaced slices once all are known, in any acquisition order', () => {
    const s = new SliceStack(4)
    // interleaved: slices 0, 2, 1, 3 at 0, 12, 6, 18 mm
    s.note(0, at(0), NORMAL)
    s.note(2, at(12), NORMAL)
    expect(s.spacing()).toBeUndefined()
    s.note(1, at(6), NORMAL)
    expect(s.spacing()).toBeUndefined()
    s.note(3, at(18), NORMAL)
    expect(s.spacing()).toBeCloseTo(6, 9)
  })

  it('has no spacing for uneven slices, slices in one place or slices that are not parallel', () => {
    expect(stack(3, [0, 5, 12]).spacing()).toBeUndefined()
    expect(stack(2, [4, 4]).spacing()).toBeUndefined()
    const tilted = stack(2, [0, 5])
    tilted.note(2, at(10), [1, 0, 0])
    expect(tilted.spacing()).toBeUndefined()
  })

  it('reads the FOV z as the thickness when it fits between neighbours, as the slab of all slices when it cannot', () => {
    // 5 mm slices 7 mm apart
    expect(stack(5, [0, 7, 14, 21, 28]).thickness(5)).toEqual({ mm: 5 })
    // contiguous: the thickness equals the distance
    expect(stack(3, [0, 4, 8]).thickness(4)).toEqual({ mm: 4 })
    // a 21 mm FOV over 7 slices 3 mm apart is the stack: 3 mm slices
    expect(stack(7, [0, 3, 6, 9, 12, 15, 18]).thickness(21).mm).toBeCloseTo(3, 9)
    // already clear from two neighbours: 21 mm cannot be the thickness of slices 3 mm apart
    expect(stack(7, [0, 3]).thickness(21).mm).toBeCloseTo(3, 9)
    // one slice: nothing to compare with, ISMRMRD's reading
    expect(stack(7, [0]).thickness(21)).toEqual({ mm: 21 })
    // 30 mm over 3 slices 5 mm apart: neither one slice (they would overlap) nor 3 contiguous ones
    const unknown = stack(3, [0, 5, 10]).thickness(30)
    expect(unknown.mm).toBeUndefined()
    expect(unknown.reason).toMatch(/30 mm.*5 mm between neighbouring slices/)
    // overlapping 5 mm slices 4 mm apart (a 2-D time of flight): not read as a stack of 0.5 mm slices
    expect(stack(10, [0, 4, 8, 12, 16, 20, 24, 28, 32, 36]).thickness(5).mm).toBeUndefined()
    // a stack seen only in part (slices 0 and 2 of 7 contiguous 3 mm ones): not yet clear
    const partial = new SliceStack(7)
    partial.note(0, at(0), NORMAL)
    partial.note(2, at(6), NORMAL)
    expect(partial.thickness(21).mm).toBeUndefined()
    partial.note(1, at(3), NORMAL)
    expect(partial.thickness(21).mm).toBeCloseTo(3, 9)
    expect(stack(1, []).thickness(0).mm).toBeUndefined()
  })
})
