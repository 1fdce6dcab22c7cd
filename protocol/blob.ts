// The blob protocol (/scanhub/blob/1.0.0): fetch a content-addressed blob by its sha-256, from a byte
// offset, so that an interrupted transfer resumes where it stopped. One request per stream. Grammar in
// PROTOCOL.md.
import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'

export const BLOB_STATUS_OK = 0
export const BLOB_STATUS_NOT_FOUND = 1
export const BLOB_STATUS_BAD_REQUEST = 2

/** A request is tiny; anything longer is not a request. */
export const MAX_BLOB_REQUEST_LENGTH = 256
/** A response header is tiny too: status, size and an optional message. */
export const MAX_BLOB_RESPONSE_HEADER_LENGTH = 1024

export const SHA256_HEX = /^[0-9a-f]{64}$/

export interface BlobRequest {
  sha256: string
  /** first byte wanted */
  offset: number
  /** bytes wanted; 0 = to the end */
  length: number
}

export type BlobResponseHeader =
  | { status: typeof BLOB_STATUS_OK, size: number }
  | { status: typeof BLOB_STATUS_NOT_FOUND | typeof BLOB_STATUS_BAD_REQUEST, message: string }

export class BlobProtocolError extends Error {
  override name = 'BlobProtocolError'
}

/** request := varString(sha256 hex) • varUint(offset) • varUint(length, 0 = to the end) */
export function encodeBlobRequest (request: BlobRequest): Uint8Array {
  const encoder = encoding.createEncoder()
  encoding.writeVarString(encoder, request.sha256)
  encoding.writeVarUint(encoder, request.offset)
  encoding.writeVarUint(encoder, request.length)
  return encoding.toUint8Array(encoder)
}

export function decodeBlobRequest (bytes: Uint8Array): BlobRequest {
  const decoder = decoding.createDecoder(bytes)
  try {
    const sha256 = decoding.readVarString(decoder)
    const offset = decoding.readVarUint(decoder)
    const length = decoding.readVarUint(decoder)
    if (!SHA256_HEX.test(sha256)) throw new BlobProtocolError('blob id must be 64 lowercase hex characters (sha-256)')
    if (decoding.hasContent(decoder)) throw new BlobProtocolError('trailing bytes after a blob request')
    return { sha256, offset, length }
  } catch (err) {
    if (err instanceof BlobProtocolError) throw err
    throw new BlobProtocolError(`malformed blob request: ${(err as Error).message}`)
  }
}

/**
 * header(ok) := varUint(0) • varUint(bytes that follow)
 * header(refused) := varUint(1 | 2) • varString(message)
 * The header is one frame; for ok, exactly that many raw bytes follow, then the stream closes.
 */
export function encodeBlobResponseHeader (header: BlobResponseHeader): Uint8Array {
  const encoder = encoding.createEncoder()
  encoding.writeVarUint(encoder, header.status)
  if (header.status === BLOB_STATUS_OK) encoding.writeVarUint(encoder, header.size)
  else encoding.writeVarString(encoder, header.message.slice(0, 500))
  return encoding.toUint8Array(encoder)
}

export function decodeBlobResponseHeader (bytes: Uint8Array): BlobResponseHeader {
  const decoder = decoding.createDecoder(bytes)
  try {
    const status = decoding.readVarUint(decoder)
    if (status === BLOB_STATUS_OK) return { status, size: decoding.readVarUint(decoder) }
    if (status === BLOB_STATUS_NOT_FOUND || status === BLOB_STATUS_BAD_REQUEST) {
      return { status, message: decoding.readVarString(decoder) }
    }
    throw new BlobProtocolError(`unknown blob response status ${status}`)
  } catch (err) {
    if (err instanceof BlobProtocolError) throw err
    throw new BlobProtocolError(`malformed blob response: ${(err as Error).message}`)
  }
}
