import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import type { ImageHeader } from './types.ts'
import { IMAGE_HEADER_SIZE, bytesPerPixel, decodeImageHeader, emptyImageHeader, encodeImageHeader } from './image-header.ts'
import { MrdProtocolError } from './errors.ts'
import { imageHeader } from './test-arbitraries.ts'

type Kind = 'u16' | 'u32' | 'i32' | 'u64' | 'f32'
const SIZE: Record<Kind, number> = { u16: 2, u32: 4, i32: 4, u64: 8, f32: 4 }

// Offsets as documented in REFERENCE.md (from ismrmrd.h).
const FIELDS: [keyof ImageHeader, number, Kind, number][] = [
  ['version', 0, 'u16', 1],
  ['dataType', 2, 'u16', 1],
  ['flags', 4, 'u64', 1],
  ['measurementUid', 12, 'u32', 1],
  ['matrixSize', 16, 'u16', 3],
  ['fieldOfView', 22, 'f32', 3],
  ['channels', 34, 'u16', 1],
  ['position', 36, 'f32', 3],
  ['readDir', 48, 'f32', 3],
  ['phaseDir', 60, 'f32', 3],
  ['sliceDir', 72, 'f32', 3],
  ['patientTablePosition', 84, 'f32', 3],
  ['average', 96, 'u16', 1],
  ['slice', 98, 'u16', 1],
  ['contrast', 100, 'u16', 1],
  ['phase', 102, 'u16', 1],
  ['repetition', 104, 'u16', 1],
  ['set', 106, 'u16', 1],
  ['acquisitionTimeStamp', 108, 'u32', 1],
  ['physiologyTimeStamp', 112, 'u32', 3],
  ['imageType', 124, 'u16', 1],
  ['imageIndex', 126, 'u16', 1],
  ['imageSeriesIndex', 128, 'u16', 1],
  ['userInt', 130, 'i32', 8],
  ['userFloat', 162, 'f32', 8],
  ['attributeStringLen', 194, 'u32', 1]
]

function distinct (kind: Kind, i: number): number | bigint {
  switch (kind) {
    case 'u16': return 0x2300 + i + 1
    case 'u32': return 0x23456700 + i + 1
    case 'i32': return -(0x2345600 + i + 1)
    case 'u64': return 0x0a0b0c0d0e0f0000n + BigInt(i + 1)
    case 'f32': return -2.25 - i
  }
}

describe('image header (198 bytes)', () => {
  it('is 198 bytes and the documented fields tile it without gaps', () => {
    expect(IMAGE_HEADER_SIZE).toBe(198)
    let next = 0
    for (const [name, offset, kind, count] of FIELDS) {
      expect(offset, name).toBe(next)
      next = offset + SIZE[kind] * count
    }
    expect(next).toBe(198)
  })

  for (const [name, offset, kind, count] of FIELDS) {
    it(`writes ${name} at byte ${offset} and nowhere else`, () => {
      const head: ImageHeader = { ...emptyImageHeader(), version: 0, channels: 0 }
      const values = Array.from({ length: count }, (_, i) => distinct(kind, i))
      ;(head as unknown as Record<string, unknown>)[name] = count === 1 ? values[0] : values
      const bytes = encodeImageHeader(head)
      const view = new DataView(bytes.buffer)
      for (let i = 0; i < count; i++) {
        const at = offset + i * SIZE[kind]
        const read = kind === 'u16' ? view.getUint16(at, true) : kind === 'u32' ? view.getUint32(at, true) : kind === 'i32' ? view.getInt32(at, true) : kind === 'u64' ? view.getBigUint64(at, true) : view.getFloat32(at, true)
        expect(read).toBe(values[i])
      }
      const end = offset + SIZE[kind] * count
      bytes.forEach((b, i) => { if (i < offset || i >= end) expect(b, `byte ${i}`).toBe(0) })
      expect(decodeImageHeader(bytes)).toEqual(head)
    })
  }

  it('round-trips any header', () => {
    fc.assert(fc.property(imageHeader(), (head) => {
      expect(decodeImageHeader(encodeImageHeader(head))).toEqual(head)
    }), { numRuns: 300 })
  })

  it('knows the pixel sizes of the ISMRMRD data types', () => {
    expect([1, 2, 3, 4, 5, 6, 7, 8].map(bytesPerPixel)).toEqual([2, 2, 4, 4, 4, 8, 8, 16])
    expect(bytesPerPixel(0)).toBeUndefined()
    expect(bytesPerPixel(9)).toBeUndefined()
  })

  it('refuses values that do not fit, and short input', () => {
    expect(() => encodeImageHeader({ ...emptyImageHeader(), matrixSize: [70000, 1, 1] })).toThrow(MrdProtocolError)
    expect(() => decodeImageHeader(new Uint8Array(197))).toThrow(MrdProtocolError)
  })
})
