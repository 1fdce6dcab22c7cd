// The raw data of one acquisition task as the raw protocol serves it: the recording while it grows
// (read from its file up to the bytes of whole messages written so far), or the RAW result's blob once
// the scan is over. Both are the same MRD v1 stream bytes, so offsets mean the same in either.
import { open, type FileHandle } from 'node:fs/promises'
import { hasFlag, AcquisitionFlag } from '../../protocol/mrd/flags.ts'
import { MrdStreamDecoder } from '../../protocol/mrd/stream-decoder.ts'
import { MrdProtocolError } from '../../protocol/mrd/errors.ts'
import type { BlobStore } from '../../node/storage/blob-store.ts'
import type { RawRecording } from '../raw/raw-recordings.ts'

export interface RawInput {
  /** bytes of whole messages available now */
  readonly length: number
  /** no more bytes will come: the stream is complete (ends with its close message) */
  readonly complete: boolean
  /** the recording stopped without its close message; the reason */
  readonly abortReason: string | undefined
  /** resolves when more than `offset` bytes exist, or the input is complete or aborted */
  waitFor: (offset: number, signal?: AbortSignal) => Promise<void>
  /** up to `length` bytes from `position` (fewer only at the end of what exists) */
  read: (position: number, length: number) => Promise<Uint8Array>
  close: () => Promise<void>
}

/** A growing recording, read through its own file handle so that it can be served while written. */
export async function recordingInput (recording: RawRecording): Promise<RawInput> {
  let handle: FileHandle | undefined = await open(recording.path, 'r')
  let abortReason: string | undefined
  const onAbort = (reason: string): void => { abortReason = reason }
  recording.on('abort', onAbort)
  return {
    get length () { return recording.length },
    get complete () { return recording.complete },
    get abortReason () { return recording.aborted ? (abortReason ?? 'the acquisition stopped') : undefined },
    waitFor: async (offset, signal) => { await recording.waitFor(offset, signal) },
    read: async (position, length) => {
      if (handle === undefined) throw new Error('raw input is closed')
      const n = Math.max(0, Math.min(length, recording.length - position))
      const buffer = new Uint8Array(n)
      let done = 0
      while (done < n) {
        const { bytesRead } = await handle.read(buffer, done, n - done, position + done)
        if (bytesRead === 0) throw new Error(`recording ${recording.taskId} ended at ${position + done} bytes, ${recording.length} expected`)
        done += bytesRead
      }
      return buffer
    },
    close: async () => {
      recording.off('abort', onAbort)
      await handle?.close()
      handle = undefined
    }
  }
}

/** A finished recording kept as a blob (the acquisition task's RAW result). */
export async function blobInput (blobs: Pick<BlobStore, 'stat' | 'read'>, sha256: string): Promise<RawInput> {
  const stat = await blobs.stat(sha256)
  if (stat === undefined) throw new Error(`raw data blob ${sha256} is not on this peer`)
  return {
    length: stat.size,
    complete: true,
    abortReason: undefined,
    waitFor: async () => {},
    read: async (position, length) => await blobs.read(sha256, { offset: position, length: Math.max(0, Math.min(length, stat.size - position)) }),
    close: async () => {}
  }
}

/** Longest preamble (XML header and noise readouts) the scanner sends again to a resuming worker. */
export const MAX_PREAMBLE_BYTES = 64 * 1024 * 1024
const PREAMBLE_CHUNK = 256 * 1024

/**
 * The length of the stream's preamble: the messages before its first acquisition that is not a noise
 * readout (the XML header, noise calibration, any config or text). A resuming worker needs them again
 * (prewhitening is computed from the noise); they are at most MAX_PREAMBLE_BYTES. Waits for the
 * recording to get that far.
 */
export async function preambleLength (input: RawInput, signal?: AbortSignal): Promise<number> {
  const decoder = new MrdStreamDecoder()
  let position = 0
  for (;;) {
    if (position >= input.length) {
      if (input.complete || input.abortReason !== undefined) return decoder.offset
      await input.waitFor(position, signal)
      continue
    }
    const chunk = await input.read(position, PREAMBLE_CHUNK)
    position += chunk.length
    const messages = decoder.push(chunk)
    const first = messages.findIndex((m) => m.type === 'close' || (m.type === 'acquisition' && !hasFlag(m.acquisition.head.flags, AcquisitionFlag.IS_NOISE_MEASUREMENT)))
    if (first >= 0) {
      // Counted back from where the decoder stopped: the sizes of acquisitions are exact, while a text
      // may have lost a trailing NUL in decoding.
      return decoder.offset - messages.slice(first).reduce((sum, m) => sum + sizeOf(m), 0)
    }
    if (decoder.offset > MAX_PREAMBLE_BYTES) throw new MrdProtocolError(`the stream's header and noise readouts exceed ${MAX_PREAMBLE_BYTES} bytes`)
  }
}

function sizeOf (message: ReturnType<MrdStreamDecoder['push']>[number]): number {
  switch (message.type) {
    case 'acquisition': {
      const h = message.acquisition.head
      return 2 + 340 + 4 * h.trajectoryDimensions * h.numberOfSamples + 8 * h.activeChannels * h.numberOfSamples
    }
    case 'header': return 6 + new TextEncoder().encode(message.xml).length
    case 'text':
    case 'config-text': return 6 + new TextEncoder().encode(message.text).length
    case 'config-file': return 2 + 1024
    case 'close': return 2
    case 'waveform': return 2 + 40 + message.waveform.data.byteLength
    case 'image': return 2 + 198 + 8 + new TextEncoder().encode(message.image.attributes ?? '').length + message.image.data.byteLength
  }
}
