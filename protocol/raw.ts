// The raw data protocol (/scanhub/raw/1.0.0): a worker that holds a job's lease asks the scanner for
// the job's MRD v1 stream from a byte offset; the scanner answers with one header frame, then the
// stream's bytes, unframed, exactly as it records them. One request per stream. Grammar in PROTOCOL.md.
import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'
import { MAX_JOB_ID_LENGTH } from './job.ts'

export const RAW_STATUS_OK = 0
/** no such job here, or it is not (any more) this worker's */
export const RAW_STATUS_REFUSED = 1
/** the request cannot be served as asked (an offset that is not a confirmed message boundary) */
export const RAW_STATUS_BAD_REQUEST = 2

export const MAX_RAW_REQUEST_LENGTH = 512
export const MAX_RAW_RESPONSE_HEADER_LENGTH = 2048

export interface RawRequest {
  jobId: string
  epoch: number
  /** 0, or the offset the grant named (a message boundary the scanner confirmed) */
  fromOffset: number
}

export type RawResponseHeader =
  /**
   * `preambleLength` bytes of the stream's start (its XML header and noise readouts, sent again so
   * that a resuming worker has them), then the stream from `startOffset` to its close message.
   */
  | { status: typeof RAW_STATUS_OK, preambleLength: number, startOffset: number }
  | { status: typeof RAW_STATUS_REFUSED | typeof RAW_STATUS_BAD_REQUEST, message: string }

export class RawProtocolError extends Error {
  override name = 'RawProtocolError'
}

/** request := varString(jobId) • varUint(epoch) • varUint(fromOffset) */
export function encodeRawRequest (request: RawRequest): Uint8Array {
  const encoder = encoding.createEncoder()
  encoding.writeVarString(encoder, request.jobId)
  encoding.writeVarUint(encoder, request.epoch)
  encoding.writeVarUint(encoder, request.fromOffset)
  return encoding.toUint8Array(encoder)
}

export function decodeRawRequest (bytes: Uint8Array): RawRequest {
  const decoder = decoding.createDecoder(bytes)
  let request: RawRequest
  try {
    request = { jobId: decoding.readVarString(decoder), epoch: decoding.readVarUint(decoder), fromOffset: decoding.readVarUint(decoder) }
  } catch (err) {
    throw new RawProtocolError(`malformed raw request: ${(err as Error).message}`)
  }
  if (request.jobId.length === 0 || request.jobId.length > MAX_JOB_ID_LENGTH) throw new RawProtocolError(`job id must have 1 to ${MAX_JOB_ID_LENGTH} characters`)
  if (decoding.hasContent(decoder)) throw new RawProtocolError('trailing bytes after a raw request')
  return request
}

/**
 * header(ok) := varUint(0) • varUint(preambleLength) • varUint(startOffset)
 * header(refused) := varUint(1 | 2) • varString(message)
 */
export function encodeRawResponseHeader (header: RawResponseHeader): Uint8Array {
  const encoder = encoding.createEncoder()
  encoding.writeVarUint(encoder, header.status)
  if (header.status === RAW_STATUS_OK) {
    encoding.writeVarUint(encoder, header.preambleLength)
    encoding.writeVarUint(encoder, header.startOffset)
  } else {
    encoding.writeVarString(encoder, header.message.slice(0, 500))
  }
  return encoding.toUint8Array(encoder)
}

export function decodeRawResponseHeader (bytes: Uint8Array): RawResponseHeader {
  const decoder = decoding.createDecoder(bytes)
  let header: RawResponseHeader
  try {
    const status = decoding.readVarUint(decoder)
    if (status === RAW_STATUS_OK) header = { status, preambleLength: decoding.readVarUint(decoder), startOffset: decoding.readVarUint(decoder) }
    else if (status === RAW_STATUS_REFUSED || status === RAW_STATUS_BAD_REQUEST) header = { status, message: decoding.readVarString(decoder) }
    else throw new RawProtocolError(`unknown raw response status ${status}`)
  } catch (err) {
    if (err instanceof RawProtocolError) throw err
    throw new RawProtocolError(`malformed raw response: ${(err as Error).message}`)
  }
  if (decoding.hasContent(decoder)) throw new RawProtocolError('trailing bytes after a raw response header')
  return header
}
