// Length-prefixed frames over a libp2p stream, for the browser: serialised sends that honour
// backpressure and a bounded reader. The same rules as node/streams/framed-stream.ts, which the
// page may not import (it is Node's folder); both use protocol/framing.ts for the bytes.
import { FrameDecoder, encodeFrame } from '../../../protocol/framing.ts'
import type { Stream } from '@libp2p/interface'

export class FrameWriter {
  private readonly stream: Stream
  private tail: Promise<void> = Promise.resolve()

  constructor (stream: Stream) {
    this.stream = stream
  }

  /** Queues a frame; settles once it was handed to the stream (or the stream is gone). */
  send (payload: Uint8Array): Promise<void> {
    const frame = encodeFrame(payload)
    const next = this.tail.then(async () => {
      if (this.stream.status !== 'open' || this.stream.writeStatus !== 'writable') return
      if (!this.stream.send(frame)) await this.stream.onDrain()
    })
    this.tail = next.catch(() => {})
    return next
  }
}

/** Yields the frames of a stream; throws FrameError on a frame above maxLength. */
export async function * readFrames (stream: Stream, maxLength: number): AsyncGenerator<Uint8Array> {
  const decoder = new FrameDecoder(maxLength)
  for await (const chunk of stream) {
    const bytes = chunk instanceof Uint8Array ? chunk : chunk.subarray()
    for (const frame of decoder.push(bytes)) yield frame
  }
}
