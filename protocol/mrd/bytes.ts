// Little-endian reading and writing of the fixed-width fields and sample arrays of MRD v1. The wire is
// little-endian in practice (libismrmrd and Gadgetron send their structs as they lie in memory, on
// little-endian hosts); on a little-endian host the sample arrays are copied as bytes, elsewhere they
// go through a DataView.
import { MrdProtocolError } from './errors.ts'

const HOST_IS_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1

/** The typed arrays the MRD payloads are made of. */
export type MrdTypedArray = Uint16Array | Int16Array | Uint32Array | Int32Array | Float32Array | Float64Array

/** The constructor of one of the MRD typed arrays. */
export interface MrdTypedArrayConstructor<T extends MrdTypedArray = MrdTypedArray> {
  new (length: number): T
  new (buffer: ArrayBuffer, byteOffset?: number, length?: number): T
  readonly BYTES_PER_ELEMENT: number
}

const GETTERS = new Map<unknown, (view: DataView, offset: number) => number>([
  [Uint16Array, (v, o) => v.getUint16(o, true)],
  [Int16Array, (v, o) => v.getInt16(o, true)],
  [Uint32Array, (v, o) => v.getUint32(o, true)],
  [Int32Array, (v, o) => v.getInt32(o, true)],
  [Float32Array, (v, o) => v.getFloat32(o, true)],
  [Float64Array, (v, o) => v.getFloat64(o, true)]
])

const SETTERS = new Map<unknown, (view: DataView, offset: number, value: number) => void>([
  [Uint16Array, (v, o, x) => v.setUint16(o, x, true)],
  [Int16Array, (v, o, x) => v.setInt16(o, x, true)],
  [Uint32Array, (v, o, x) => v.setUint32(o, x, true)],
  [Int32Array, (v, o, x) => v.setInt32(o, x, true)],
  [Float32Array, (v, o, x) => v.setFloat32(o, x, true)],
  [Float64Array, (v, o, x) => v.setFloat64(o, x, true)]
])

/** A DataView over exactly the bytes of a Uint8Array (which may be a window into a larger buffer). */
export function viewOf (bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
}

/**
 * Copies `count` little-endian elements starting at `offset` into a new, aligned typed array. The
 * caller has checked that the bytes are there; the copy keeps the result independent of the chunk
 * buffers it came from, so a decoder can drop them.
 */
export function readTypedArray<T extends MrdTypedArray> (type: MrdTypedArrayConstructor<T>, bytes: Uint8Array, offset: number, count: number): T {
  const size = type.BYTES_PER_ELEMENT
  const out = new type(count)
  if (HOST_IS_LITTLE_ENDIAN) {
    new Uint8Array(out.buffer, out.byteOffset, count * size).set(bytes.subarray(offset, offset + count * size))
    return out
  }
  const view = viewOf(bytes)
  const get = GETTERS.get(type) as (view: DataView, offset: number) => number
  for (let i = 0; i < count; i++) out[i] = get(view, offset + i * size)
  return out
}

/**
 * Fills `target` with the bytes of a list of chunks from `offset` (counted from the first chunk's start)
 * without joining the chunks first. Throws RangeError when the chunks hold too few bytes.
 */
export function copyAcross (chunks: readonly Uint8Array[], offset: number, target: Uint8Array): void {
  let filled = 0
  for (const chunk of chunks) {
    if (filled === target.length) break
    if (offset >= chunk.length) {
      offset -= chunk.length
      continue
    }
    const take = Math.min(chunk.length - offset, target.length - filled)
    target.set(chunk.subarray(offset, offset + take), filled)
    filled += take
    offset = 0
  }
  if (filled !== target.length) throw new RangeError(`${target.length} bytes asked, ${filled} held`)
}

/**
 * readTypedArray over bytes held as a list of chunks: the elements are copied straight out of the
 * chunks, so a message that spans network chunks is not first joined into one buffer (a copy of every
 * readout, dead at once).
 */
export function readTypedArrayAcross<T extends MrdTypedArray> (type: MrdTypedArrayConstructor<T>, chunks: readonly Uint8Array[], offset: number, count: number): T {
  const out = new type(count)
  const target = new Uint8Array(out.buffer, out.byteOffset, count * type.BYTES_PER_ELEMENT)
  copyAcross(chunks, offset, target)
  // the bytes are little-endian; a big-endian host reads them element by element
  return HOST_IS_LITTLE_ENDIAN ? out : readTypedArray(type, target, 0, count)
}

/** Writes the elements of a typed array little-endian at `offset`. */
export function writeTypedArray (target: Uint8Array, offset: number, array: MrdTypedArray): void {
  if (HOST_IS_LITTLE_ENDIAN) {
    target.set(new Uint8Array(array.buffer, array.byteOffset, array.byteLength), offset)
    return
  }
  const view = viewOf(target)
  const set = SETTERS.get(array.constructor) as (view: DataView, offset: number, value: number) => void
  const size = array.BYTES_PER_ELEMENT
  for (let i = 0; i < array.length; i++) set(view, offset + i * size, array[i])
}

const UTF8_ENCODER = new TextEncoder()
// Not fatal: a header with a stray Latin-1 byte is still worth reading, with a replacement character.
const UTF8_DECODER = new TextDecoder('utf-8', { fatal: false, ignoreBOM: true })

export function utf8Encode (text: string): Uint8Array {
  return UTF8_ENCODER.encode(text)
}

export function utf8Decode (bytes: Uint8Array): string {
  return UTF8_DECODER.decode(bytes)
}

/** Checks that a value fits an unsigned integer field of `bits` bits before it is written. */
export function checkUint (field: string, value: number, bits: 8 | 16 | 32): number {
  if (!Number.isInteger(value) || value < 0 || value > 2 ** bits - 1) {
    throw new MrdProtocolError(`cannot encode ${field} = ${String(value)}: not a u${bits}`)
  }
  return value
}

/** Checks that a value fits a signed 32-bit field. */
export function checkInt32 (field: string, value: number): number {
  if (!Number.isInteger(value) || value < -(2 ** 31) || value > 2 ** 31 - 1) {
    throw new MrdProtocolError(`cannot encode ${field} = ${String(value)}: not an i32`)
  }
  return value
}

/** Checks that a bigint fits an unsigned 64-bit field. */
export function checkUint64 (field: string, value: bigint): bigint {
  if (typeof value !== 'bigint' || value < 0n || value > 0xffffffffffffffffn) {
    throw new MrdProtocolError(`cannot encode ${field} = ${String(value)}: not a u64 bigint`)
  }
  return value
}

/** Checks the length of a fixed-size array field (ismrmrd.h sizes them: 3 stamps, 8 user ints, ...). */
export function checkLength<T> (field: string, values: ArrayLike<T>, length: number): ArrayLike<T> {
  if (values === undefined || values === null || values.length !== length) {
    throw new MrdProtocolError(`cannot encode ${field}: expected ${length} values, got ${values?.length ?? 'none'}`)
  }
  return values
}
