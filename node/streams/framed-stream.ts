// A libp2p stream carrying length-prefixed frames: serialised sends that honour backpressure
// (`send()` returning false means wait for drain) and a bounded frame reader.
import { FrameDecoder, encodeFrame } from '../../protocol/framing.ts'
import type { Stream } from '@libp2p/interface'

/** Sends frames in order, waiting for the stream to drain whenever its buffer is full. */
export class FrameWriter {
  private readonly stream: Stream
  private tail: Promise<void> = Promise.resolve()

  constructor (stream: Stream) {
    this.stream = stream
  }

  /** Queues a frame; the promise settles once it was handed to the stream. */
  send (payload: Uint8Array): Promise<void> {
    const frame = encodeFrame(payload)
    return this.sendRaw(frame)
  }

  /** Queues bytes as they are, without a length prefix. */
  sendRaw (bytes: Uint8Array): Promise<void> {
    const next = this.tail.then(async () => {
      if (this.stream.status !== 'open' || this.stream.writeStatus !== 'writable') return
      if (!this.stream.send(bytes)) await this.stream.onDrain()
    })
    // A failed send must not wedge the queue for later frames; the stream's close says what happened.
    this.tail = next.catch(() => {})
    return next
  }

  /** Resolves when everything queued so far was handed to the stream. */
  async flushed (): Promise<void> {
    await this.tail
  }
}

/**
 * Reads exactly one length-prefixed frame (a request), bounded in size and time: aborts the stream
 * with `fail('request timed out')` after timeoutMs, and throws `fail(...)` when the stream ends first.
 * A frame above maxLength throws FrameError.
 */
export async function readOneFrame (stream: Stream, maxLength: number, timeoutMs: number, fail: (message: string) => Error): Promise<Uint8Array> {
  const decoder = new FrameDecoder(maxLength)
  const timer = setTimeout(() => stream.abort(fail('request timed out')), timeoutMs)
  try {
    for await (const chunk of stream) {
      const frames = decoder.push(chunk instanceof Uint8Array ? chunk : chunk.subarray(), 1)
      if (frames.length > 0) return frames[0]
    }
  } finally {
    clearTimeout(timer)
  }
  throw fail('stream closed before a complete request arrived')
}

/** Yields the frames of a stream; throws FrameError on a frame above maxLength. */
export async function * readFrames (stream: Stream, maxLength: number): AsyncGenerator<Uint8Array> {
  const decoder = new FrameDecoder(maxLength)
  for await (const chunk of stream) {
    const bytes = chunk instanceof Uint8Array ? chunk : chunk.subarray()
    for (const frame of decoder.push(bytes)) yield frame
  }
}
