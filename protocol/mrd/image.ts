// An MRD image: header, attribute XML (ISMRMRD meta attributes) and pixels, x fastest, then y, z and
// channel. Complex pixels are interleaved re/im in a Float32Array or Float64Array.
import type { ImageHeader } from './types.ts'
import type { MrdTypedArray } from './bytes.ts'
import { ImageDataType } from './image-header.ts'

export type MrdImageData = MrdTypedArray

export interface MrdImage {
  head: ImageHeader
  /** Meta attributes as XML text; '' when there are none. */
  attributes: string
  data: MrdImageData
}

type ImageArrayType = typeof Uint16Array | typeof Int16Array | typeof Uint32Array | typeof Int32Array | typeof Float32Array | typeof Float64Array

const ARRAY_TYPES: Record<number, ImageArrayType> = {
  [ImageDataType.USHORT]: Uint16Array,
  [ImageDataType.SHORT]: Int16Array,
  [ImageDataType.UINT]: Uint32Array,
  [ImageDataType.INT]: Int32Array,
  [ImageDataType.FLOAT]: Float32Array,
  [ImageDataType.DOUBLE]: Float64Array,
  [ImageDataType.CXFLOAT]: Float32Array,
  [ImageDataType.CXDOUBLE]: Float64Array
}

/** The typed array that holds pixels of an ISMRMRD data type; undefined for an unknown type. */
export function imageArrayType (dataType: number): ImageArrayType | undefined {
  return ARRAY_TYPES[dataType]
}

/** Whether a data type is complex (two array elements per pixel). */
export function isComplexDataType (dataType: number): boolean {
  return dataType === ImageDataType.CXFLOAT || dataType === ImageDataType.CXDOUBLE
}

/**
 * Number of array elements the header announces: x × y × z × channels, times 2 for complex types.
 * A plain number: beyond 2^53 it is inexact, but far above any limit it is compared with.
 */
export function imageElementCount (head: Pick<ImageHeader, 'matrixSize' | 'channels' | 'dataType'>): number {
  const [x, y, z] = head.matrixSize
  return x * y * z * head.channels * (isComplexDataType(head.dataType) ? 2 : 1)
}
