// Reading an MRD v1 stream (a stored .mrd file, or the bytes of /scanhub/raw) as the reconstruction
// wants it: the XML header first, then the acquisitions one by one, each with the stream offset at
// which its message starts, so that a job can say up to where its work is safe and a later worker
// can resume there. Everything the bytes announce is bounded by MrdStreamDecoder's limits.
import { MrdProtocolError } from '../../protocol/mrd/errors.ts'
import { MrdStreamDecoder, type MrdStreamLimits } from '../../protocol/mrd/stream-decoder.ts'
import { CONFIG_FILE_NAME_SIZE, LENGTH_PREFIX_SIZE, MESSAGE_ID_SIZE, type MrdMessage } from '../../protocol/mrd/stream.ts'
import { ACQUISITION_HEADER_SIZE } from '../../protocol/mrd/acquisition-header.ts'
import { IMAGE_HEADER_SIZE } from '../../protocol/mrd/image-header.ts'
import { WAVEFORM_HEADER_SIZE } from '../../protocol/mrd/waveform.ts'
import type { Acquisition } from '../../protocol/mrd/types.ts'

/** An acquisition and where its message lies in the stream (file offsets). */
export interface PlacedAcquisition {
  acquisition: Acquisition
  /** offset of the first byte of its message */
  offset: number
  /** offset just past its message */
  end: number
}

export interface MrdSourceInit extends MrdStreamLimits {
  /**
   * Bytes at the start of the source that are a preamble (the XML header and noise readouts sent
   * again to a resuming worker) rather than the stream from `startOffset`: their messages are
   * decoded and reported at offsets before startOffset, never as resumable positions.
   */
  preambleLength?: number
  /** stream offset of the first byte after the preamble (default 0) */
  startOffset?: number
}

const utf8 = new TextEncoder()

/** Bytes a decoded message occupied, to the one ambiguity of a text's trailing NUL (see below). */
function messageSize (message: MrdMessage): number {
  switch (message.type) {
    case 'close': return MESSAGE_ID_SIZE
    case 'config-file': return MESSAGE_ID_SIZE + CONFIG_FILE_NAME_SIZE
    case 'config-text': return MESSAGE_ID_SIZE + LENGTH_PREFIX_SIZE + utf8.encode(message.text).length
    case 'text': return MESSAGE_ID_SIZE + LENGTH_PREFIX_SIZE + utf8.encode(message.text).length
    case 'header': return MESSAGE_ID_SIZE + LENGTH_PREFIX_SIZE + utf8.encode(message.xml).length
    case 'acquisition': {
      const h = message.acquisition.head
      return MESSAGE_ID_SIZE + ACQUISITION_HEADER_SIZE + 4 * h.trajectoryDimensions * h.numberOfSamples + 8 * h.activeChannels * h.numberOfSamples
    }
    case 'waveform': return MESSAGE_ID_SIZE + WAVEFORM_HEADER_SIZE + message.waveform.data.byteLength
    case 'image': return MESSAGE_ID_SIZE + IMAGE_HEADER_SIZE + 8 + utf8.encode(message.image.attributes ?? '').length + message.image.data.byteLength
  }
}

const isText = (m: MrdMessage): boolean => m.type === 'header' || m.type === 'text' || m.type === 'config-text'

/**
 * Decodes an MRD byte source incrementally. `header()` reads up to the XML header; `acquisitions()`
 * then yields the acquisitions that follow, with their offsets, and ends at the CLOSE message (or
 * at the end of the source, which must not fall inside a message). Throws MrdProtocolError for a
 * corrupt, truncated or oversized stream.
 */
export class MrdSource {
  private readonly iterator: AsyncIterator<Uint8Array>
  private readonly decoder: MrdStreamDecoder
  private readonly preambleLength: number
  private readonly startOffset: number
  /** decoded messages not yet handed out, with their offsets */
  private readonly queue: Array<{ message: MrdMessage, offset: number, end: number }> = []
  /** bytes of the source consumed by decoded messages */
  private consumed = 0
  private ended = false
  private closed = false
  private xml: string | undefined

  constructor (source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>, init: MrdSourceInit = {}) {
    this.iterator = Symbol.asyncIterator in source
      ? source[Symbol.asyncIterator]()
      : (async function * () { yield * source })()
    const { preambleLength: _p, startOffset: _s, ...limits } = init
    // the decoder counts source bytes; toStreamOffset maps them to stream offsets
    this.decoder = new MrdStreamDecoder(limits)
    this.preambleLength = init.preambleLength ?? 0
    this.startOffset = init.startOffset ?? 0
  }

  /** Whether the stream's CLOSE message has been read. */
  get sawClose (): boolean {
    return this.closed
  }

  /** The XML header text: the first HEADER message (config and text messages before it are skipped). */
  async header (): Promise<string> {
    while (this.xml === undefined) {
      const next = await this.next()
      if (next === undefined) throw new MrdProtocolError('MRD stream ended before its XML header (message 3)')
      if (next.message.type === 'header') this.xml = next.message.xml
      else if (next.message.type === 'acquisition') throw new MrdProtocolError('MRD stream has an acquisition before its XML header')
      else if (next.message.type === 'close') throw new MrdProtocolError('MRD stream closed before its XML header')
    }
    return this.xml
  }

  /** The acquisitions after the header, in stream order. */
  async * acquisitions (): AsyncGenerator<PlacedAcquisition> {
    if (this.xml === undefined) await this.header()
    for (;;) {
      const next = await this.next()
      if (next === undefined) return
      const { message } = next
      if (message.type === 'acquisition') yield { acquisition: message.acquisition, offset: next.offset, end: next.end }
      else if (message.type === 'close') return
      else if (message.type === 'header') throw new MrdProtocolError(`MRD stream has a second XML header at offset ${next.offset}`)
      // waveforms, text and images are not reconstructed: skipped
    }
  }

  /** Stops reading the source (returns its iterator, which closes a file or a stream). */
  async close (): Promise<void> {
    this.ended = true
    await this.iterator.return?.()
  }

  private async next (): Promise<{ message: MrdMessage, offset: number, end: number } | undefined> {
    while (this.queue.length === 0) {
      if (this.ended || this.closed) return undefined
      const { value, done } = await this.iterator.next()
      if (done === true) {
        this.ended = true
        this.decoder.finish()
        return undefined
      }
      this.place(this.decoder.push(value))
    }
    const next = this.queue.shift()
    if (next?.message.type === 'close') {
      this.closed = true
      this.queue.length = 0
    }
    return next
  }

  /**
   * Gives each decoded message its offsets. Sizes follow from the content except for one byte: a
   * text may have carried a trailing NUL the decoder dropped. The decoder's own offset says how many
   * such bytes the batch held; with at most one text message in a batch (the usual case: only the
   * XML header) the offsets are exact.
   */
  private place (messages: MrdMessage[]): void {
    if (messages.length === 0) return
    const batch = this.decoder.offset - this.consumed
    const sizes = messages.map(messageSize)
    let nuls = batch - sizes.reduce((a, b) => a + b, 0)
    for (let i = 0; i < messages.length && nuls > 0; i++) {
      if (isText(messages[i])) { sizes[i]++; nuls-- }
    }
    for (let i = 0; i < messages.length; i++) {
      const from = this.consumed
      this.consumed += sizes[i]
      this.queue.push({ message: messages[i], offset: this.toStreamOffset(from), end: this.toStreamOffset(this.consumed) })
    }
    // whatever the sizes said, the decoder knows where the batch ended
    this.consumed = this.decoder.offset
  }

  /** Source position to stream offset: the preamble's messages are all placed at startOffset. */
  private toStreamOffset (position: number): number {
    return position <= this.preambleLength ? this.startOffset : this.startOffset + position - this.preambleLength
  }
}
