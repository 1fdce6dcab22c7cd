import { describe, expect, it } from 'vitest'
import { groupSeries, keepSlice, slicePosition, sortSlices } from './series.ts'
import type { SliceKey } from './series.ts'

function slice (sop: string, fields: Partial<SliceKey> = {}): SliceKey {
  return { seriesInstanceUid: '1.2.3', sopInstanceUid: sop, frameIndex: 0, ...fields }
}

describe('series order', () => {
  it('projects the image position on the slice normal', () => {
    // axial: rows along +x, columns along +y, the normal is +z
    expect(slicePosition([10, 20, -35.5], [1, 0, 0, 0, 1, 0])).toBeCloseTo(-35.5)
    // sagittal: rows along +y, columns along -z, the normal is -x
    expect(slicePosition([12, 0, 0], [0, 1, 0, 0, 0, -1])).toBeCloseTo(-12)
    expect(slicePosition(undefined, undefined, 7)).toBe(7)
    expect(slicePosition([1, 2, 3], undefined)).toBeUndefined()
  })

  it('sorts by InstanceNumber, then position, then frame', () => {
    const sorted = sortSlices([
      slice('c', { instanceNumber: 3 }),
      slice('a2', { instanceNumber: 1, frameIndex: 1 }),
      slice('b', { instanceNumber: 2, position: 5 }),
      slice('a1', { instanceNumber: 1, frameIndex: 0 }),
      slice('x', { position: -4 }),
      slice('y', { position: -9 })
    ])
    expect(sorted.map((s) => `${s.sopInstanceUid}`)).toEqual(['a1', 'a2', 'b', 'c', 'y', 'x'])
  })

  it('groups one-image results by series, once per instance', () => {
    const groups = groupSeries([
      slice('s3', { instanceNumber: 3 }),
      slice('t1', { seriesInstanceUid: '9.9', instanceNumber: 1 }),
      slice('s1', { instanceNumber: 1 }),
      slice('s2', { instanceNumber: 2 }),
      slice('s1', { instanceNumber: 1 })
    ])
    expect([...groups.keys()]).toEqual(['1.2.3', '9.9'])
    expect(groups.get('1.2.3')?.map((s) => s.sopInstanceUid)).toEqual(['s1', 's2', 's3'])
    expect(groups.get('9.9')?.length).toBe(1)
  })

  it('keeps showing the same slice when slices arrive before it', () => {
    const before = [slice('s2', { instanceNumber: 2 }), slice('s4', { instanceNumber: 4 })]
    const after = sortSlices([...before, slice('s1', { instanceNumber: 1 }), slice('s3', { instanceNumber: 3 })])
    expect(keepSlice(before[1], after, 1)).toBe(3)
    expect(keepSlice(undefined, after, 9)).toBe(3)
    expect(keepSlice(slice('gone'), after, 0)).toBe(0)
  })
})
