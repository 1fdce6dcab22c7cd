// Little-endian writing and reading of payloads. A writer grows as it is written; a reader throws
// SerialProtocolError when a payload ends early, so that no message is read from bytes it does not have.
import { MAX_STRING_BYTES } from './constants.ts'
import { SerialProtocolError } from './errors.ts'

const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1
const utf8Encoder = new TextEncoder()
const utf8Decoder = new TextDecoder('utf-8', { fatal: true })

/** Bytes written in order; `bytes()` returns what was written. */
export class ByteWriter {
  private buffer: Uint8Array
  private view: DataView
  private length = 0

  constructor (capacity = 64) {
    this.buffer = new Uint8Array(capacity)
    this.view = new DataView(this.buffer.buffer)
  }

  private reserve (n: number): number {
    const at = this.length
    if (at + n > this.buffer.length) {
      const grown = new Uint8Array(Math.max(at + n, 2 * this.buffer.length))
      grown.set(this.buffer.subarray(0, at))
      this.buffer = grown
      this.view = new DataView(grown.buffer)
    }
    this.length = at + n
    return at
  }

  // `reserve` may replace the buffer, so it runs before the buffer or its view is looked up.
  u8 (value: number): void {
    const at = this.reserve(1)
    this.view.setUint8(at, value)
  }

  u16 (value: number): void {
    const at = this.reserve(2)
    this.view.setUint16(at, value, true)
  }

  u32 (value: number): void {
    const at = this.reserve(4)
    this.view.setUint32(at, value, true)
  }

  f64 (value: number): void {
    const at = this.reserve(8)
    this.view.setFloat64(at, value, true)
  }

  raw (bytes: Uint8Array): void {
    const at = this.reserve(bytes.length)
    this.buffer.set(bytes, at)
  }

  /** u16(byte length) • UTF-8 */
  str (text: string): void {
    const bytes = utf8Encoder.encode(text)
    if (bytes.length > MAX_STRING_BYTES) throw new SerialProtocolError(`text of ${bytes.length} bytes exceeds ${MAX_STRING_BYTES}`)
    this.u16(bytes.length)
    this.raw(bytes)
  }

  f32s (values: Float32Array): void {
    const at = this.reserve(4 * values.length)
    if (LITTLE_ENDIAN_HOST) this.buffer.set(new Uint8Array(values.buffer, values.byteOffset, values.byteLength), at)
    else for (let i = 0; i < values.length; i++) this.view.setFloat32(at + 4 * i, values[i], true)
  }

  f64s (values: Float64Array): void {
    const at = this.reserve(8 * values.length)
    if (LITTLE_ENDIAN_HOST) this.buffer.set(new Uint8Array(values.buffer, values.byteOffset, values.byteLength), at)
    else for (let i = 0; i < values.length; i++) this.view.setFloat64(at + 8 * i, values[i], true)
  }

  bytes (): Uint8Array {
    return this.buffer.subarray(0, this.length)
  }
}

/** Reads a payload front to back; `what` names the message in errors. */
export class ByteReader {
  private readonly bytes: Uint8Array
  private readonly view: DataView
  private readonly what: string
  private offset = 0

  constructor (bytes: Uint8Array, what: string) {
    this.bytes = bytes
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
    this.what = what
  }

  get remaining (): number {
    return this.bytes.length - this.offset
  }

  private take (n: number): number {
    if (n > this.remaining) throw new SerialProtocolError(`${this.what}: payload of ${this.bytes.length} bytes ends early (needs ${n} more at byte ${this.offset})`)
    const at = this.offset
    this.offset += n
    return at
  }

  u8 (): number { return this.view.getUint8(this.take(1)) }
  u16 (): number { return this.view.getUint16(this.take(2), true) }
  u32 (): number { return this.view.getUint32(this.take(4), true) }
  f64 (): number { return this.view.getFloat64(this.take(8), true) }

  raw (n: number): Uint8Array {
    const at = this.take(n)
    return this.bytes.slice(at, at + n)
  }

  str (): string {
    const n = this.u16()
    if (n > MAX_STRING_BYTES) throw new SerialProtocolError(`${this.what}: text of ${n} bytes exceeds ${MAX_STRING_BYTES}`)
    try {
      return utf8Decoder.decode(this.raw(n))
    } catch {
      throw new SerialProtocolError(`${this.what}: text is not UTF-8`)
    }
  }

  f32s (count: number): Float32Array {
    const at = this.take(4 * count)
    if (LITTLE_ENDIAN_HOST) return new Float32Array(this.bytes.slice(at, at + 4 * count).buffer)
    const out = new Float32Array(count)
    for (let i = 0; i < count; i++) out[i] = this.view.getFloat32(at + 4 * i, true)
    return out
  }

  f64s (count: number): Float64Array {
    const at = this.take(8 * count)
    if (LITTLE_ENDIAN_HOST) return new Float64Array(this.bytes.slice(at, at + 8 * count).buffer)
    const out = new Float64Array(count)
    for (let i = 0; i < count; i++) out[i] = this.view.getFloat64(at + 8 * i, true)
    return out
  }

  /** Throws unless every byte was read: a payload longer than its message is as wrong as a short one. */
  end (): void {
    if (this.remaining !== 0) throw new SerialProtocolError(`${this.what}: ${this.remaining} bytes after the end of the message`)
  }
}
