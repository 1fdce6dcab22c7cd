// Incremental decoder of the MRD v1 stream. Push chunks as they arrive (from a socket, a libp2p
// stream or a file read in pieces); each push returns the messages that became complete. Every
// length read from the wire is checked against a limit before the decoder waits for, or allocates,
// the bytes it announces, so a hostile or corrupt stream costs at most one bounded message of memory.
import type { Acquisition } from './types.ts'
import type { MrdMessage } from './stream.ts'
import { MrdProtocolError } from './errors.ts'
import { copyAcross, readTypedArray, readTypedArrayAcross, utf8Decode, viewOf } from './bytes.ts'
import type { MrdTypedArrayConstructor } from './bytes.ts'
import { ACQUISITION_HEADER_SIZE, AcquisitionHeaderOffset, ISMRMRD_VERSION, readAcquisitionHeader } from './acquisition-header.ts'
import { IMAGE_HEADER_SIZE, ImageHeaderOffset, readImageHeader } from './image-header.ts'
import { imageArrayType, isComplexDataType } from './image.ts'
import { WAVEFORM_HEADER_SIZE, WaveformHeaderOffset, readWaveformHeader } from './waveform.ts'
import { CONFIG_FILE_NAME_SIZE, LENGTH_PREFIX_SIZE, MESSAGE_ID_SIZE, MrdMessageId } from './stream.ts'

const MiB = 1024 * 1024

export interface MrdStreamLimits {
  /** Longest HEADER, TEXT or CONFIG_TEXT payload, in bytes. Default 16 MiB. */
  maxTextBytes?: number
  /** Most trajectory + data bytes of one acquisition. Default 64 MiB (e.g. 64 channels × 65535 samples at 8 bytes is 32 MiB). */
  maxAcquisitionBytes?: number
  /** Most trajectory dimensions (kx, ky, kz). Default 3. */
  maxTrajectoryDimensions?: number
  /** Longest image attribute text, in bytes. Default 16 MiB. */
  maxImageAttributeBytes?: number
  /** Most pixel bytes of one image. Default 256 MiB. */
  maxImageBytes?: number
  /** Most sample bytes of one waveform. Default 16 MiB. */
  maxWaveformBytes?: number
}

export const DEFAULT_MRD_STREAM_LIMITS: Readonly<Required<MrdStreamLimits>> = Object.freeze({
  maxTextBytes: 16 * MiB,
  maxAcquisitionBytes: 64 * MiB,
  maxTrajectoryDimensions: 3,
  maxImageAttributeBytes: 16 * MiB,
  maxImageBytes: 256 * MiB,
  maxWaveformBytes: 16 * MiB
})

export interface MrdStreamDecoderInit extends MrdStreamLimits {
  /**
   * Stream offset of the first byte that will be pushed, when resuming a stored stream from the
   * `offset` a previous decoder reported. Default 0.
   */
  startOffset?: number
}

/** The outcome of looking at the buffered bytes: a complete message, or how many bytes are needed first. */
type Step = { message: MrdMessage, size: number } | { need: number }

const GADGETRON_IDS: Record<number, string> = { 6: 'Gadgetron QUERY', 7: 'Gadgetron RESPONSE', 8: 'Gadgetron ERROR', 1020: 'Gadgetron BUFFER', 1021: 'Gadgetron IMAGE_ARRAY' }

export class MrdStreamDecoder {
  private readonly limits: Required<MrdStreamLimits>
  private chunks: Uint8Array[] = []
  private buffered = 0
  /** Bytes that must be buffered before another attempt at the next message can succeed. */
  private need = MESSAGE_ID_SIZE
  private consumed: number
  private failure: Error | undefined

  constructor (init: MrdStreamDecoderInit = {}) {
    const limits = { ...DEFAULT_MRD_STREAM_LIMITS }
    for (const key of Object.keys(DEFAULT_MRD_STREAM_LIMITS) as (keyof MrdStreamLimits)[]) {
      const value = init[key]
      if (value === undefined) continue
      if (!(Number.isSafeInteger(value) && value >= 0)) throw new RangeError(`MRD stream limit ${key} must be a non-negative integer, not ${value}`)
      limits[key] = value
    }
    this.limits = limits
    const start = init.startOffset ?? 0
    if (!(Number.isSafeInteger(start) && start >= 0)) throw new RangeError(`startOffset must be a non-negative integer, not ${start}`)
    this.consumed = start
  }

  /**
   * Stream offset just past the last complete message returned: where to resume reading a stored
   * stream, or how much of it has been processed.
   */
  get offset (): number {
    return this.consumed
  }

  /** Bytes received that do not yet form a complete message. */
  get bufferedBytes (): number {
    return this.buffered
  }

  /**
   * Decodes what the chunk completes. Throws MrdProtocolError for a bad stream, and every later call
   * throws it too. When complete messages precede the fault in the buffered bytes, they are returned
   * first and the error is thrown by the next push() or finish().
   */
  push (chunk: Uint8Array): MrdMessage[] {
    if (this.failure !== undefined) throw this.failure
    if (!(chunk instanceof Uint8Array)) throw new MrdProtocolError('MRD stream chunks must be Uint8Arrays')
    if (chunk.length > 0) {
      this.chunks.push(chunk)
      this.buffered += chunk.length
    }
    const messages: MrdMessage[] = []
    try {
      while (this.buffered >= this.need) {
        const step = this.step()
        if ('need' in step) {
          // A step asks for more only when it lacks bytes; anything else would loop forever.
          if (step.need <= this.buffered) throw new Error(`MRD decoder asked for ${step.need} bytes with ${this.buffered} buffered`)
          this.need = step.need
          continue
        }
        this.consume(step.size)
        this.consumed += step.size
        this.need = MESSAGE_ID_SIZE
        messages.push(step.message)
      }
    } catch (err) {
      this.failure = err as Error
      // Nothing after a fault can be decoded: let go of the buffered bytes.
      this.chunks = []
      this.buffered = 0
      // The messages before the fault are good: hand them over now and throw on the next call, so
      // that what a caller receives does not depend on how the bytes were chunked.
      if (messages.length === 0) throw err
    }
    return messages
  }

  /** Declares the end of the stream; throws MrdProtocolError when it ends inside a message. */
  finish (): void {
    if (this.failure !== undefined) throw this.failure
    if (this.buffered > 0) {
      const id = this.buffered >= MESSAGE_ID_SIZE ? this.peek(MESSAGE_ID_SIZE) : undefined
      const what = id === undefined ? 'a message id' : `message ${viewOf(id).getUint16(0, true)}`
      this.failure = new MrdProtocolError(`MRD stream truncated at offset ${this.consumed}: ${this.buffered} bytes of ${what} but ${this.need} needed`)
      throw this.failure
    }
  }

  // --- buffering -------------------------------------------------------------------------------

  /** The first n buffered bytes as one contiguous array (n ≤ buffered), merging chunks if needed. */
  private peek (n: number): Uint8Array {
    const first = this.chunks[0]
    if (first.length >= n) return first.subarray(0, n)
    const merged = new Uint8Array(n)
    copyAcross(this.chunks, 0, merged)
    this.dropFront(n)
    this.chunks.unshift(merged)
    return merged
  }

  private consume (n: number): void {
    this.buffered -= n
    this.dropFront(n)
  }

  /** Drops the first n bytes of the chunk list (n ≤ buffered); whole chunks go with one splice, as a message fed byte by byte is a million chunks. */
  private dropFront (n: number): void {
    let whole = 0
    while (n > 0 && this.chunks[whole].length <= n) n -= this.chunks[whole++].length
    if (n > 0) this.chunks[whole] = this.chunks[whole].subarray(n)
    this.chunks.splice(0, whole)
  }

  private fail (message: string): never {
    throw new MrdProtocolError(`MRD stream at offset ${this.consumed}: ${message}`)
  }

  private checkLimit (what: string, bytes: number, limit: number, name: keyof MrdStreamLimits): void {
    if (bytes > limit) this.fail(`${what} of ${bytes} bytes exceeds the limit of ${limit} bytes (${name})`)
  }

  // --- messages --------------------------------------------------------------------------------

  private step (): Step {
    const id = viewOf(this.peek(MESSAGE_ID_SIZE)).getUint16(0, true)
    switch (id) {
      case MrdMessageId.CONFIG_FILE: return this.configFile()
      case MrdMessageId.CONFIG_TEXT: return this.text(id, (text) => ({ type: 'config-text', text }))
      case MrdMessageId.HEADER: return this.text(id, (xml) => ({ type: 'header', xml }))
      case MrdMessageId.CLOSE: return { message: { type: 'close' }, size: MESSAGE_ID_SIZE }
      case MrdMessageId.TEXT: return this.text(id, (text) => ({ type: 'text', text }))
      case MrdMessageId.ACQUISITION: return this.acquisition()
      case MrdMessageId.IMAGE: return this.image()
      case MrdMessageId.WAVEFORM: return this.waveform()
      default: {
        const known = GADGETRON_IDS[id]
        return this.fail(`unknown message id ${id}${known === undefined ? '' : ` (${known}, not part of MRD v1 streams)`}`)
      }
    }
  }

  private configFile (): Step {
    const size = MESSAGE_ID_SIZE + CONFIG_FILE_NAME_SIZE
    if (this.buffered < size) return { need: size }
    const field = this.peek(size).subarray(MESSAGE_ID_SIZE)
    const nul = field.indexOf(0)
    return { message: { type: 'config-file', name: utf8Decode(nul < 0 ? field : field.subarray(0, nul)) }, size }
  }

  private text (id: number, make: (text: string) => MrdMessage): Step {
    const prefix = MESSAGE_ID_SIZE + LENGTH_PREFIX_SIZE
    if (this.buffered < prefix) return { need: prefix }
    const length = viewOf(this.peek(prefix)).getUint32(MESSAGE_ID_SIZE, true)
    this.checkLimit(`text of message ${id}`, length, this.limits.maxTextBytes, 'maxTextBytes')
    const size = prefix + length
    if (this.buffered < size) return { need: size }
    let body = this.peek(size).subarray(prefix)
    // Python clients count a terminating NUL in the length; C++ ones do not.
    if (body.length > 0 && body[body.length - 1] === 0) body = body.subarray(0, body.length - 1)
    return { message: make(utf8Decode(body)), size }
  }

  private acquisition (): Step {
    const prefix = MESSAGE_ID_SIZE + ACQUISITION_HEADER_SIZE
    if (this.buffered < prefix) return { need: prefix }
    const view = viewOf(this.peek(prefix))
    const at = (field: keyof typeof AcquisitionHeaderOffset): number => view.getUint16(MESSAGE_ID_SIZE + AcquisitionHeaderOffset[field], true)
    const version = at('version')
    if (version !== ISMRMRD_VERSION) this.fail(`acquisition header version ${version}, only ${ISMRMRD_VERSION} is defined`)
    const samples = at('numberOfSamples')
    const channels = at('activeChannels')
    const dimensions = at('trajectoryDimensions')
    if (dimensions > this.limits.maxTrajectoryDimensions) {
      this.fail(`acquisition with ${dimensions} trajectory dimensions, at most ${this.limits.maxTrajectoryDimensions} (maxTrajectoryDimensions)`)
    }
    const trajectoryBytes = 4 * dimensions * samples
    const dataBytes = 8 * channels * samples
    this.checkLimit(`acquisition (${channels} channels × ${samples} samples, ${dimensions} trajectory dimensions)`, trajectoryBytes + dataBytes, this.limits.maxAcquisitionBytes, 'maxAcquisitionBytes')
    const size = prefix + trajectoryBytes + dataBytes
    if (this.buffered < size) return { need: size }
    // the header from its own bytes; the samples copied out of the chunks as they lie
    const acquisition: Acquisition = {
      head: readAcquisitionHeader(viewOf(this.peek(prefix)), MESSAGE_ID_SIZE),
      traj: readTypedArrayAcross(Float32Array, this.chunks, prefix, dimensions * samples),
      data: readTypedArrayAcross(Float32Array, this.chunks, prefix + trajectoryBytes, 2 * channels * samples)
    }
    return { message: { type: 'acquisition', acquisition }, size }
  }

  private image (): Step {
    const prefix = MESSAGE_ID_SIZE + IMAGE_HEADER_SIZE + 8
    if (this.buffered < prefix) return { need: prefix }
    const view = viewOf(this.peek(prefix))
    const H = MESSAGE_ID_SIZE
    const version = view.getUint16(H + ImageHeaderOffset.version, true)
    if (version !== ISMRMRD_VERSION) this.fail(`image header version ${version}, only ${ISMRMRD_VERSION} is defined`)
    const dataType = view.getUint16(H + ImageHeaderOffset.dataType, true)
    const arrayType = imageArrayType(dataType)
    if (arrayType === undefined) this.fail(`image data type ${dataType}, ISMRMRD defines 1 to 8`)
    const attributeLength = view.getBigUint64(H + IMAGE_HEADER_SIZE, true)
    if (attributeLength > BigInt(this.limits.maxImageAttributeBytes)) {
      this.fail(`image attributes of ${attributeLength} bytes exceed the limit of ${this.limits.maxImageAttributeBytes} bytes (maxImageAttributeBytes)`)
    }
    const attributeBytes = Number(attributeLength)
    const matrix = [0, 1, 2].map((i) => view.getUint16(H + ImageHeaderOffset.matrixSize + 2 * i, true))
    const channels = view.getUint16(H + ImageHeaderOffset.channels, true)
    const elements = matrix[0] * matrix[1] * matrix[2] * channels * (isComplexDataType(dataType) ? 2 : 1)
    const pixelBytes = elements * arrayType.BYTES_PER_ELEMENT
    this.checkLimit(`image ${matrix.join('×')} × ${channels} channels of data type ${dataType}`, pixelBytes, this.limits.maxImageBytes, 'maxImageBytes')
    const size = prefix + attributeBytes + pixelBytes
    if (this.buffered < size) return { need: size }
    const bytes = this.peek(size)
    const head = readImageHeader(viewOf(bytes), H)
    const attributes = utf8Decode(bytes.subarray(prefix, prefix + attributeBytes))
    const data = readTypedArray(arrayType as MrdTypedArrayConstructor, bytes, prefix + attributeBytes, elements)
    return { message: { type: 'image', image: { head, attributes, data } }, size }
  }

  private waveform (): Step {
    const prefix = MESSAGE_ID_SIZE + WAVEFORM_HEADER_SIZE
    if (this.buffered < prefix) return { need: prefix }
    const view = viewOf(this.peek(prefix))
    const H = MESSAGE_ID_SIZE
    const version = view.getUint16(H + WaveformHeaderOffset.version, true)
    if (version !== ISMRMRD_VERSION) this.fail(`waveform header version ${version}, only ${ISMRMRD_VERSION} is defined`)
    const samples = view.getUint16(H + WaveformHeaderOffset.numberOfSamples, true)
    const channels = view.getUint16(H + WaveformHeaderOffset.channels, true)
    const dataBytes = 4 * samples * channels
    this.checkLimit(`waveform (${channels} channels × ${samples} samples)`, dataBytes, this.limits.maxWaveformBytes, 'maxWaveformBytes')
    const size = prefix + dataBytes
    if (this.buffered < size) return { need: size }
    const bytes = this.peek(size)
    const waveform = { head: readWaveformHeader(viewOf(bytes), H), data: readTypedArray(Uint32Array, bytes, prefix, samples * channels) }
    return { message: { type: 'waveform', waveform }, size }
  }
}

/** Decodes a complete stream held in memory (a stored file); throws MrdProtocolError if it is cut short. */
export function decodeMrdStream (bytes: Uint8Array, limits?: MrdStreamLimits): MrdMessage[] {
  const decoder = new MrdStreamDecoder(limits)
  const messages = decoder.push(bytes)
  decoder.finish()
  return messages
}
