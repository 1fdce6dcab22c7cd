// The frame codec: its layout and checksums, and how the decoder copes with what a serial line does to
// frames (split, garbage between them, a flipped byte, a frame cut short, a line gone quiet).
import { crc32 as zlibCrc32 } from 'node:zlib'
import { describe, expect, it } from 'vitest'
import { HEADER_SIZE, MAX_PAYLOAD, MessageType, SYNC, TRAILER_SIZE } from './constants.ts'
import { crc16, crc32 } from './crc.ts'
import { FrameDecoder, encodeFrame } from './frame.ts'
import type { DecodeEvent, Frame } from './frame.ts'

const ascii = (text: string): Uint8Array => new TextEncoder().encode(text)
const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex')
const concat = (...parts: Uint8Array[]): Uint8Array => Uint8Array.from(parts.flatMap((p) => [...p]))
const frames = (events: DecodeEvent[]): Frame[] => events.flatMap((e) => e.kind === 'frame' ? [e.frame] : [])
const kinds = (events: DecodeEvent[]): string[] => events.map((e) => e.kind)

/** A header with a valid CRC-16 whatever its fields say. */
function header (version: number, type: number, sequence: number, length: number): Uint8Array {
  const h = new Uint8Array(HEADER_SIZE)
  const view = new DataView(h.buffer)
  h.set(SYNC, 0)
  h[2] = version
  h[3] = type
  view.setUint16(4, sequence, true)
  view.setUint32(6, length, true)
  view.setUint16(10, crc16(h, 2, 10), true)
  return h
}

describe('checksums', () => {
  it('CRC-32 has the ISO-HDLC check value and agrees with zlib', () => {
    expect(crc32(ascii('123456789'))).toBe(0xcbf43926)
    const bytes = Uint8Array.from({ length: 1000 }, (_, i) => (i * 7919) & 0xff)
    expect(crc32(bytes)).toBe(zlibCrc32(bytes))
    expect(crc32(bytes, 10, 500)).toBe(zlibCrc32(bytes.subarray(10, 500)))
  })

  it('CRC-16 has the CCITT-FALSE check value', () => {
    expect(crc16(ascii('123456789'))).toBe(0x29b1)
    expect(crc16(new Uint8Array(0))).toBe(0xffff)
  })
})

describe('encodeFrame', () => {
  it('lays out sync, version, type, sequence, length, header CRC, payload, CRC-32, little-endian', () => {
    const frame = encodeFrame(MessageType.ACK, 0x0102, Uint8Array.of(0x34, 0x12))
    expect(frame).toHaveLength(HEADER_SIZE + 2 + TRAILER_SIZE)
    expect(hex(frame.subarray(0, 10))).toBe('a55a' + '01' + '31' + '0201' + '02000000')
    const view = new DataView(frame.buffer)
    expect(view.getUint16(10, true)).toBe(crc16(frame, 2, 10))
    expect(hex(frame.subarray(12, 14))).toBe('3412')
    expect(view.getUint32(14, true)).toBe(zlibCrc32(frame.subarray(2, 14)))
  })

  it('refuses what a frame cannot carry', () => {
    expect(() => encodeFrame(256, 0, new Uint8Array(0))).toThrow(expect.objectContaining({ name: 'SerialProtocolError' }))
    expect(() => encodeFrame(1, 0x10000, new Uint8Array(0))).toThrow(expect.objectContaining({ name: 'SerialProtocolError' }))
    expect(() => encodeFrame(1, 0, new Uint8Array(MAX_PAYLOAD + 1))).toThrow(expect.objectContaining({ name: 'SerialProtocolError' }))
    expect(encodeFrame(1, 0, new Uint8Array(MAX_PAYLOAD))).toHaveLength(MAX_PAYLOAD + HEADER_SIZE + TRAILER_SIZE)
  })
})

describe('FrameDecoder', () => {
  const a = encodeFrame(MessageType.PING, 1, new Uint8Array(0))
  const b = encodeFrame(MessageType.ADC_DATA, 2, Uint8Array.from({ length: 300 }, (_, i) => i & 0xff))
  const c = encodeFrame(MessageType.ERROR, 3, ascii('xyz'))

  it('decodes frames in one chunk and byte by byte alike', () => {
    const whole = new FrameDecoder().push(concat(a, b, c))
    expect(frames(whole).map((f) => f.sequence)).toEqual([1, 2, 3])
    expect(frames(whole)[1].payload).toEqual(b.subarray(HEADER_SIZE, b.length - TRAILER_SIZE))
    const decoder = new FrameDecoder()
    const bytewise: DecodeEvent[] = []
    for (const byte of concat(a, b, c)) bytewise.push(...decoder.push(Uint8Array.of(byte)))
    expect(bytewise).toEqual(whole)
    expect(decoder.buffered).toBe(0)
    expect(decoder.stats).toMatchObject({ frames: 3, garbageBytes: 0 })
  })

  it('skips garbage between frames, false syncs included, and counts it', () => {
    const garbage = Uint8Array.of(0x00, 0xff, 0xa5, 0x13, 0xa5, 0x5a, 0x01, 0x20, 0x00, 0x00, 0xff, 0xff, 0xff, 0x7f, 0x00, 0x00, 0xa5)
    const decoder = new FrameDecoder()
    const events = decoder.push(concat(garbage, a, garbage, b, c, garbage))
    expect(frames(events).map((f) => f.sequence)).toEqual([1, 2, 3])
    // The trailing lone 0xA5 may begin the next frame's sync: it is held.
    expect(decoder.stats.garbageBytes).toBe(3 * garbage.length - 1)
    expect(decoder.buffered).toBe(1)
    expect(kinds(decoder.flush())).toEqual(['garbage'])
    expect(decoder.buffered).toBe(0)
  })

  it('reports a frame with a flipped byte as corrupt and goes on with the next', () => {
    const damaged = b.slice()
    damaged[100] ^= 0x01
    const decoder = new FrameDecoder()
    const events = decoder.push(concat(a, damaged, c))
    expect(kinds(events)).toEqual(['frame', 'corrupt', 'frame'])
    expect(events[1]).toEqual({ kind: 'corrupt', header: { type: MessageType.ADC_DATA, sequence: 2, length: 300 } })
    expect(decoder.stats.corruptFrames).toBe(1)
  })

  it('reports a frame cut short by the next one as truncated, with the bytes it got', () => {
    const cut = b.subarray(0, 150)
    // Once the bytes after the cut reach the announced length, the CRC fails and the next frame is found inside.
    const after = [c, ...Array<Uint8Array>(12).fill(a)]
    const events = new FrameDecoder().push(concat(a, cut, ...after))
    expect(kinds(events)).toEqual(['frame', 'truncated', ...after.map(() => 'frame')])
    expect(events[1]).toEqual({ kind: 'truncated', header: { type: MessageType.ADC_DATA, sequence: 2, length: 300 }, received: 150 })
  })

  it('waits for a frame announced long, and on flush (the line went quiet) finds the frames it seemed to swallow', () => {
    const decoder = new FrameDecoder()
    expect(decoder.push(concat(b.subarray(0, 150), c))).toEqual([])
    expect(decoder.partial).toEqual({ type: MessageType.ADC_DATA, sequence: 2, length: 300, received: 150 + c.length })
    const events = decoder.flush()
    expect(kinds(events)).toEqual(['truncated', 'frame'])
    expect(frames(events)[0].sequence).toBe(3)
    expect(decoder.buffered).toBe(0)
    expect(decoder.partial).toBeUndefined()
    expect(frames(decoder.push(a))).toHaveLength(1)
  })

  it('does not believe the length of a header whose CRC fails', () => {
    const lying = header(1, MessageType.ADC_DATA, 9, 50_000)
    lying[11] ^= 0xff
    const events = new FrameDecoder().push(concat(lying, a))
    expect(frames(events).map((f) => f.sequence)).toEqual([1])
  })

  it('takes a length above the bound for garbage, without waiting for it', () => {
    const events = new FrameDecoder({ maxPayload: 1000 }).push(concat(header(1, MessageType.ADC_DATA, 9, 1001), a))
    expect(kinds(events)).toEqual(['garbage', 'frame'])
    expect(() => new FrameDecoder({ maxPayload: MAX_PAYLOAD + 1 })).toThrow(RangeError)
  })

  it('reports a frame of another protocol version', () => {
    const decoder = new FrameDecoder()
    const events = decoder.push(concat(header(2, MessageType.INFO, 1, 0), new Uint8Array(4), a))
    expect(events[0]).toEqual({ kind: 'version', version: 2 })
    expect(frames(events)).toHaveLength(1)
    expect(decoder.stats.versionMismatches).toBe(1)
  })

  it('keeps no more than one frame of bytes, however the stream is fed', () => {
    const decoder = new FrameDecoder({ maxPayload: 4096 })
    const noise = Uint8Array.from({ length: 100_000 }, (_, i) => (i * 2654435761) >>> 24)
    for (let i = 0; i < noise.length; i += 777) decoder.push(noise.subarray(i, i + 777))
    expect(decoder.buffered).toBeLessThanOrEqual(HEADER_SIZE + 4096 + TRAILER_SIZE)
  })
})
