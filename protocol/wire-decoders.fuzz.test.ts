// Every decoder of what arrives from the network (frames, sync, blob, raw requests, invites) answers
// arbitrary bytes with a value or its own named error, never a TypeError or RangeError that a caller
// would not expect (the job protocol and the MRD stream are fuzzed beside their own tests).
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { BlobProtocolError, decodeBlobRequest, decodeBlobResponseHeader } from './blob.ts'
import { FrameDecoder, FrameError } from './framing.ts'
import { decodeInvite, InviteError } from './invite.ts'
import { decodeRawRequest, decodeRawResponseHeader, RawProtocolError } from './raw.ts'
import { readSyncFrame, SyncProtocolError } from './sync.ts'

const RUNS = { numRuns: 3000 }

/** Calls `decode`; true when it returned or threw an `expected` error. */
function answers (decode: () => unknown, expected: new (...args: never[]) => Error): boolean {
  try {
    decode()
    return true
  } catch (err) {
    return err instanceof expected
  }
}

describe('decoders of network input, on arbitrary bytes', () => {
  it('sync frames', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => answers(() => readSyncFrame(bytes), SyncProtocolError)), RUNS)
  })

  it('blob requests and response headers', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) =>
      answers(() => decodeBlobRequest(bytes), BlobProtocolError) && answers(() => decodeBlobResponseHeader(bytes), BlobProtocolError)), RUNS)
  })

  it('raw requests and response headers', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) =>
      answers(() => decodeRawRequest(bytes), RawProtocolError) && answers(() => decodeRawResponseHeader(bytes), RawProtocolError)), RUNS)
  })

  it('length-prefixed frames, in chunks of any size, within the bound', () => {
    fc.assert(fc.property(fc.array(fc.uint8Array({ maxLength: 64 }), { maxLength: 20 }), (chunks) => {
      const decoder = new FrameDecoder(1024)
      return chunks.every((chunk) => answers(() => decoder.push(chunk), FrameError)) && decoder.pendingBytes <= 1024 + 10
    }), RUNS)
  })

  it('invites', () => {
    fc.assert(fc.property(fc.oneof(fc.string({ maxLength: 300 }), fc.string({ maxLength: 300 }).map((s) => `scanhub-invite:${s}`),
      fc.uint8Array({ maxLength: 200 }).map((b) => `scanhub-invite:${Buffer.from(b).toString('base64url')}`)), (text) => answers(() => decodeInvite(text), InviteError)), RUNS)
  })

  it('reach their refusals (the property is not vacuous)', () => {
    expect(answers(() => readSyncFrame(new Uint8Array([0xff, 0xff, 0xff])), SyncProtocolError)).toBe(true)
    expect(() => readSyncFrame(new Uint8Array([0xff, 0xff, 0xff]))).toThrow(SyncProtocolError)
    expect(() => decodeInvite('scanhub-invite:!!')).toThrow(InviteError)
  })
})
