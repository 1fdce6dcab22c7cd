// Small DICOM files built in memory for the tests of this folder, which must not touch the file system
// (protocol/ is isomorphic). dcmjs writes the structure in any native transfer syntax but copies OW
// bytes as given, so big-endian pixels are swapped here.

import { data } from 'dcmjs'
import type { DenaturalizedDataset, NaturalDataset } from 'dcmjs'
import { EXPLICIT_VR_BIG_ENDIAN } from './structure.ts'

const { DicomDict, DicomMetaDictionary } = data

export interface TestImage {
  rows: number
  columns: number
  pixels: Uint16Array | Int16Array
  bitsStored?: number
  /** Extra or overriding elements. */
  extra?: NaturalDataset
  /** Elements keyed by hex tag, for those dcmjs cannot denaturalize (private tags). */
  raw?: DenaturalizedDataset
}

/** A Part 10 file holding a small MR image in the given transfer syntax. */
export function buildTestFile (transferSyntaxUid: string, image: TestImage): Uint8Array {
  const signed = image.pixels instanceof Int16Array
  const bytes = new Uint8Array(image.pixels.buffer.slice(0))
  if (transferSyntaxUid === EXPLICIT_VR_BIG_ENDIAN) {
    for (let i = 0; i < bytes.length; i += 2) bytes.subarray(i, i + 2).reverse()
  }
  const bitsStored = image.bitsStored ?? 16
  const meta = DicomMetaDictionary.denaturalizeDataset({
    FileMetaInformationVersion: new Uint8Array([0, 1]).buffer,
    MediaStorageSOPClassUID: '1.2.840.10008.5.1.4.1.1.4',
    MediaStorageSOPInstanceUID: '2.25.1',
    TransferSyntaxUID: transferSyntaxUid
  })
  const file = new DicomDict(meta)
  file.dict = DicomMetaDictionary.denaturalizeDataset({
    SpecificCharacterSet: 'ISO_IR 192',
    SOPClassUID: '1.2.840.10008.5.1.4.1.1.4',
    SOPInstanceUID: '2.25.1',
    Modality: 'MR',
    PatientName: 'Müller^Zoë',
    Rows: image.rows,
    Columns: image.columns,
    SamplesPerPixel: 1,
    PhotometricInterpretation: 'MONOCHROME2',
    BitsAllocated: 16,
    BitsStored: bitsStored,
    HighBit: bitsStored - 1,
    PixelRepresentation: signed ? 1 : 0,
    WindowCenter: '100',
    WindowWidth: '300',
    PixelSpacing: ['0.5', '0.75'],
    ImagePositionPatient: ['-10', '20.5', '3'],
    ImageOrientationPatient: ['1', '0', '0', '0', '1', '0'],
    PixelData: [bytes.buffer],
    ...image.extra,
    _vrMap: { PixelData: 'OW', ...image.extra?._vrMap }
  })
  Object.assign(file.dict, image.raw)
  return new Uint8Array(file.write())
}
