// Every message survives its round trip through the payload codec, and a payload that is not exactly
// its message is refused with SerialProtocolError.
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { cartesianReadouts } from '../virtual/index.ts'
import { DeviceState, DoneStatus, ErrorCode, MessageType } from './constants.ts'
import { SerialProtocolError } from './errors.ts'
import { FrameDecoder } from './frame.ts'
import { decodeMessage, encodeMessage, messageFrame, plannedReadoutSize } from './messages.ts'
import type { Message } from './messages.ts'

const roundTrip = (m: Message): Message => decodeMessage({ type: m.type, sequence: 0, payload: encodeMessage(m) })

const readouts = [...cartesianReadouts({ matrix: [8, 4], fovM: 0.2, teS: 0.005, slices: 2, alternateReadDirection: true })]
readouts[1].isNoise = true
readouts[2].excitationTimeS = 0.125

const examples: Message[] = [
  { type: MessageType.HELLO },
  { type: MessageType.INFO, replyTo: 7, device: { manufacturer: 'ScanHub', model: 'Ω-1', serialNumber: 'S/N 1', firmware: '', fieldStrengthT: 0.0465, larmorFrequencyHz: 1_980_000, channels: 16 }, state: DeviceState.LOADED, capabilities: 3 },
  { type: MessageType.LOAD_SEQUENCE, total: 100, offset: 40, crc: 0xdeadbeef, chunk: Uint8Array.from({ length: 60 }, (_, i) => i) },
  { type: MessageType.LOAD_PLAN, total: 10, first: 2, readouts },
  { type: MessageType.START, readouts: 64, coils: 4, oversampling: 2, realTime: true, timing: { teS: 0.01, trS: 0.5, flipAngleDeg: 90, tiS: 0.3, kind: 'SE' }, fovM: [0.2, 0.2, 0.005], matrix: [64, 64, 1] },
  { type: MessageType.START, readouts: 1, coils: 1, oversampling: 1, realTime: false, timing: { teS: 0, trS: 1, flipAngleDeg: 10, kind: 'FID' }, fovM: [1, 1, 1], matrix: [1, 1, 1] },
  { type: MessageType.STOP },
  { type: MessageType.RESEND, first: 5, count: 3 },
  { type: MessageType.ADC_DATA, index: 3, channels: 2, samples: 3, data: Float32Array.of(1, -2, 3.5, 0, Number.MAX_VALUE, -0, 1e-30, 7, 8, 9, 10, 11) },
  { type: MessageType.PROGRESS, acquired: 10, total: 64 },
  { type: MessageType.DONE, status: DoneStatus.STOPPED, acquired: 10 },
  { type: MessageType.ERROR, code: ErrorCode.HARDWARE, text: 'gradient amplifier fault' },
  { type: MessageType.ACK, replyTo: 0xffff },
  { type: MessageType.NACK, replyTo: 1, code: ErrorCode.BAD_STATE, text: 'no sequence loaded' },
  { type: MessageType.PING },
  { type: MessageType.PONG, replyTo: 2, state: DeviceState.RUNNING, acquired: 5, total: 64 }
]

describe('messages', () => {
  it.each(examples.map((m) => [m.type, m] as const))('type 0x%s survives the round trip', (_type, m) => {
    expect(roundTrip(m)).toEqual(m)
  })

  it('sizes a planned readout as it encodes it', () => {
    const m: Message = { type: MessageType.LOAD_PLAN, total: 1, first: 0, readouts: [readouts[0]] }
    expect(encodeMessage(m)).toHaveLength(12 + plannedReadoutSize(readouts[0]))
  })

  it('goes through a frame and the decoder', () => {
    const bytes = Uint8Array.from(examples.flatMap((m, i) => [...messageFrame(m, i)]))
    const events = new FrameDecoder().push(bytes)
    expect(events.map((e) => e.kind === 'frame' ? decodeMessage(e.frame) : e)).toEqual(examples)
  })

  it('refuses payloads that are not exactly their message', () => {
    const bad = (type: number, payload: number[]): unknown => {
      try {
        return decodeMessage({ type, sequence: 0, payload: Uint8Array.from(payload) })
      } catch (error) {
        return error
      }
    }
    for (const [type, payload] of [
      [MessageType.ACK, [1]],
      [MessageType.ACK, [1, 0, 0]],
      [MessageType.PING, [0]],
      [MessageType.ADC_DATA, [0, 0, 0, 0, 1, 0, 1, 0, 0, 0, 1, 2, 3, 4]],
      [MessageType.ADC_DATA, [0, 0, 0, 0, 0, 0, 0, 0, 0, 0]],
      [MessageType.DONE, [9, 0, 0, 0, 0]],
      [MessageType.LOAD_SEQUENCE, [1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 7, 7]],
      [MessageType.ERROR, [1, 0, 2, 0, 0xff, 0xfe]],
      [0x7f, []]
    ] as const) {
      const result = bad(type, [...payload])
      expect(result, `type 0x${type.toString(16)} [${payload.join(' ')}]`).toBeInstanceOf(SerialProtocolError)
    }
  })

  it('refuses values their fields cannot hold', () => {
    expect(() => encodeMessage({ type: MessageType.RESEND, first: -1, count: 1 })).toThrow(SerialProtocolError)
    expect(() => encodeMessage({ type: MessageType.ERROR, code: 1, text: 'x'.repeat(2000) })).toThrow(SerialProtocolError)
    expect(() => encodeMessage({ type: MessageType.ADC_DATA, index: 0, channels: 2, samples: 2, data: new Float32Array(4) })).toThrow(SerialProtocolError)
  })

  it('reads any payload of any type into a message or SerialProtocolError, nothing else', () => {
    fc.assert(fc.property(fc.oneof(fc.constantFrom(...Object.values(MessageType)), fc.integer({ min: 0, max: 255 })), fc.uint8Array({ maxLength: 400 }), (type, payload) => {
      try {
        decodeMessage({ type, sequence: 0, payload })
      } catch (error) {
        expect(error).toBeInstanceOf(SerialProtocolError)
      }
    }), { numRuns: 3000 })
  })
})
