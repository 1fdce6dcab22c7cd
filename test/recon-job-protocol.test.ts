// The job and raw protocol codecs (protocol/job.ts, protocol/raw.ts): every message round-trips, and
// bytes that break the grammar or a bound are refused with a JobProtocolError / RawProtocolError, never
// another exception and never a silent misread.
import * as encoding from 'lib0/encoding'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  JobProtocolError, MAX_JOB_ID_LENGTH, decodeJobMessage, encodeJobMessage, parseJobDescription, type JobDescription, type JobMessage
} from '../protocol/job.ts'
import {
  RawProtocolError, decodeRawRequest, decodeRawResponseHeader, encodeRawRequest, encodeRawResponseHeader
} from '../protocol/raw.ts'

const description: JobDescription = {
  taskId: 'task-1',
  inputTaskId: 'task-0',
  patientId: 'p-1',
  examId: 'e-1',
  pipeline: 'default',
  options: { chain: [{ stage: 'accumulate' }] },
  patient: { id: 'p-1', firstName: 'Ada', lastName: 'Lovelace', birthDate: '1985-12-10', sex: 'FEMALE' },
  study: { id: 'e-1', name: 'Head', dateTime: '2026-01-02T03:04:05.000Z' },
  series: { id: 'task-1@2026', number: 2, name: 'Recon' },
  equipment: { manufacturer: 'ScanHub', model: 'Virtual scanner', fieldStrengthT: 0.05 }
}

const messages: JobMessage[] = [
  { type: 'hello', name: 'recon laptop', slots: 2 },
  { type: 'renew', jobId: 'task-1@2026-01-02T03:04:05.000Z', epoch: 3 },
  { type: 'unit-done', jobId: 'j', epoch: 1, unitKey: '3.0.0.1.0', confirmedOffset: 123456789012, files: [{ name: 'IM00004.dcm', sha256: 'ab'.repeat(32), size: 131_072 }] },
  { type: 'progress', jobId: 'j', epoch: 1, acquisitions: 4096, images: 12, confirmedOffset: 99 },
  { type: 'done', jobId: 'j', epoch: 2, images: 64 },
  { type: 'failed', jobId: 'j', epoch: 2, fatal: true, message: 'MrdProtocolError: unknown message id 7' },
  { type: 'failed', jobId: 'j', epoch: 2, fatal: false, message: 'stopping' },
  { type: 'grant', jobId: 'j', epoch: 7, leaseMs: 15_000, resumeOffset: 4242, doneUnits: ['0.0.0.0.0', '1.0.0.0.0'], description },
  { type: 'ack', jobId: 'j', epoch: 7, unitKey: '1.0.0.0.0' },
  { type: 'ack', jobId: 'j', epoch: 7, unitKey: '' },
  { type: 'revoke', jobId: 'j', epoch: 7, reason: 'lease lapsed' },
  { type: 'error', message: 'unknown job message type 9' }
]

function bytes (...parts: Array<(e: encoding.Encoder) => void>): Uint8Array {
  const e = encoding.createEncoder()
  for (const p of parts) p(e)
  return encoding.toUint8Array(e)
}
const uint = (n: number) => (e: encoding.Encoder) => { encoding.writeVarUint(e, n) }
const str = (s: string) => (e: encoding.Encoder) => { encoding.writeVarString(e, s) }

describe('job protocol codec', () => {
  it.each(messages.map((m) => [m.type, m] as const))('round-trips %s', (_type, message) => {
    expect(decodeJobMessage(encodeJobMessage(message))).toEqual(message)
  })

  it('refuses what breaks the grammar, with JobProtocolError', () => {
    const cases: Array<[Uint8Array, RegExp]> = [
      [bytes(uint(9)), /unknown job message type 9/],
      [new Uint8Array([]), /malformed job message/],
      [bytes(uint(1), str('j'), uint(1), uint(5)), /trailing bytes after a job message of type renew/],
      [bytes(uint(1), str(''), uint(1)), /empty job id/],
      [bytes(uint(1), str('x'.repeat(MAX_JOB_ID_LENGTH + 1)), uint(1)), /job id of 257 characters exceeds 256/],
      [bytes(uint(2), str('j'), uint(1), str('0.0.0'), uint(0), uint(0)), /unit key '0.0.0' is not/],
      [bytes(uint(2), str('j'), uint(1), str('0.0.0.0.0'), uint(0), uint(1), str('a.dcm'), str('XYZ'), uint(1)), /64 lowercase hex/],
      [bytes(uint(2), str('j'), uint(1), str('0.0.0.0.0'), uint(0), uint(1), str('../a.dcm'), str('a'.repeat(64)), uint(1)), /path separator/],
      [bytes(uint(2), str('j'), uint(1), str('0.0.0.0.0'), uint(0), uint(1_000_000)), /1000000 files exceed the limit of 4096/],
      [bytes(uint(5), str('j'), uint(1), uint(2), str('x')), /fatal must be 0 or 1/],
      [bytes(uint(16), str('j'), uint(1), uint(1000), uint(0), uint(0), str('{')), /job description is not JSON/],
      [bytes(uint(16), str('j'), uint(1), uint(1000), uint(0), uint(0), str('{"taskId":1}')), /taskId must be a string/],
      // a lying string length: 2^40 bytes announced, 3 present
      [bytes(uint(31), uint(2 ** 40), (e) => { encoding.writeUint8Array(e, new Uint8Array([1, 2, 3])) }), /malformed job message/]
    ]
    for (const [input, expected] of cases) {
      let error: unknown
      try { decodeJobMessage(input) } catch (err) { error = err }
      expect(error, String(expected)).toBeInstanceOf(JobProtocolError)
      expect((error as Error).message).toMatch(expected)
    }
  })

  it('never throws anything but JobProtocolError on arbitrary bytes', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), (input) => {
      try {
        decodeJobMessage(input)
      } catch (err) {
        return err instanceof JobProtocolError
      }
      return true
    }), { numRuns: 3000 })
  })

  it('checks the description a grant carries', () => {
    expect(parseJobDescription(JSON.stringify(description))).toEqual(description)
    expect(() => parseJobDescription(JSON.stringify({ ...description, study: { id: 'e', dateTime: 'yesterday' } }))).toThrow(/study needs/)
    expect(() => parseJobDescription(JSON.stringify({ ...description, series: { id: 's', name: 'n', number: -1 } }))).toThrow(/series needs/)
    expect(() => parseJobDescription('[]')).toThrow(/not an object/)
  })

  it('refuses to encode what it could not decode', () => {
    expect(() => encodeJobMessage({ type: 'renew', jobId: 'x'.repeat(300), epoch: 1 })).toThrow(JobProtocolError)
  })
})

describe('raw protocol codec', () => {
  it('round-trips requests and response headers', () => {
    const request = { jobId: 'task@2026', epoch: 4, fromOffset: 2 ** 40 }
    expect(decodeRawRequest(encodeRawRequest(request))).toEqual(request)
    for (const header of [
      { status: 0, preambleLength: 5000, startOffset: 123456 },
      { status: 1, message: 'no job here' },
      { status: 2, message: 'offset 3 is not the confirmed offset' }
    ] as const) {
      expect(decodeRawResponseHeader(encodeRawResponseHeader(header))).toEqual(header)
    }
  })

  it('refuses malformed requests and headers with RawProtocolError', () => {
    expect(() => decodeRawRequest(new Uint8Array([0xff, 0xff, 0xff]))).toThrow(RawProtocolError)
    expect(() => decodeRawRequest(bytes(str(''), uint(1), uint(0)))).toThrow(/job id must have 1 to 256/)
    expect(() => decodeRawRequest(bytes(str('j'), uint(1), uint(0), uint(0)))).toThrow(/trailing bytes/)
    expect(() => decodeRawResponseHeader(bytes(uint(7)))).toThrow(/unknown raw response status 7/)
    expect(() => decodeRawResponseHeader(bytes(uint(0), uint(1)))).toThrow(/malformed raw response/)
    fc.assert(fc.property(fc.uint8Array({ maxLength: 64 }), (input) => {
      for (const decode of [decodeRawRequest, decodeRawResponseHeader]) {
        try { decode(input) } catch (err) { if (!(err instanceof RawProtocolError)) return false }
      }
      return true
    }), { numRuns: 2000 })
  })
})
