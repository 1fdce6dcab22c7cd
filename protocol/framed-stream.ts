// Length-prefixed frames (framing.ts) over a stream: serialised sends that honour backpressure
// (`send()` returning false means wait for drain) and bounded frame readers. Shared by the peers and
// the browser; the stream is described by what is used of it, which a libp2p Stream is.
import { FrameDecoder, encodeFrame } from './framing.ts'

/** What framed reading and writing use of a stream (a libp2p Stream has all of it). */
export interface ByteStream extends AsyncIterable<Uint8Array | { subarray: () => Uint8Array }> {
  readonly status: string
  readonly writeStatus: string
  /** false: the stream's buffer is full, wait for onDrain() before sending more */
  send (bytes: Uint8Array): boolean
  onDrain (): Promise<void>
  /** closes gracefully, after what was sent */
  close (options?: { signal?: AbortSignal }): Promise<void>
  abort (err: Error): void
}

/** Sends frames in order, waiting for the stream to drain whenever its buffer is full. */
export class FrameWriter {
  private readonly stream: ByteStream
  private tail: Promise<void> = Promise.resolve()

  constructor (stream: ByteStream) {
    this.stream = stream
  }

  /** Queues a frame; the promise settles once it was handed to the stream (or the stream is gone). */
  send (payload: Uint8Array): Promise<void> {
    return this.sendRaw(encodeFrame(payload))
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
export async function readOneFrame (stream: ByteStream, maxLength: number, timeoutMs: number, fail: (message: string) => Error): Promise<Uint8Array> {
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
export async function * readFrames (stream: ByteStream, maxLength: number): AsyncGenerator<Uint8Array> {
  const decoder = new FrameDecoder(maxLength)
  for await (const chunk of stream) {
    const bytes = chunk instanceof Uint8Array ? chunk : chunk.subarray()
    for (const frame of decoder.push(bytes)) yield frame
  }
}
