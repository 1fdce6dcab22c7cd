// Reads a libp2p stream no faster than its consumer. A stream's own async iterator queues whatever
// arrives without bound, so a reconstruction slower than the network would buffer a whole scan; here
// the stream is paused (yamux then stops granting the sender window, so the scanner's send() waits for
// drain) once `highWaterMark` bytes wait, and resumed when the consumer has taken them.
//
// Never pause from inside resume(): libp2p 3's resume() hands the data buffered while paused to the
// 'message' listeners first and only then tells the muxer to resume, so a pause made by the listener
// is undone at the muxer (yamux grants window again) while the stream still says 'paused' and ignores
// the next pause(): the sender is then never held back again. The pause waits until resume() returns.
import type { Stream } from '@libp2p/interface'

export interface PacedReaderInit {
  /** bytes queued before the stream is paused; default 4 MiB */
  highWaterMark?: number
  /** the first bytes to yield, before anything read from the stream (bytes read ahead by a frame decoder) */
  initial?: Uint8Array
}

/** What a paused yamux stream may still receive: the sender's whole window (16 MiB at most by default, 4 in a lab host) on top of the queue. */
const MAX_READ_BUFFER = 64 * 1024 * 1024

function readStatusOf (stream: Stream): Stream['readStatus'] {
  return stream.readStatus
}

export async function * readPaced (stream: Stream, init: PacedReaderInit = {}): AsyncGenerator<Uint8Array> {
  const high = init.highWaterMark ?? 4 * 1024 * 1024
  const queue: Uint8Array[] = []
  let queued = 0
  let ended = false
  let failure: Error | undefined
  let wake: (() => void) | undefined
  let resuming = false
  const notify = (): void => { const w = wake; wake = undefined; w?.() }
  const onMessage = (event: { data: Uint8Array | Iterable<Uint8Array> }): void => {
    // a list (all that waited while paused) is taken part by part: joining it would copy megabytes
    for (const bytes of event.data instanceof Uint8Array ? [event.data] : event.data) {
      queue.push(bytes)
      queued += bytes.length
    }
    if (queued > high && !resuming && stream.readStatus === 'readable') stream.pause()
    notify()
  }
  const onEnd = (): void => { ended = true; notify() }
  const onClose = (event: Event): void => {
    const error = (event as Event & { error?: Error }).error
    if (error !== undefined) failure = error
    ended = true
    notify()
  }
  stream.maxReadBufferLength = Math.max(stream.maxReadBufferLength, MAX_READ_BUFFER)
  stream.addEventListener('message', onMessage)
  stream.addEventListener('remoteCloseWrite', onEnd)
  stream.addEventListener('close', onClose)
  try {
    if (init.initial !== undefined && init.initial.length > 0) yield init.initial
    for (;;) {
      const next = queue.shift()
      if (next !== undefined) {
        queued -= next.length
        if (queued <= high / 2 && stream.readStatus === 'paused') {
          resuming = true
          try {
            stream.resume()
          } finally {
            resuming = false
          }
          // (what the listener queued during resume(); readStatus is read anew, resume() changed it)
          if (queued > high && readStatusOf(stream) === 'readable') stream.pause()
        }
        yield next
        continue
      }
      if (failure !== undefined) throw failure
      if (ended || stream.status === 'closed' || stream.status === 'aborted' || stream.status === 'reset') return
      await new Promise<void>((resolve) => { wake = resolve })
    }
  } finally {
    stream.removeEventListener('message', onMessage)
    stream.removeEventListener('remoteCloseWrite', onEnd)
    stream.removeEventListener('close', onClose)
  }
}
