// The lab's sync protocol (/scanhub/sync/1.0.0): y-protocols sync and awareness messages, each tagged
// with the document they belong to, so that one stream per peer carries every document. Grammar in
// PROTOCOL.md. Writers append to an encoder the caller owns; readers never trust a length.
import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'

/** y-protocols sync message (step 1, step 2 or update) for one document. */
export const MESSAGE_SYNC = 0
/** y-protocols awareness update (presence) for one document. */
export const MESSAGE_AWARENESS = 1
/** The sender refused something we sent; text says what. Informational, never answered. */
export const MESSAGE_ERROR = 2

/** Frames on the sync stream are bounded: a step 2 of a whole document must fit. */
export const MAX_SYNC_FRAME_LENGTH = 16 * 1024 * 1024

/** Document ids are short printable names such as `lab` or `patient:<uuid>`. */
export const DOC_ID_PATTERN = /^[a-z][a-z0-9-]*(:[A-Za-z0-9-]{1,64})?$/
const MAX_DOC_ID_LENGTH = 100

export type SyncFrame =
  | { type: typeof MESSAGE_SYNC, docId: string, payload: Uint8Array }
  | { type: typeof MESSAGE_AWARENESS, docId: string, payload: Uint8Array }
  | { type: typeof MESSAGE_ERROR, docId: string, message: string }

/** A sync frame was malformed; the error text is safe to send back to the peer. */
export class SyncProtocolError extends Error {
  override name = 'SyncProtocolError'
}

export function isValidDocId (docId: string): boolean {
  return docId.length <= MAX_DOC_ID_LENGTH && DOC_ID_PATTERN.test(docId)
}

/** frame(sync) := varUint(0) • varString(docId) • varByteArray(y-protocols sync message) */
export function writeSyncFrame (encoder: encoding.Encoder, docId: string, payload: Uint8Array): void {
  encoding.writeVarUint(encoder, MESSAGE_SYNC)
  encoding.writeVarString(encoder, docId)
  encoding.writeVarUint8Array(encoder, payload)
}

/** frame(awareness) := varUint(1) • varString(docId) • varByteArray(y-protocols awareness update) */
export function writeAwarenessFrame (encoder: encoding.Encoder, docId: string, payload: Uint8Array): void {
  encoding.writeVarUint(encoder, MESSAGE_AWARENESS)
  encoding.writeVarString(encoder, docId)
  encoding.writeVarUint8Array(encoder, payload)
}

/** frame(error) := varUint(2) • varString(docId or "") • varString(message) */
export function writeErrorFrame (encoder: encoding.Encoder, docId: string, message: string): void {
  encoding.writeVarUint(encoder, MESSAGE_ERROR)
  encoding.writeVarString(encoder, docId)
  encoding.writeVarString(encoder, message.slice(0, 500))
}

/** Decodes one frame's content. Throws SyncProtocolError for anything malformed. */
export function readSyncFrame (frame: Uint8Array): SyncFrame {
  const decoder = decoding.createDecoder(frame)
  try {
    const type = decoding.readVarUint(decoder)
    const docId = decoding.readVarString(decoder)
    if (type === MESSAGE_ERROR) {
      return { type, docId, message: decoding.readVarString(decoder) }
    }
    if (type !== MESSAGE_SYNC && type !== MESSAGE_AWARENESS) {
      throw new SyncProtocolError(`unknown sync message type ${type}`)
    }
    if (!isValidDocId(docId)) {
      throw new SyncProtocolError(`invalid document id ${JSON.stringify(docId.slice(0, 120))}`)
    }
    const payload = decoding.readVarUint8Array(decoder)
    if (decoding.hasContent(decoder)) {
      throw new SyncProtocolError(`${decoder.arr.length - decoder.pos} trailing bytes after a sync frame`)
    }
    return { type, docId, payload }
  } catch (err) {
    if (err instanceof SyncProtocolError) throw err
    // lib0 throws plain Errors ("Unexpected end of array", "Integer out of Range") on truncation.
    throw new SyncProtocolError(`malformed sync frame: ${(err as Error).message}`)
  }
}

export function encodeSyncFrame (docId: string, payload: Uint8Array): Uint8Array {
  const encoder = encoding.createEncoder()
  writeSyncFrame(encoder, docId, payload)
  return encoding.toUint8Array(encoder)
}

export function encodeAwarenessFrame (docId: string, payload: Uint8Array): Uint8Array {
  const encoder = encoding.createEncoder()
  writeAwarenessFrame(encoder, docId, payload)
  return encoding.toUint8Array(encoder)
}

export function encodeErrorFrame (docId: string, message: string): Uint8Array {
  const encoder = encoding.createEncoder()
  writeErrorFrame(encoder, docId, message)
  return encoding.toUint8Array(encoder)
}

/** The end of a sync session that a bad frame is answered on. */
export interface SyncFramePeer {
  readonly remotePeer: string
  send: (frame: Uint8Array) => void
}

/**
 * Decodes a frame from `peer`. A malformed one is logged and answered with an ERROR frame, and gives
 * undefined: the session goes on, as one bad frame says nothing about the next.
 */
export function readSyncFrameOrAnswer (bytes: Uint8Array, peer: SyncFramePeer, log: (message: string) => void): SyncFrame | undefined {
  try {
    return readSyncFrame(bytes)
  } catch (err) {
    if (!(err instanceof SyncProtocolError)) throw err
    log(`sync: bad frame from ${peer.remotePeer}: ${err.message}`)
    peer.send(encodeErrorFrame('', err.message))
    return undefined
  }
}
