// Length-prefixed frames: varUint(length) • bytes. Every decoder bounds the length it will accept
// before it buffers anything, so a lying or hostile length cannot make a peer allocate without limit.
import * as encoding from 'lib0/encoding'

/** Frames above this are refused unless a protocol sets its own bound. */
export const DEFAULT_MAX_FRAME_LENGTH = 4 * 1024 * 1024

/** A frame broke the framing rules; the stream it came on cannot be trusted any more. */
export class FrameError extends Error {
  override name = 'FrameError'
}

/** Prefixes a payload with its length. */
export function encodeFrame (payload: Uint8Array): Uint8Array {
  const encoder = encoding.createEncoder()
  encoding.writeVarUint8Array(encoder, payload)
  return encoding.toUint8Array(encoder)
}

/**
 * Splits a byte stream into frames. Push chunks as they arrive; each call returns the frames that
 * became complete. Throws FrameError for a length above the bound or a malformed length prefix.
 */
export class FrameDecoder {
  private readonly maxLength: number
  private buffer: Uint8Array = new Uint8Array(0)

  constructor (maxLength: number = DEFAULT_MAX_FRAME_LENGTH) {
    this.maxLength = maxLength
  }

  /** Bytes received but not yet part of a complete frame. */
  get pendingBytes (): number {
    return this.buffer.length
  }

  /** Hands back the bytes buffered after the last complete frame, for a protocol that switches to raw bytes. */
  takePending (): Uint8Array {
    const rest = this.buffer
    this.buffer = new Uint8Array(0)
    return rest
  }

  /** Adds bytes; returns the frames now complete, at most `limit` (the rest stays buffered). */
  push (chunk: Uint8Array, limit = Infinity): Uint8Array[] {
    this.buffer = this.buffer.length === 0 ? chunk : concat(this.buffer, chunk)
    const frames: Uint8Array[] = []
    let offset = 0
    while (frames.length < limit) {
      const prefix = readVarUint(this.buffer, offset)
      if (prefix === undefined) break
      const { value: length, next } = prefix
      if (length > this.maxLength) {
        throw new FrameError(`frame of ${length} bytes exceeds the limit of ${this.maxLength} bytes`)
      }
      if (this.buffer.length - next < length) break
      frames.push(this.buffer.slice(next, next + length))
      offset = next + length
    }
    this.buffer = offset === 0 ? this.buffer : this.buffer.slice(offset)
    return frames
  }
}

/** Reads an unsigned LEB128 varint; undefined when the buffer ends inside it. */
function readVarUint (buffer: Uint8Array, start: number): { value: number, next: number } | undefined {
  let value = 0
  let multiplier = 1
  for (let i = start; i < buffer.length; i++) {
    const byte = buffer[i]
    value += (byte & 0x7f) * multiplier
    if (byte < 0x80) return { value, next: i + 1 }
    multiplier *= 128
    // 7 bytes carry 49 bits: far above any bound we accept, so longer prefixes are garbage.
    if (i - start >= 6) throw new FrameError('malformed frame length prefix')
  }
  return undefined
}

function concat (a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length)
  out.set(a, 0)
  out.set(b, a.length)
  return out
}
