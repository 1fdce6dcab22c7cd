// ISMRMRD_ImageHeader: 198 bytes, packed with 2-byte alignment (ismrmrd/ismrmrd
// include/ismrmrd/ismrmrd.h), little-endian: the head of an MRD v1 image message.
import type { ImageHeader } from './types.ts'
import { MrdProtocolError } from './errors.ts'
import { checkInt32, checkLength, checkUint, checkUint64, viewOf } from './bytes.ts'
import { ISMRMRD_VERSION } from './acquisition-header.ts'

export const IMAGE_HEADER_SIZE = 198

/** Byte offset of every field inside the 198-byte header. */
export const ImageHeaderOffset = {
  version: 0,
  dataType: 2,
  flags: 4,
  measurementUid: 12,
  matrixSize: 16,
  fieldOfView: 22,
  channels: 34,
  position: 36,
  readDir: 48,
  phaseDir: 60,
  sliceDir: 72,
  patientTablePosition: 84,
  average: 96,
  slice: 98,
  contrast: 100,
  phase: 102,
  repetition: 104,
  set: 106,
  acquisitionTimeStamp: 108,
  physiologyTimeStamp: 112,
  imageType: 124,
  imageIndex: 126,
  imageSeriesIndex: 128,
  userInt: 130,
  userFloat: 162,
  attributeStringLen: 194
} as const

/** ISMRMRD_DataTypes: the pixel type of an image. */
export const ImageDataType = {
  USHORT: 1,
  SHORT: 2,
  UINT: 3,
  INT: 4,
  FLOAT: 5,
  DOUBLE: 6,
  CXFLOAT: 7,
  CXDOUBLE: 8
} as const

/** ISMRMRD_ImageTypes. */
export const ImageType = {
  MAGNITUDE: 1,
  PHASE: 2,
  REAL: 3,
  IMAG: 4,
  COMPLEX: 5
} as const

const BYTES_PER_PIXEL: Record<number, number> = { 1: 2, 2: 2, 3: 4, 4: 4, 5: 4, 6: 8, 7: 8, 8: 16 }

/** Bytes of one pixel of a data type; undefined for a type ISMRMRD does not define. */
export function bytesPerPixel (dataType: number): number | undefined {
  return BYTES_PER_PIXEL[dataType]
}

const U16_FIELDS = ['average', 'slice', 'contrast', 'phase', 'repetition', 'set', 'imageType', 'imageIndex', 'imageSeriesIndex'] as const

/**
 * A header as `ismrmrd_init_image_header` makes it: all zero, version 1, one channel. Its data type is
 * 0 (none) until the caller picks one.
 */
export function emptyImageHeader (): ImageHeader {
  return {
    version: ISMRMRD_VERSION,
    dataType: 0,
    flags: 0n,
    measurementUid: 0,
    matrixSize: [0, 0, 0],
    fieldOfView: [0, 0, 0],
    channels: 1,
    position: [0, 0, 0],
    readDir: [0, 0, 0],
    phaseDir: [0, 0, 0],
    sliceDir: [0, 0, 0],
    patientTablePosition: [0, 0, 0],
    average: 0,
    slice: 0,
    contrast: 0,
    phase: 0,
    repetition: 0,
    set: 0,
    acquisitionTimeStamp: 0,
    physiologyTimeStamp: [0, 0, 0],
    imageType: 0,
    imageIndex: 0,
    imageSeriesIndex: 0,
    userInt: new Array(8).fill(0),
    userFloat: new Array(8).fill(0),
    attributeStringLen: 0
  }
}

/** Writes the header at `offset` of `view` (198 bytes). Throws MrdProtocolError for values that do not fit. */
export function writeImageHeader (view: DataView, offset: number, head: ImageHeader): void {
  const O = ImageHeaderOffset
  const f32s = (field: keyof typeof O, values: ArrayLike<number>, n: number): void => {
    checkLength(field, values, n)
    for (let i = 0; i < n; i++) view.setFloat32(offset + O[field] + 4 * i, values[i], true)
  }
  view.setUint16(offset + O.version, checkUint('version', head.version, 16), true)
  view.setUint16(offset + O.dataType, checkUint('dataType', head.dataType, 16), true)
  view.setBigUint64(offset + O.flags, checkUint64('flags', head.flags), true)
  view.setUint32(offset + O.measurementUid, checkUint('measurementUid', head.measurementUid, 32), true)
  checkLength('matrixSize', head.matrixSize, 3)
  for (let i = 0; i < 3; i++) view.setUint16(offset + O.matrixSize + 2 * i, checkUint(`matrixSize[${i}]`, head.matrixSize[i], 16), true)
  f32s('fieldOfView', head.fieldOfView, 3)
  view.setUint16(offset + O.channels, checkUint('channels', head.channels, 16), true)
  f32s('position', head.position, 3)
  f32s('readDir', head.readDir, 3)
  f32s('phaseDir', head.phaseDir, 3)
  f32s('sliceDir', head.sliceDir, 3)
  f32s('patientTablePosition', head.patientTablePosition, 3)
  for (const field of U16_FIELDS) view.setUint16(offset + O[field], checkUint(field, head[field], 16), true)
  view.setUint32(offset + O.acquisitionTimeStamp, checkUint('acquisitionTimeStamp', head.acquisitionTimeStamp, 32), true)
  checkLength('physiologyTimeStamp', head.physiologyTimeStamp, 3)
  for (let i = 0; i < 3; i++) {
    view.setUint32(offset + O.physiologyTimeStamp + 4 * i, checkUint(`physiologyTimeStamp[${i}]`, head.physiologyTimeStamp[i], 32), true)
  }
  checkLength('userInt', head.userInt, 8)
  for (let i = 0; i < 8; i++) view.setInt32(offset + O.userInt + 4 * i, checkInt32(`userInt[${i}]`, head.userInt[i]), true)
  f32s('userFloat', head.userFloat, 8)
  view.setUint32(offset + O.attributeStringLen, checkUint('attributeStringLen', head.attributeStringLen, 32), true)
}

/** Reads a header at `offset` of `view`. The caller has checked that 198 bytes are there. */
export function readImageHeader (view: DataView, offset: number): ImageHeader {
  const O = ImageHeaderOffset
  const u16 = (at: number): number => view.getUint16(offset + at, true)
  const f32s = (at: number, n: number): number[] => Array.from({ length: n }, (_, i) => view.getFloat32(offset + at + 4 * i, true))
  const vec3 = (field: keyof typeof O): [number, number, number] => f32s(O[field], 3) as [number, number, number]
  return {
    version: u16(O.version),
    dataType: u16(O.dataType),
    flags: view.getBigUint64(offset + O.flags, true),
    measurementUid: view.getUint32(offset + O.measurementUid, true),
    matrixSize: [u16(O.matrixSize), u16(O.matrixSize + 2), u16(O.matrixSize + 4)],
    fieldOfView: vec3('fieldOfView'),
    channels: u16(O.channels),
    position: vec3('position'),
    readDir: vec3('readDir'),
    phaseDir: vec3('phaseDir'),
    sliceDir: vec3('sliceDir'),
    patientTablePosition: vec3('patientTablePosition'),
    average: u16(O.average),
    slice: u16(O.slice),
    contrast: u16(O.contrast),
    phase: u16(O.phase),
    repetition: u16(O.repetition),
    set: u16(O.set),
    acquisitionTimeStamp: view.getUint32(offset + O.acquisitionTimeStamp, true),
    physiologyTimeStamp: Array.from({ length: 3 }, (_, i) => view.getUint32(offset + O.physiologyTimeStamp + 4 * i, true)),
    imageType: u16(O.imageType),
    imageIndex: u16(O.imageIndex),
    imageSeriesIndex: u16(O.imageSeriesIndex),
    userInt: Array.from({ length: 8 }, (_, i) => view.getInt32(offset + O.userInt + 4 * i, true)),
    userFloat: f32s(O.userFloat, 8),
    attributeStringLen: view.getUint32(offset + O.attributeStringLen, true)
  }
}

/** The 198 bytes of a header. */
export function encodeImageHeader (head: ImageHeader): Uint8Array {
  const bytes = new Uint8Array(IMAGE_HEADER_SIZE)
  writeImageHeader(viewOf(bytes), 0, head)
  return bytes
}

/** Reads a header from the first 198 bytes at `offset`; MrdProtocolError when they are not all there. */
export function decodeImageHeader (bytes: Uint8Array, offset = 0): ImageHeader {
  if (!Number.isInteger(offset) || offset < 0 || bytes.byteLength - offset < IMAGE_HEADER_SIZE) {
    throw new MrdProtocolError(`an image header needs ${IMAGE_HEADER_SIZE} bytes, only ${Math.max(0, bytes.byteLength - offset)} at offset ${offset}`)
  }
  return readImageHeader(viewOf(bytes), offset)
}
