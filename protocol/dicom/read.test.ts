import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { DicomReadError, DicomUnsupportedError } from './errors.ts'
import { parseDicom, readDicom } from './read.ts'
import { EXPLICIT_VR_BIG_ENDIAN, EXPLICIT_VR_LITTLE_ENDIAN, IMPLICIT_VR_LITTLE_ENDIAN } from './structure.ts'
import { buildTestFile } from './test-helpers.ts'

const SYNTAXES = [EXPLICIT_VR_LITTLE_ENDIAN, IMPLICIT_VR_LITTLE_ENDIAN, EXPLICIT_VR_BIG_ENDIAN]

function ramp (count: number): Uint16Array {
  // Values with distinct high and low bytes, so a missed byte swap cannot go unnoticed.
  return Uint16Array.from({ length: count }, (_, i) => (i * 257 + 3) % 4096)
}

describe('readDicom', () => {
  it.each(SYNTAXES)('decodes unsigned 16-bit pixels in transfer syntax %s', (ts) => {
    const pixels = ramp(6 * 4)
    const image = readDicom(buildTestFile(ts, { rows: 4, columns: 6, pixels, bitsStored: 12 }))
    expect(image.transferSyntaxUid).toBe(ts)
    expect(image.pixels).toBeInstanceOf(Uint16Array)
    expect(Array.from(image.pixels)).toEqual(Array.from(pixels))
    expect(image).toMatchObject({
      rows: 4,
      columns: 6,
      frames: 1,
      bitsAllocated: 16,
      bitsStored: 12,
      pixelRepresentation: 0,
      photometricInterpretation: 'MONOCHROME2',
      rescaleSlope: 1,
      rescaleIntercept: 0,
      windowCenter: 100,
      windowWidth: 300,
      pixelSpacing: [0.5, 0.75],
      imagePositionPatient: [-10, 20.5, 3],
      imageOrientationPatient: [1, 0, 0, 0, 1, 0]
    })
    expect(image.meta.TransferSyntaxUID).toBe(ts)
    expect(image.dataset.Modality).toBe('MR')
  })

  it.each(SYNTAXES)('decodes signed pixels and keeps UTF-8 names in transfer syntax %s', (ts) => {
    const pixels = Int16Array.from([-32768, -1, 0, 1, 32767, -1234])
    const image = readDicom(buildTestFile(ts, { rows: 2, columns: 3, pixels }))
    expect(image.pixels).toBeInstanceOf(Int16Array)
    expect(Array.from(image.pixels)).toEqual(Array.from(pixels))
    const name = image.dataset.PatientName as Array<{ Alphabetic: string }>
    expect(name[0].Alphabetic).toBe('Müller^Zoë')
  })

  it.each(SYNTAXES)('decodes 8-bit pixels stored as OW in transfer syntax %s', (ts) => {
    const bytes = Uint8Array.from([1, 2, 3, 4, 5, 200])
    const image = readDicom(buildTestFile(ts, { rows: 2, columns: 3, pixels: new Uint16Array(bytes.buffer), extra: { BitsAllocated: 8, BitsStored: 8, HighBit: 7 } }))
    expect(image.bitsAllocated).toBe(8)
    expect(Array.from(image.pixels)).toEqual([1, 2, 3, 4, 5, 200])
  })

  it('sign-extends signed values stored in fewer than 16 bits and ignores the bits above them', () => {
    // 12 bits stored: 0x0FFF is -1, 0x0800 is -2048; the 0xF000 bits are not pixel data.
    const raw = Uint16Array.from([0x0fff, 0x0800, 0x07ff, 0xf001])
    const file = buildTestFile(EXPLICIT_VR_LITTLE_ENDIAN, { rows: 2, columns: 2, pixels: new Int16Array(raw.buffer), bitsStored: 12 })
    expect(Array.from(readDicom(file).pixels)).toEqual([-1, -2048, 2047, 1])
  })

  it('reads rescale, multi-valued windows and multi-frame images', () => {
    const pixels = ramp(2 * 2 * 3)
    const image = readDicom(buildTestFile(EXPLICIT_VR_LITTLE_ENDIAN, {
      rows: 2,
      columns: 2,
      pixels,
      extra: { NumberOfFrames: '3', RescaleSlope: '2.5', RescaleIntercept: '-10', WindowCenter: ['40', '400'], WindowWidth: ['80', '2000'] }
    }))
    expect(image.frames).toBe(3)
    expect(image.pixels.length).toBe(12)
    expect([image.rescaleSlope, image.rescaleIntercept, image.windowCenter, image.windowWidth]).toEqual([2.5, -10, 40, 80])
  })

  it('accepts a Uint8Array view into a larger buffer', () => {
    const file = buildTestFile(EXPLICIT_VR_LITTLE_ENDIAN, { rows: 1, columns: 2, pixels: Uint16Array.from([7, 9]) })
    const padded = new Uint8Array(file.length + 10)
    padded.set(file, 5)
    expect(Array.from(readDicom(padded.subarray(5, 5 + file.length)).pixels)).toEqual([7, 9])
  })

  it.each(SYNTAXES)('fails with DicomReadError on every truncation of a file in %s', (ts) => {
    const file = buildTestFile(ts, {
      rows: 2,
      columns: 2,
      pixels: ramp(4),
      extra: { ReferencedImageSequence: [{ ReferencedSOPClassUID: '1.2.840.10008.5.1.4.1.1.4', ReferencedSOPInstanceUID: '2.25.7' }] }
    })
    expect(() => readDicom(file)).not.toThrow()
    for (let length = 0; length < file.length; length++) {
      expect(() => readDicom(file.subarray(0, length)), `cut at ${length} of ${file.length}`).toThrow(DicomReadError)
    }
  })

  it('says clearly what is wrong with non-DICOM input', () => {
    expect(() => readDicom(new Uint8Array(0))).toThrow(/not a DICOM file/)
    expect(() => readDicom(new TextEncoder().encode('<html>' + ' '.repeat(200)))).toThrow(/no 'DICM' marker/)
    const noPixels = buildTestFile(EXPLICIT_VR_LITTLE_ENDIAN, { rows: 1, columns: 1, pixels: Uint16Array.from([1]), extra: { PixelData: undefined } })
    expect(() => readDicom(noPixels)).toThrow(/no pixel data/)
    expect(parseDicom(noPixels).dataset.Rows).toBe(1)
  })

  it('rejects pixel data shorter than Rows × Columns', () => {
    const file = buildTestFile(EXPLICIT_VR_LITTLE_ENDIAN, { rows: 4, columns: 4, pixels: ramp(8) })
    expect(() => readDicom(file)).toThrow(/pixel data has 16 bytes, 32 expected/)
  })

  it('rejects compressed transfer syntaxes and colour images with DicomUnsupportedError', () => {
    const jpeg = buildTestFile('1.2.840.10008.1.2.4.50', { rows: 1, columns: 1, pixels: Uint16Array.from([1]) })
    expect(() => readDicom(jpeg)).toThrow(DicomUnsupportedError)
    expect(() => readDicom(jpeg)).toThrow(/1\.2\.840\.10008\.1\.2\.4\.50 \(compressed\) is not supported/)
    // The tags of such a file can still be browsed.
    expect(parseDicom(jpeg).dataset.Modality).toBe('MR')
    const rgb = buildTestFile(EXPLICIT_VR_LITTLE_ENDIAN, { rows: 1, columns: 1, pixels: Uint16Array.from([1]), extra: { SamplesPerPixel: 3, PhotometricInterpretation: 'RGB' } })
    expect(() => readDicom(rgb)).toThrow(DicomUnsupportedError)
    expect(() => readDicom(rgb)).toThrow(/grayscale/)
  })

  it('throws only DicomReadError, or succeeds, whatever single bytes are corrupted', () => {
    const file = buildTestFile(IMPLICIT_VR_LITTLE_ENDIAN, { rows: 3, columns: 3, pixels: ramp(9) })
    fc.assert(fc.property(
      fc.array(fc.record({ at: fc.nat({ max: file.length - 1 }), value: fc.integer({ min: 0, max: 255 }) }), { minLength: 1, maxLength: 4 }),
      (edits) => {
        const bytes = file.slice()
        for (const { at, value } of edits) bytes[at] = value
        try {
          readDicom(bytes)
        } catch (err) {
          expect(err).toBeInstanceOf(DicomReadError)
        }
      }
    ), { numRuns: 500 })
  })
})
