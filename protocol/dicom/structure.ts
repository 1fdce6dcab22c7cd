// A bounds check over the element structure of a DICOM Part 10 file, run before dcmjs parses it.
// dcmjs reads past the end of a truncated file without complaint (it hands back a pixel buffer of the
// declared length, padded with zeros), so a cut-off transfer would show up as a black band in the
// viewer. Walking tags and lengths costs little and turns that into a clear error.

import { DicomReadError } from './errors.ts'

export const IMPLICIT_VR_LITTLE_ENDIAN = '1.2.840.10008.1.2'
export const EXPLICIT_VR_LITTLE_ENDIAN = '1.2.840.10008.1.2.1'
export const DEFLATED_EXPLICIT_VR_LITTLE_ENDIAN = '1.2.840.10008.1.2.1.99'
export const EXPLICIT_VR_BIG_ENDIAN = '1.2.840.10008.1.2.2'

const PREAMBLE_LENGTH = 128
const UNDEFINED_LENGTH = 0xffffffff
const ITEM = 0xfffee000
const ITEM_DELIMITATION = 0xfffee00d
const SEQUENCE_DELIMITATION = 0xfffee0dd
const PIXEL_DATA = 0x7fe00010

/** VRs whose explicit encoding has two reserved bytes and a 32-bit length (PS3.5 7.1.2). */
const LONG_VRS = new Set(['OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'SQ', 'SV', 'UC', 'UN', 'UR', 'UT', 'UV'])

interface Syntax {
  implicit: boolean
  littleEndian: boolean
}

/** What the walk learnt: the transfer syntax named in the file meta group. */
export interface Part10Layout {
  transferSyntaxUid: string
  /** Byte offset where the dataset (after the meta group) starts. */
  datasetOffset: number
}

function hex4 (n: number): string {
  return n.toString(16).toUpperCase().padStart(4, '0')
}

export function formatTag (tag: number): string {
  return `(${hex4(tag >>> 16)},${hex4(tag & 0xffff)})`
}

class Walker {
  private readonly view: DataView

  constructor (private readonly bytes: Uint8Array) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  }

  private need (offset: number, count: number, end: number, what: string): void {
    if (offset + count > end) {
      throw new DicomReadError(`DICOM file is truncated: ${what} at byte ${offset} needs ${count} bytes, ${Math.max(0, end - offset)} remain`)
    }
  }

  private u16 (offset: number, le: boolean): number {
    return this.view.getUint16(offset, le)
  }

  private u32 (offset: number, le: boolean): number {
    return this.view.getUint32(offset, le)
  }

  private tagAt (offset: number, le: boolean): number {
    return ((this.u16(offset, le) << 16) | this.u16(offset + 2, le)) >>> 0
  }

  private ascii (offset: number, length: number): string {
    let s = ''
    for (let i = 0; i < length; i++) s += String.fromCharCode(this.bytes[offset + i])
    return s
  }

  /** The file meta group (always explicit VR little endian); returns the transfer syntax and where it ends. */
  meta (): Part10Layout {
    const end = this.bytes.length
    let offset = PREAMBLE_LENGTH + 4
    let transferSyntaxUid: string | undefined
    while (offset + 4 <= end && this.u16(offset, true) === 0x0002) {
      const { tag, valueOffset, length } = this.header(offset, end, { implicit: false, littleEndian: true })
      if (length === UNDEFINED_LENGTH) throw new DicomReadError(`file meta element ${formatTag(tag)} has an undefined length`)
      this.need(valueOffset, length, end, `file meta element ${formatTag(tag)}`)
      if (tag === 0x00020010) transferSyntaxUid = this.ascii(valueOffset, length).replace(/[\0 ]+$/, '')
      offset = valueOffset + length
    }
    if (transferSyntaxUid === undefined) throw new DicomReadError('DICOM file meta group has no TransferSyntaxUID (0002,0010)')
    return { transferSyntaxUid, datasetOffset: offset }
  }

  /** Reads an element header; the caller checks the value's bounds. */
  private header (offset: number, end: number, syntax: Syntax): { tag: number, valueOffset: number, length: number, vr: string | undefined } {
    const le = syntax.littleEndian
    this.need(offset, 8, end, 'element header')
    const tag = this.tagAt(offset, le)
    // Items and delimiters have no VR in any transfer syntax.
    if (syntax.implicit || tag >>> 16 === 0xfffe) {
      return { tag, valueOffset: offset + 8, length: this.u32(offset + 4, le), vr: undefined }
    }
    const vr = this.ascii(offset + 4, 2)
    if (LONG_VRS.has(vr)) {
      this.need(offset, 12, end, `element header ${formatTag(tag)}`)
      return { tag, valueOffset: offset + 12, length: this.u32(offset + 8, le), vr }
    }
    return { tag, valueOffset: offset + 8, length: this.u16(offset + 6, le), vr }
  }

  /**
   * Walks elements from offset to end. Inside an undefined-length item it stops after the item
   * delimiter and returns the offset that follows.
   */
  dataset (offset: number, end: number, syntax: Syntax, inItem: boolean): number {
    while (offset < end) {
      const { tag, valueOffset, length, vr } = this.header(offset, end, syntax)
      if (tag === ITEM_DELIMITATION) {
        if (!inItem) throw new DicomReadError(`unexpected item delimiter at byte ${offset}`)
        return valueOffset
      }
      if (length === UNDEFINED_LENGTH) {
        if (tag === PIXEL_DATA) {
          offset = this.fragments(valueOffset, end, syntax)
        } else {
          // An undefined-length UN is a sequence encoded implicit VR little endian (PS3.5 6.2.2).
          offset = this.sequence(valueOffset, end, vr === 'UN' ? { implicit: true, littleEndian: true } : syntax, true)
        }
        continue
      }
      this.need(valueOffset, length, end, `element ${formatTag(tag)}`)
      if (vr === 'SQ') this.sequence(valueOffset, valueOffset + length, syntax, false)
      offset = valueOffset + length
    }
    if (inItem) throw new DicomReadError('DICOM file is truncated: an item has no delimiter')
    return offset
  }

  /** Items of a sequence up to its end (defined length) or its delimiter (undefined length). */
  private sequence (offset: number, end: number, syntax: Syntax, delimited: boolean): number {
    while (offset < end) {
      const { tag, valueOffset, length } = this.header(offset, end, { ...syntax, implicit: true })
      if (tag === SEQUENCE_DELIMITATION) return valueOffset
      if (tag !== ITEM) throw new DicomReadError(`expected a sequence item at byte ${offset}, found ${formatTag(tag)}`)
      if (length === UNDEFINED_LENGTH) {
        offset = this.dataset(valueOffset, end, syntax, true)
      } else {
        this.need(valueOffset, length, end, 'sequence item')
        this.dataset(valueOffset, valueOffset + length, syntax, false)
        offset = valueOffset + length
      }
    }
    if (delimited) throw new DicomReadError('DICOM file is truncated: a sequence has no delimiter')
    return offset
  }

  /** Fragments of encapsulated pixel data, up to the sequence delimiter. */
  private fragments (offset: number, end: number, syntax: Syntax): number {
    for (;;) {
      const { tag, valueOffset, length } = this.header(offset, end, { ...syntax, implicit: true })
      if (tag === SEQUENCE_DELIMITATION) return valueOffset
      if (tag !== ITEM || length === UNDEFINED_LENGTH) throw new DicomReadError(`malformed pixel data fragment at byte ${offset}`)
      this.need(valueOffset, length, end, 'pixel data fragment')
      offset = valueOffset + length
    }
  }
}

/**
 * Checks that bytes are a DICOM Part 10 file whose every element fits inside it, and returns its
 * transfer syntax. Throws DicomReadError otherwise. Deflated datasets are not walked (dcmjs inflates
 * them and fails on its own when they are cut).
 */
export function checkPart10Structure (bytes: Uint8Array): Part10Layout {
  if (bytes.length < PREAMBLE_LENGTH + 4) {
    throw new DicomReadError(`not a DICOM file: ${bytes.length} bytes is shorter than the 132-byte preamble and 'DICM' marker`)
  }
  const marker = String.fromCharCode(...bytes.subarray(PREAMBLE_LENGTH, PREAMBLE_LENGTH + 4))
  if (marker !== 'DICM') throw new DicomReadError("not a DICOM Part 10 file: no 'DICM' marker at byte 128")
  const walker = new Walker(bytes)
  const layout = walker.meta()
  const ts = layout.transferSyntaxUid
  if (ts !== DEFLATED_EXPLICIT_VR_LITTLE_ENDIAN) {
    walker.dataset(layout.datasetOffset, bytes.length, { implicit: ts === IMPLICIT_VR_LITTLE_ENDIAN, littleEndian: ts !== EXPLICIT_VR_BIG_ENDIAN }, false)
  }
  return layout
}
