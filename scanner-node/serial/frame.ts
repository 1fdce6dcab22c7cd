// Frames of the serial protocol (PROTOCOL.md): the encoder, and an incremental decoder that finds
// frames in a byte stream that may hold garbage, corrupt frames and frames cut short. A serial line
// has no other framing: a byte lost, added or flipped must cost the frames it touches, never the stream.
//
// The decoder never throws on its input. It reports what it could not use as events (garbage skipped,
// a corrupt frame, a truncated frame, a frame of another version), counts them in `stats`, and keeps at
// most one frame's worth of bytes (header + maxPayload + trailer) between pushes.
import { crc16, crc32 } from './crc.ts'
import { HEADER_SIZE, MAX_PAYLOAD, PROTOCOL_VERSION, SYNC, TRAILER_SIZE, messageTypeName } from './constants.ts'
import { SerialProtocolError } from './errors.ts'

/** A frame as it travels: its type byte, its sequence number and its payload. */
export interface Frame {
  type: number
  sequence: number
  payload: Uint8Array
}

/** A frame whose header checked out (so its type, number and length can be trusted) but that was not received whole. */
export interface FrameHeader {
  type: number
  sequence: number
  /** payload length announced */
  length: number
}

export type DecodeEvent =
  | { kind: 'frame', frame: Frame }
  /** bytes that belonged to no frame, skipped while looking for the next sync */
  | { kind: 'garbage', bytes: number }
  /** a frame with a good header and a bad CRC-32: flipped or lost bytes inside it */
  | { kind: 'corrupt', header: FrameHeader }
  /** a frame cut short: another frame began inside it, or the line went quiet (`flush`) before its end */
  | { kind: 'truncated', header: FrameHeader, received: number }
  /** a frame with a good header of a protocol version this decoder does not speak */
  | { kind: 'version', version: number }

export interface DecoderStats {
  frames: number
  garbageBytes: number
  corruptFrames: number
  truncatedFrames: number
  versionMismatches: number
}

/** The bytes of a frame: header (with its CRC-16), payload, CRC-32 over everything after the sync. */
export function encodeFrame (type: number, sequence: number, payload: Uint8Array): Uint8Array {
  if (!Number.isInteger(type) || type < 0 || type > 0xff) throw new SerialProtocolError(`frame type ${type} is not a byte`)
  if (!Number.isInteger(sequence) || sequence < 0 || sequence > 0xffff) throw new SerialProtocolError(`sequence number ${sequence} is not a u16`)
  if (payload.length > MAX_PAYLOAD) throw new SerialProtocolError(`${messageTypeName(type)} payload of ${payload.length} bytes exceeds ${MAX_PAYLOAD}`)
  const frame = new Uint8Array(HEADER_SIZE + payload.length + TRAILER_SIZE)
  const view = new DataView(frame.buffer)
  frame[0] = SYNC[0]
  frame[1] = SYNC[1]
  frame[2] = PROTOCOL_VERSION
  frame[3] = type
  view.setUint16(4, sequence, true)
  view.setUint32(6, payload.length, true)
  view.setUint16(10, crc16(frame, 2, 10), true)
  frame.set(payload, HEADER_SIZE)
  const end = HEADER_SIZE + payload.length
  view.setUint32(end, crc32(frame, 2, end), true)
  return frame
}

export interface FrameDecoderInit {
  /** Largest payload accepted; a header announcing more is taken for garbage. Default and maximum MAX_PAYLOAD (1 MiB). */
  maxPayload?: number
}

type HeaderCheck = { ok: true, header: FrameHeader } | { ok: false, version?: number }

/** Splits a byte stream into frames; push chunks as they arrive, each call returns what they completed. */
export class FrameDecoder {
  readonly stats: DecoderStats = { frames: 0, garbageBytes: 0, corruptFrames: 0, truncatedFrames: 0, versionMismatches: 0 }
  private readonly maxPayload: number
  private buffer = new Uint8Array(4096)
  private view = new DataView(this.buffer.buffer)
  private start = 0
  private end = 0

  constructor (init: FrameDecoderInit = {}) {
    const max = init.maxPayload ?? MAX_PAYLOAD
    if (!(Number.isInteger(max) && max >= 0 && max <= MAX_PAYLOAD)) throw new RangeError(`maxPayload must be an integer in 0..${MAX_PAYLOAD}, not ${max}`)
    this.maxPayload = max
  }

  /** Bytes held that are not yet part of a frame. */
  get buffered (): number {
    return this.end - this.start
  }

  /** The frame being received, when its header has arrived and checked out. */
  get partial (): (FrameHeader & { received: number }) | undefined {
    if (this.end - this.start < HEADER_SIZE || !this.isSyncAt(this.start)) return undefined
    const check = this.checkHeader(this.start)
    return check.ok ? { ...check.header, received: this.end - this.start } : undefined
  }

  /** Adds bytes; returns the events (frames first among them) they completed, in stream order. */
  push (chunk: Uint8Array): DecodeEvent[] {
    this.append(chunk)
    return this.scan(false)
  }

  /**
   * Declares the bytes held to be all there will be of them: the line went quiet, or the stream
   * ended. A frame they begin is reported truncated and the bytes after its sync are searched again,
   * so that frames a truncated one swallowed are found; what is left is garbage. The decoder is then
   * empty and can go on with the next push.
   */
  flush (): DecodeEvent[] {
    return this.scan(true)
  }

  private append (chunk: Uint8Array): void {
    const held = this.end - this.start
    if (this.end + chunk.length > this.buffer.length) {
      if (held + chunk.length <= this.buffer.length && this.start >= held) {
        this.buffer.copyWithin(0, this.start, this.end)
      } else {
        const grown = new Uint8Array(Math.max(held + chunk.length, 2 * this.buffer.length))
        grown.set(this.buffer.subarray(this.start, this.end))
        this.buffer = grown
        this.view = new DataView(grown.buffer)
      }
      this.start = 0
      this.end = held
    }
    this.buffer.set(chunk, this.end)
    this.end += chunk.length
  }

  private isSyncAt (i: number): boolean {
    return this.buffer[i] === SYNC[0] && this.buffer[i + 1] === SYNC[1]
  }

  /** Checks the header at i (HEADER_SIZE bytes must be there): its CRC first, so that the fields of a false sync are not believed. */
  private checkHeader (i: number): HeaderCheck {
    if (crc16(this.buffer, i + 2, i + 10) !== this.view.getUint16(i + 10, true)) return { ok: false }
    const version = this.buffer[i + 2]
    if (version !== PROTOCOL_VERSION) return { ok: false, version }
    const length = this.view.getUint32(i + 6, true)
    if (length > this.maxPayload) return { ok: false }
    return { ok: true, header: { type: this.buffer[i + 3], sequence: this.view.getUint16(i + 4, true), length } }
  }

  /** Whether a frame with a good header begins anywhere in [from, to). */
  private headerWithin (from: number, to: number): number | undefined {
    for (let j = from; j + HEADER_SIZE <= this.end && j < to; j++) {
      if (this.isSyncAt(j) && this.checkHeader(j).ok) return j
    }
    return undefined
  }

  private scan (final: boolean): DecodeEvent[] {
    const events: DecodeEvent[] = []
    let garbage = 0
    const emit = (event: DecodeEvent): void => {
      if (garbage > 0) {
        events.push({ kind: 'garbage', bytes: garbage })
        this.stats.garbageBytes += garbage
        garbage = 0
      }
      events.push(event)
    }
    for (;;) {
      // Find the next sync; a lone first sync byte at the end may be completed by the next push.
      let i = this.start
      while (i + 1 < this.end && !this.isSyncAt(i)) i++
      if (i + 1 >= this.end) {
        const keep = !final && this.end > this.start && this.buffer[this.end - 1] === SYNC[0] ? 1 : 0
        garbage += this.end - keep - this.start
        this.start = this.end - keep
        break
      }
      garbage += i - this.start
      this.start = i
      if (this.end - i < HEADER_SIZE) {
        if (!final) break
        garbage += this.end - i
        this.start = this.end
        break
      }
      const check = this.checkHeader(i)
      if (!check.ok) {
        if (check.version !== undefined) {
          this.stats.versionMismatches++
          emit({ kind: 'version', version: check.version })
        }
        garbage += 1
        this.start = i + 1
        continue
      }
      const { header } = check
      const total = HEADER_SIZE + header.length + TRAILER_SIZE
      if (this.end - i < total) {
        if (!final) break
        // The line went quiet inside this frame: it is cut short, and frames it seemed to hold begin
        // after its sync.
        const inner = this.headerWithin(i + 2, this.end)
        this.stats.truncatedFrames++
        emit({ kind: 'truncated', header, received: (inner ?? this.end) - i })
        this.start = inner ?? this.end
        continue
      }
      const payloadEnd = i + HEADER_SIZE + header.length
      if (crc32(this.buffer, i + 2, payloadEnd) === this.view.getUint32(payloadEnd, true)) {
        this.stats.frames++
        emit({ kind: 'frame', frame: { type: header.type, sequence: header.sequence, payload: this.buffer.slice(i + HEADER_SIZE, payloadEnd) } })
        this.start = i + total
        continue
      }
      // A good header inside a bad frame is the next frame, begun before this one's announced end:
      // this one lost bytes. With none inside, its own bytes were damaged in place.
      const inner = this.headerWithin(i + 2, i + total)
      if (inner !== undefined) {
        this.stats.truncatedFrames++
        emit({ kind: 'truncated', header, received: inner - i })
        this.start = inner
      } else {
        this.stats.corruptFrames++
        emit({ kind: 'corrupt', header })
        this.start = i + total
      }
    }
    if (garbage > 0) {
      events.push({ kind: 'garbage', bytes: garbage })
      this.stats.garbageBytes += garbage
    }
    if (this.start === this.end) {
      this.start = 0
      this.end = 0
    }
    return events
  }
}
