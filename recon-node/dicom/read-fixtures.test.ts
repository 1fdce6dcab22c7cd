// protocol/dicom's reader against DICOM files that other projects wrote (pydicom's test files). The
// reader itself is isomorphic; this test lives here because reading the fixtures needs node:fs.

import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { DEBIAN_PYTHON, fixture, hasFixtures, hasPythonModules } from '../../test/support/external-tools.ts'
import { DicomReadError } from '../../protocol/dicom/errors.ts'
import { readDicom } from '../../protocol/dicom/read.ts'
import { listTags } from '../../protocol/dicom/tags.ts'

const SMALL = [
  ['MR_small.dcm', '1.2.840.10008.1.2.1'],
  ['MR_small_implicit.dcm', '1.2.840.10008.1.2'],
  ['MR_small_bigendian.dcm', '1.2.840.10008.1.2.2']
] as const

describe.skipIf(!hasFixtures())('readDicom on pydicom test files', () => {
  const read = (name: string): Uint8Array => readFileSync(fixture('dicom', name))

  it.each(SMALL)('reads %s (transfer syntax %s)', (name, ts) => {
    const image = readDicom(read(name))
    expect(image.transferSyntaxUid).toBe(ts)
    expect(image).toMatchObject({ rows: 64, columns: 64, frames: 1, bitsAllocated: 16, bitsStored: 16, pixelRepresentation: 1, windowCenter: 600, windowWidth: 1600, pixelSpacing: [0.3125, 0.3125] })
    expect(image.pixels).toBeInstanceOf(Int16Array)
    expect(image.dataset.SmallestImagePixelValue).toBe(0)
    expect(image.dataset.LargestImagePixelValue).toBe(4000)
  })

  it('gives identical pixels for the three transfer syntaxes of MR_small', () => {
    const [explicit, implicit, bigEndian] = SMALL.map(([name]) => Array.from(readDicom(read(name)).pixels))
    expect(implicit).toEqual(explicit)
    expect(bigEndian).toEqual(explicit)
    // Values from pydicom: MR_small.pixel_array min, max and sum.
    expect([Math.min(...explicit), Math.max(...explicit), explicit.reduce((a, b) => a + b, 0)]).toEqual([127, 2145, 2125338])
  })

  it.skipIf(!hasPythonModules('pydicom', 'numpy'))('agrees with pydicom on the pixels of MR_small', () => {
    const result = spawnSync(DEBIAN_PYTHON, ['-c', 'import sys, json, pydicom; print(json.dumps(pydicom.dcmread(sys.argv[1]).pixel_array.ravel().tolist()))', fixture('dicom', 'MR_small_bigendian.dcm')], { encoding: 'utf8', maxBuffer: 16 << 20 })
    expect(result.status, result.stderr).toBe(0)
    expect(Array.from(readDicom(read('MR_small.dcm')).pixels)).toEqual(JSON.parse(result.stdout))
  })

  it('fails clearly on MR_truncated.dcm', () => {
    expect(() => readDicom(read('MR_truncated.dcm'))).toThrow(DicomReadError)
    expect(() => readDicom(read('MR_truncated.dcm'))).toThrow(/truncated: element \(7FE0,0010\) .* needs 8192 bytes, 8130 remain/)
  })

  it('lists the tags of MR_small for the tag browser', () => {
    const rows = listTags(readDicom(read('MR_small_implicit.dcm')).dataset)
    expect(rows.find((r) => r.keyword === 'PatientName')).toEqual({ tag: '(0010,0010)', vr: 'PN', keyword: 'PatientName', value: 'CompressedSamples^MR1' })
    expect(rows.find((r) => r.keyword === 'ImagePositionPatient')?.value).toBe('-83.9063\\-91.2\\6.6406')
    // Implicit VR: resolved from PixelRepresentation, not dcmjs's US guess.
    expect(rows.find((r) => r.keyword === 'LargestImagePixelValue')?.vr).toBe('SS')
    expect(rows.at(-1)?.keyword).toBe('PixelData')
  })
})
