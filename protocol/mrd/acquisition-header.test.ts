import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import type { AcquisitionHeader } from './types.ts'
import {
  ACQUISITION_HEADER_SIZE, decodeAcquisitionHeader, emptyAcquisitionHeader, encodeAcquisitionHeader
} from './acquisition-header.ts'
import { MrdProtocolError } from './errors.ts'
import { acquisitionHeader } from './test-arbitraries.ts'

type Kind = 'u16' | 'u32' | 'i32' | 'u64' | 'f32'
const SIZE: Record<Kind, number> = { u16: 2, u32: 4, i32: 4, u64: 8, f32: 4 }

// Offsets as documented in REFERENCE.md (from ismrmrd.h), written out independently of the
// implementation's offset table: [path, offset, kind, count].
const FIELDS: [string, number, Kind, number][] = [
  ['version', 0, 'u16', 1],
  ['flags', 2, 'u64', 1],
  ['measurementUid', 10, 'u32', 1],
  ['scanCounter', 14, 'u32', 1],
  ['acquisitionTimeStamp', 18, 'u32', 1],
  ['physiologyTimeStamp', 22, 'u32', 3],
  ['numberOfSamples', 34, 'u16', 1],
  ['availableChannels', 36, 'u16', 1],
  ['activeChannels', 38, 'u16', 1],
  ['channelMask', 40, 'u64', 16],
  ['discardPre', 168, 'u16', 1],
  ['discardPost', 170, 'u16', 1],
  ['centerSample', 172, 'u16', 1],
  ['encodingSpaceRef', 174, 'u16', 1],
  ['trajectoryDimensions', 176, 'u16', 1],
  ['sampleTimeUs', 178, 'f32', 1],
  ['position', 182, 'f32', 3],
  ['readDir', 194, 'f32', 3],
  ['phaseDir', 206, 'f32', 3],
  ['sliceDir', 218, 'f32', 3],
  ['patientTablePosition', 230, 'f32', 3],
  ['idx.kspaceEncodeStep1', 242, 'u16', 1],
  ['idx.kspaceEncodeStep2', 244, 'u16', 1],
  ['idx.average', 246, 'u16', 1],
  ['idx.slice', 248, 'u16', 1],
  ['idx.contrast', 250, 'u16', 1],
  ['idx.phase', 252, 'u16', 1],
  ['idx.repetition', 254, 'u16', 1],
  ['idx.set', 256, 'u16', 1],
  ['idx.segment', 258, 'u16', 1],
  ['idx.user', 260, 'u16', 8],
  ['userInt', 276, 'i32', 8],
  ['userFloat', 308, 'f32', 8]
]

/** A zeroed header (version 0 too, so that only the field under test is non-zero). */
function zeroHeader (): AcquisitionHeader {
  return { ...emptyAcquisitionHeader(), version: 0, availableChannels: 0, activeChannels: 0 }
}

function setPath (head: AcquisitionHeader, path: string, value: unknown): void {
  const parts = path.split('.')
  let target = head as unknown as Record<string, unknown>
  for (const part of parts.slice(0, -1)) target = target[part] as Record<string, unknown>
  target[parts[parts.length - 1]] = value
}

function distinct (kind: Kind, i: number): number | bigint {
  switch (kind) {
    case 'u16': return 0x1200 + i + 1
    case 'u32': return 0x12345600 + i + 1
    case 'i32': return -(0x1234500 + i + 1)
    case 'u64': return 0x0102030405060700n + BigInt(i + 1)
    case 'f32': return 1.5 + i
  }
}

function readAt (view: DataView, kind: Kind, offset: number): number | bigint {
  switch (kind) {
    case 'u16': return view.getUint16(offset, true)
    case 'u32': return view.getUint32(offset, true)
    case 'i32': return view.getInt32(offset, true)
    case 'u64': return view.getBigUint64(offset, true)
    case 'f32': return view.getFloat32(offset, true)
  }
}

describe('acquisition header (340 bytes)', () => {
  it('is 340 bytes and the documented fields tile it without gaps', () => {
    expect(ACQUISITION_HEADER_SIZE).toBe(340)
    let next = 0
    for (const [path, offset, kind, count] of FIELDS) {
      expect(offset, path).toBe(next)
      next = offset + SIZE[kind] * count
    }
    expect(next).toBe(340)
  })

  for (const [path, offset, kind, count] of FIELDS) {
    it(`writes ${path} at byte ${offset} (${count} × ${kind}) and nowhere else`, () => {
      const head = zeroHeader()
      const values = Array.from({ length: count }, (_, i) => distinct(kind, i))
      setPath(head, path, count === 1 ? values[0] : values)
      const bytes = encodeAcquisitionHeader(head)
      expect(bytes.length).toBe(340)
      const view = new DataView(bytes.buffer)
      for (let i = 0; i < count; i++) expect(readAt(view, kind, offset + i * SIZE[kind])).toBe(values[i])
      const end = offset + SIZE[kind] * count
      bytes.forEach((b, i) => { if (i < offset || i >= end) expect(b, `byte ${i}`).toBe(0) })
      // And reads it back from there.
      const decoded = decodeAcquisitionHeader(bytes)
      expect(decoded).toEqual(head)
    })
  }

  it('round-trips any header', () => {
    fc.assert(fc.property(acquisitionHeader(), (head) => {
      expect(decodeAcquisitionHeader(encodeAcquisitionHeader(head))).toEqual(head)
    }), { numRuns: 300 })
  })

  it('reads at an offset inside a larger buffer', () => {
    const head = { ...emptyAcquisitionHeader(), scanCounter: 77, numberOfSamples: 256 }
    const buffer = new Uint8Array(1000)
    buffer.set(encodeAcquisitionHeader(head), 13)
    expect(decodeAcquisitionHeader(buffer.subarray(10), 3)).toEqual(head)
  })

  it('starts from the header ismrmrd_init_acquisition_header makes', () => {
    const head = emptyAcquisitionHeader()
    expect(head.version).toBe(1)
    expect(head.availableChannels).toBe(1)
    expect(head.activeChannels).toBe(1)
    expect(head.flags).toBe(0n)
    expect(head.channelMask).toHaveLength(16)
    expect(head.idx.user).toHaveLength(8)
  })

  it('refuses values that do not fit their field, and short input', () => {
    const tooMany = { ...emptyAcquisitionHeader(), numberOfSamples: 65536 }
    expect(() => encodeAcquisitionHeader(tooMany)).toThrow(MrdProtocolError)
    expect(() => encodeAcquisitionHeader({ ...emptyAcquisitionHeader(), scanCounter: -1 })).toThrow(/scanCounter/)
    expect(() => encodeAcquisitionHeader({ ...emptyAcquisitionHeader(), flags: 2n ** 64n })).toThrow(/flags/)
    expect(() => encodeAcquisitionHeader({ ...emptyAcquisitionHeader(), userInt: [1, 2] })).toThrow(/userInt: expected 8/)
    expect(() => encodeAcquisitionHeader({ ...emptyAcquisitionHeader(), userInt: new Array(8).fill(2 ** 31) })).toThrow(/i32/)
    expect(() => decodeAcquisitionHeader(new Uint8Array(339))).toThrow(MrdProtocolError)
  })
})
