import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import type { Acquisition } from './types.ts'
import type { MrdMessage } from './stream.ts'
import {
  MrdMessageId, encodeAcquisitionMessage, encodeCloseMessage, encodeConfigFileMessage, encodeConfigTextMessage,
  encodeHeaderMessage, encodeImageMessage, encodeMrdMessage, encodeTextMessage, encodeWaveformMessage,
  isAcquisitionMessage, isCloseMessage, isHeaderMessage, isImageMessage
} from './stream.ts'
import { DEFAULT_MRD_STREAM_LIMITS, MrdStreamDecoder, decodeMrdStream } from './stream-decoder.ts'
import { emptyAcquisitionHeader } from './acquisition-header.ts'
import { ImageDataType, emptyImageHeader } from './image-header.ts'
import { emptyWaveformHeader } from './waveform.ts'
import { MrdProtocolError } from './errors.ts'
import { acquisition, image, waveform } from './test-arbitraries.ts'

function concat (parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0))
  let at = 0
  for (const p of parts) { out.set(p, at); at += p.length }
  return out
}

function makeAcquisition (scan: number, samples: number, channels: number, dims = 0): Acquisition {
  const head = { ...emptyAcquisitionHeader(), scanCounter: scan, numberOfSamples: samples, activeChannels: channels, availableChannels: channels, trajectoryDimensions: dims }
  head.idx.kspaceEncodeStep1 = scan
  const traj = Float32Array.from({ length: dims * samples }, (_, i) => i / 10)
  const data = Float32Array.from({ length: 2 * channels * samples }, (_, i) => scan * 1000 + i + 0.25)
  return { head, traj, data }
}

const messageArbitrary = (): fc.Arbitrary<MrdMessage> => fc.oneof(
  fc.string({ maxLength: 100 }).filter((s) => !s.includes('\u0000')).map((name) => ({ type: 'config-file' as const, name: name.slice(0, 300) })),
  fc.string({ maxLength: 200 }).map((text) => ({ type: 'config-text' as const, text })),
  fc.string({ maxLength: 200 }).map((xml) => ({ type: 'header' as const, xml })),
  fc.constant({ type: 'close' as const }),
  fc.string({ maxLength: 200 }).map((text) => ({ type: 'text' as const, text })),
  acquisition().map((a) => ({ type: 'acquisition' as const, acquisition: a })),
  image().map((i) => ({ type: 'image' as const, image: i })),
  waveform().map((w) => ({ type: 'waveform' as const, waveform: w }))
)

/** Strings that end in NUL lose it on the wire (readers strip one); the generator avoids that case. */
const wireSafe = (m: MrdMessage): boolean => !('text' in m && m.text.endsWith('\u0000')) && !('xml' in m && m.xml.endsWith('\u0000'))

describe('MRD stream messages', () => {
  it('lays out the simple messages byte for byte', () => {
    expect([...encodeCloseMessage()]).toEqual([4, 0])
    expect([...encodeHeaderMessage('<a/>')]).toEqual([3, 0, 4, 0, 0, 0, 60, 97, 47, 62])
    expect([...encodeHeaderMessage('<a/>', { nulTerminated: true })]).toEqual([3, 0, 5, 0, 0, 0, 60, 97, 47, 62, 0])
    expect([...encodeTextMessage('é')]).toEqual([5, 0, 2, 0, 0, 0, 0xc3, 0xa9])
    expect([...encodeConfigTextMessage('')]).toEqual([2, 0, 0, 0, 0, 0])
    const config = encodeConfigFileMessage('default.xml')
    expect(config.length).toBe(2 + 1024)
    expect([...config.subarray(0, 2)]).toEqual([1, 0])
    expect(new TextDecoder().decode(config.subarray(2, 13))).toBe('default.xml')
    expect(config.subarray(13).every((b) => b === 0)).toBe(true)
  })

  it('lays out an acquisition as id • header • trajectory • data', () => {
    const acq = makeAcquisition(5, 3, 2, 2)
    const bytes = encodeAcquisitionMessage(acq)
    expect(bytes.length).toBe(2 + 340 + 4 * 2 * 3 + 8 * 2 * 3)
    const view = new DataView(bytes.buffer)
    expect(view.getUint16(0, true)).toBe(1008)
    expect(view.getUint32(2 + 14, true)).toBe(5) // scan_counter
    expect(view.getUint16(2 + 34, true)).toBe(3) // number_of_samples
    expect(view.getUint16(2 + 38, true)).toBe(2) // active_channels
    expect(view.getUint16(2 + 176, true)).toBe(2) // trajectory_dimensions
    expect(view.getFloat32(2 + 340 + 4, true)).toBeCloseTo(0.1) // traj[1]
    expect(view.getFloat32(2 + 340 + 24, true)).toBe(5000.25) // data[0].re
    expect(view.getFloat32(2 + 340 + 24 + 4 * 11, true)).toBe(5011.25) // last value
  })

  it('lays out an image as id • header • u64 attribute length • attributes • pixels', () => {
    const head = { ...emptyImageHeader(), dataType: ImageDataType.USHORT, matrixSize: [2, 2, 1] as [number, number, number], attributeStringLen: 999 }
    const bytes = encodeImageMessage({ head, attributes: '<m/>', data: Uint16Array.of(1, 2, 3, 65535) })
    const view = new DataView(bytes.buffer)
    expect(view.getUint16(0, true)).toBe(1022)
    expect(view.getUint32(2 + 194, true)).toBe(4) // attribute_string_len follows the text, not the caller
    expect(view.getBigUint64(2 + 198, true)).toBe(4n)
    expect(new TextDecoder().decode(bytes.subarray(208, 212))).toBe('<m/>')
    expect([...new Uint16Array(bytes.slice(212).buffer)]).toEqual([1, 2, 3, 65535])
    expect(bytes.length).toBe(212 + 8)
  })

  it('round-trips every kind of message, fed at once or byte by byte', () => {
    fc.assert(fc.property(fc.array(messageArbitrary().filter(wireSafe), { maxLength: 8 }), (messages) => {
      const bytes = concat(messages.map((m) => encodeMrdMessage(m)))
      expect(decodeMrdStream(bytes)).toEqual(messages)
      const decoder = new MrdStreamDecoder()
      const oneByOne: MrdMessage[] = []
      for (let i = 0; i < bytes.length; i++) oneByOne.push(...decoder.push(bytes.subarray(i, i + 1)))
      decoder.finish()
      expect(oneByOne).toEqual(messages)
      expect(decoder.offset).toBe(bytes.length)
    }), { numRuns: 150 })
  })

  it('decodes the same messages whatever the chunking', () => {
    fc.assert(fc.property(fc.array(messageArbitrary().filter(wireSafe), { minLength: 1, maxLength: 6 }), fc.array(fc.integer({ min: 0, max: 2000 }), { maxLength: 10 }), (messages, cuts) => {
      const bytes = concat(messages.map((m) => encodeMrdMessage(m)))
      const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b)
      const decoder = new MrdStreamDecoder()
      const out: MrdMessage[] = []
      let previous = 0
      for (const p of [...points, bytes.length]) {
        out.push(...decoder.push(bytes.subarray(previous, p)))
        previous = p
      }
      decoder.finish()
      expect(out).toEqual(messages)
    }), { numRuns: 150 })
  })

  it('strips one trailing NUL from text messages, as Python clients send it', () => {
    const [header, text] = decodeMrdStream(concat([encodeHeaderMessage('<x/>', { nulTerminated: true }), encodeTextMessage('log\u0000', { nulTerminated: true })]))
    expect(header).toEqual({ type: 'header', xml: '<x/>' })
    expect(text).toEqual({ type: 'text', text: 'log\u0000' })
  })

  it('narrows messages with the type guards', () => {
    const messages = decodeMrdStream(concat([encodeHeaderMessage('<h/>'), encodeAcquisitionMessage(makeAcquisition(1, 4, 1)), encodeCloseMessage()]))
    expect(messages.filter(isHeaderMessage).map((m) => m.xml)).toEqual(['<h/>'])
    expect(messages.filter(isAcquisitionMessage).map((m) => m.acquisition.head.scanCounter)).toEqual([1])
    expect(messages.filter(isCloseMessage)).toHaveLength(1)
    expect(messages.filter(isImageMessage)).toHaveLength(0)
  })

  it('reports the offset after each complete message and resumes from it', () => {
    const parts = [encodeHeaderMessage('<h/>'), ...[0, 1, 2, 3].map((i) => encodeAcquisitionMessage(makeAcquisition(i, 8, 2))), encodeCloseMessage()]
    const bytes = concat(parts)
    const first = new MrdStreamDecoder()
    const cut = parts[0].length + parts[1].length + parts[2].length + 100 // inside the third acquisition
    const before = first.push(bytes.subarray(0, cut))
    expect(before.map((m) => m.type)).toEqual(['header', 'acquisition', 'acquisition'])
    expect(first.offset).toBe(parts[0].length + parts[1].length + parts[2].length)
    expect(first.bufferedBytes).toBe(100)
    expect(() => first.finish()).toThrow(/truncated at offset/)

    const resumed = new MrdStreamDecoder({ startOffset: first.offset })
    const after = resumed.push(bytes.subarray(first.offset))
    resumed.finish()
    expect(after.map((m) => m.type)).toEqual(['acquisition', 'acquisition', 'close'])
    expect((after[0] as { acquisition: Acquisition }).acquisition.head.scanCounter).toBe(2)
    expect(resumed.offset).toBe(bytes.length)
  })

  it('keeps decoded arrays independent of the pushed chunks', () => {
    const bytes = encodeAcquisitionMessage(makeAcquisition(3, 4, 1))
    const [m] = decodeMrdStream(bytes)
    bytes.fill(0)
    expect((m as { acquisition: Acquisition }).acquisition.data[0]).toBe(3000.25)
  })

  it('refuses to encode arrays that disagree with the header', () => {
    const acq = makeAcquisition(1, 4, 2)
    expect(() => encodeAcquisitionMessage({ ...acq, data: new Float32Array(3) })).toThrow(/2 × activeChannels × numberOfSamples = 16/)
    expect(() => encodeAcquisitionMessage({ ...acq, traj: new Float32Array(1) })).toThrow(MrdProtocolError)
    const head = { ...emptyImageHeader(), dataType: ImageDataType.CXFLOAT, matrixSize: [2, 1, 1] as [number, number, number] }
    expect(() => encodeImageMessage({ head, attributes: '', data: new Float32Array(2) })).toThrow(/announces 4 values/)
    expect(() => encodeImageMessage({ head, attributes: '', data: new Float64Array(4) })).toThrow(/Float32Array/)
    expect(() => encodeImageMessage({ head: { ...head, dataType: 9 }, attributes: '', data: new Float32Array(4) })).toThrow(/data type 9/)
    expect(() => encodeWaveformMessage({ head: { ...emptyWaveformHeader(), channels: 1, numberOfSamples: 2 }, data: new Uint32Array(1) })).toThrow(MrdProtocolError)
    expect(() => encodeConfigFileMessage('x'.repeat(1024))).toThrow(/at most 1023/)
  })
})

describe('MRD stream decoder limits and errors', () => {
  const u16 = (n: number): Uint8Array => Uint8Array.of(n & 0xff, n >> 8)
  const u32 = (n: number): Uint8Array => { const b = new Uint8Array(4); new DataView(b.buffer).setUint32(0, n, true); return b }

  function expectProtocolError (fn: () => unknown, message: RegExp): void {
    let caught: unknown
    try { fn() } catch (err) { caught = err }
    expect(caught).toBeInstanceOf(MrdProtocolError)
    expect((caught as Error).name).toBe('MrdProtocolError')
    expect((caught as Error).message).toMatch(message)
  }

  it('refuses unknown message ids, naming Gadgetron-internal ones', () => {
    expectProtocolError(() => new MrdStreamDecoder().push(u16(999)), /unknown message id 999/)
    expectProtocolError(() => new MrdStreamDecoder().push(u16(8)), /Gadgetron ERROR/)
    expectProtocolError(() => new MrdStreamDecoder().push(u16(1021)), /IMAGE_ARRAY/)
  })

  it('refuses a lying text length as soon as the length arrives, before any payload', () => {
    const decoder = new MrdStreamDecoder()
    expectProtocolError(() => decoder.push(concat([u16(3), u32(0xffffffff)])), /text of message 3 of 4294967295 bytes exceeds the limit of 16777216/)
    // The decoder stays failed.
    expectProtocolError(() => decoder.push(encodeCloseMessage()), /exceeds the limit/)
    expectProtocolError(() => new MrdStreamDecoder({ maxTextBytes: 3 }).push(encodeHeaderMessage('<a/>')), /maxTextBytes/)
    expect(new MrdStreamDecoder({ maxTextBytes: 4 }).push(encodeHeaderMessage('<a/>'))).toHaveLength(1)
  })

  it('refuses oversized acquisitions from their header alone', () => {
    /** The 342 bytes of id and header announcing `samples` × `channels`, without the data. */
    const headerOnly = (samples: number, channels: number): Uint8Array => {
      const bytes = encodeAcquisitionMessage(makeAcquisition(0, 0, 0)).slice(0, 342)
      new DataView(bytes.buffer).setUint16(2 + 34, samples, true)
      new DataView(bytes.buffer).setUint16(2 + 38, channels, true)
      return bytes
    }
    expect(8 * 4 * 65535).toBeLessThan(DEFAULT_MRD_STREAM_LIMITS.maxAcquisitionBytes)
    expect(new MrdStreamDecoder().push(headerOnly(65535, 4))).toEqual([]) // 2 MiB: acceptable, waits for the data
    expectProtocolError(() => new MrdStreamDecoder({ maxAcquisitionBytes: 1024 }).push(headerOnly(65535, 4)), /acquisition \(4 channels × 65535 samples, 0 trajectory dimensions\) of 2097120 bytes exceeds the limit of 1024/)
    expectProtocolError(() => new MrdStreamDecoder().push(headerOnly(65535, 65535)), /of 34358689800 bytes exceeds the limit of 67108864 bytes \(maxAcquisitionBytes\)/)
  })

  it('refuses header versions other than 1 and more than 3 trajectory dimensions', () => {
    const bytes = encodeAcquisitionMessage(makeAcquisition(0, 2, 1))
    const v2 = bytes.slice()
    new DataView(v2.buffer).setUint16(2, 2, true)
    expectProtocolError(() => decodeMrdStream(v2), /acquisition header version 2/)
    const d4 = bytes.slice()
    new DataView(d4.buffer).setUint16(2 + 176, 4, true)
    expectProtocolError(() => decodeMrdStream(d4), /4 trajectory dimensions, at most 3/)
    const image = encodeImageMessage({ head: { ...emptyImageHeader(), dataType: 5 }, attributes: '', data: new Float32Array(0) })
    const badImage = image.slice()
    new DataView(badImage.buffer).setUint16(2, 0, true)
    expectProtocolError(() => decodeMrdStream(badImage), /image header version 0/)
    const badType = image.slice()
    new DataView(badType.buffer).setUint16(4, 11, true)
    expectProtocolError(() => decodeMrdStream(badType), /image data type 11/)
  })

  it('refuses lying image attribute lengths and oversized images', () => {
    const image = encodeImageMessage({ head: { ...emptyImageHeader(), dataType: 7, matrixSize: [1, 1, 1] }, attributes: 'ab', data: new Float32Array(2) })
    const lying = image.slice()
    new DataView(lying.buffer).setBigUint64(2 + 198, 2n ** 63n, true)
    expectProtocolError(() => new MrdStreamDecoder().push(lying), /image attributes of 9223372036854775808 bytes exceed/)
    const big = image.slice()
    const view = new DataView(big.buffer)
    for (const i of [0, 1, 2]) view.setUint16(2 + 16 + 2 * i, 65535, true)
    expectProtocolError(() => new MrdStreamDecoder().push(big), /image 65535×65535×65535 × 1 channels of data type 7 .* exceeds the limit of 268435456/)
  })

  it('refuses oversized waveforms', () => {
    const w = encodeWaveformMessage({ head: { ...emptyWaveformHeader(), channels: 2, numberOfSamples: 3 }, data: new Uint32Array(6) })
    expectProtocolError(() => new MrdStreamDecoder({ maxWaveformBytes: 20 }).push(w), /waveform \(2 channels × 3 samples\) of 24 bytes/)
  })

  it('hands over the messages before a fault and throws on the next call', () => {
    const decoder = new MrdStreamDecoder()
    const good = concat([encodeHeaderMessage('<h/>'), encodeCloseMessage()])
    expect(decoder.push(concat([good, u16(77)])).map((m) => m.type)).toEqual(['header', 'close'])
    expect(decoder.offset).toBe(good.length)
    expectProtocolError(() => decoder.finish(), /offset 12: unknown message id 77/)
    expectProtocolError(() => decoder.push(encodeCloseMessage()), /unknown message id 77/)
  })

  it('lays out the 40-byte waveform header with natural alignment', () => {
    const head = { ...emptyWaveformHeader(), flags: 0x0102030405060708n, measurementUid: 9, scanCounter: 10, timeStamp: 11, numberOfSamples: 2, channels: 1, sampleTimeUs: 2.5, waveformId: 3 }
    const bytes = encodeWaveformMessage({ head, data: Uint32Array.of(7, 8) })
    const view = new DataView(bytes.buffer, 2)
    expect(bytes.length).toBe(2 + 40 + 8)
    expect(view.getUint16(0, true)).toBe(1)
    expect([...bytes.subarray(4, 10)]).toEqual([0, 0, 0, 0, 0, 0]) // padding before flags
    expect(view.getBigUint64(8, true)).toBe(0x0102030405060708n)
    expect([view.getUint32(16, true), view.getUint32(20, true), view.getUint32(24, true)]).toEqual([9, 10, 11])
    expect([view.getUint16(28, true), view.getUint16(30, true)]).toEqual([2, 1])
    expect(view.getFloat32(32, true)).toBe(2.5)
    expect(view.getUint16(36, true)).toBe(3)
    expect([view.getUint32(40, true), view.getUint32(44, true)]).toEqual([7, 8])
  })

  it('reports truncation at finish()', () => {
    expectProtocolError(() => decodeMrdStream(Uint8Array.of(3)), /truncated at offset 0: 1 bytes of a message id/)
    const bytes = concat([encodeCloseMessage(), encodeAcquisitionMessage(makeAcquisition(0, 4, 1))])
    expectProtocolError(() => decodeMrdStream(bytes.subarray(0, bytes.length - 1)), /truncated at offset 2: 373 bytes of message 1008 but 374 needed/)
    expect(decodeMrdStream(new Uint8Array(0))).toEqual([])
  })

  it('checks its own limits', () => {
    expect(() => new MrdStreamDecoder({ maxTextBytes: -1 })).toThrow(RangeError)
    expect(() => new MrdStreamDecoder({ startOffset: 1.5 })).toThrow(RangeError)
  })

  it('keeps byte-by-byte feeding of a large acquisition linear', () => {
    const bytes = encodeAcquisitionMessage(makeAcquisition(0, 4096, 8)) // 256 KiB
    const decoder = new MrdStreamDecoder()
    const started = performance.now()
    let count = 0
    for (let i = 0; i < bytes.length; i++) count += decoder.push(bytes.subarray(i, i + 1)).length
    expect(count).toBe(1)
    expect(performance.now() - started).toBeLessThan(5000)
  })

  it('exposes the message ids Gadgetron uses', () => {
    expect(MrdMessageId).toEqual({ CONFIG_FILE: 1, CONFIG_TEXT: 2, HEADER: 3, CLOSE: 4, TEXT: 5, ACQUISITION: 1008, IMAGE: 1022, WAVEFORM: 1026 })
  })
})
