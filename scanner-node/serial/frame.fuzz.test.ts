// The decoder faces whatever a serial line delivers: whatever the bytes and however they are split,
// it must not throw, not loop, not hold more than one frame's worth of bytes, and never hand out a
// frame that was not sent; frames that were sent intact among garbage and damage must all come out.
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { HEADER_SIZE, SYNC, TRAILER_SIZE } from './constants.ts'
import { FrameDecoder, encodeFrame } from './frame.ts'
import type { DecodeEvent, Frame } from './frame.ts'

const MAX = 512

/** Pushes the bytes cut at the given points, then flushes; checks the bound on held bytes after every push. */
function feed (bytes: Uint8Array, cuts: number[], decoder = new FrameDecoder({ maxPayload: MAX })): DecodeEvent[] {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b)
  const events: DecodeEvent[] = []
  let previous = 0
  for (const p of [...points, bytes.length]) {
    events.push(...decoder.push(bytes.subarray(previous, p)))
    expect(decoder.buffered).toBeLessThanOrEqual(HEADER_SIZE + MAX + TRAILER_SIZE)
    previous = p
  }
  events.push(...decoder.flush())
  expect(decoder.buffered).toBe(0)
  return events
}

const framesOf = (events: DecodeEvent[]): Frame[] => events.flatMap((e) => e.kind === 'frame' ? [e.frame] : [])

const sentFrame = fc.record({
  type: fc.integer({ min: 0, max: 255 }),
  sequence: fc.integer({ min: 0, max: 0xffff }),
  payload: fc.uint8Array({ maxLength: MAX })
})

const concat = (parts: Uint8Array[]): Uint8Array => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0))
  let at = 0
  for (const p of parts) {
    out.set(p, at)
    at += p.length
  }
  return out
}

/** Bytes with plenty of sync pairs and near-headers in them, so that the fuzz exercises resynchronisation. */
const syncRich = fc.array(fc.oneof(
  fc.uint8Array({ maxLength: 40 }),
  fc.constant(Uint8Array.from(SYNC)),
  fc.tuple(fc.uint8Array({ minLength: 10, maxLength: 10 })).map(([rest]) => concat([Uint8Array.from(SYNC), Uint8Array.of(1), rest]))
), { maxLength: 40 }).map(concat)

describe('FrameDecoder under fuzz', () => {
  it('never throws, never holds more than a frame, and ends quickly, on any bytes in any chunks', () => {
    fc.assert(fc.property(fc.oneof(fc.uint8Array({ maxLength: 4000 }), syncRich), fc.array(fc.nat(), { maxLength: 20 }), (bytes, cuts) => {
      const t0 = performance.now()
      const events = feed(bytes, cuts)
      expect(performance.now() - t0).toBeLessThan(500)
      for (const e of events) expect(['frame', 'garbage', 'corrupt', 'truncated', 'version']).toContain(e.kind)
    }), { numRuns: 1000 })
  })

  it('returns every frame sent among garbage without sync bytes, in order, however the stream is cut', () => {
    const noSync = fc.uint8Array({ maxLength: 60 }).map((g) => g.map((b) => b === SYNC[0] ? 0 : b))
    fc.assert(fc.property(fc.array(fc.tuple(noSync, sentFrame), { maxLength: 12 }), noSync, fc.array(fc.nat(), { maxLength: 30 }), (parts, tail, cuts) => {
      const bytes = concat([...parts.flatMap(([garbage, f]) => [garbage, encodeFrame(f.type, f.sequence, f.payload)]), tail])
      const decoder = new FrameDecoder({ maxPayload: MAX })
      const events = feed(bytes, cuts, decoder)
      expect(framesOf(events)).toEqual(parts.map(([, f]) => f))
      expect(decoder.stats.garbageBytes).toBe(parts.reduce((n, [g]) => n + g.length, 0) + tail.length)
    }), { numRuns: 500 })
  })

  it('loses only the frames a damaged byte falls in, and hands out no frame that was not sent', () => {
    fc.assert(fc.property(fc.array(sentFrame, { minLength: 1, maxLength: 10 }), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })), { maxLength: 3 }), fc.array(fc.nat(), { maxLength: 10 }), (sent, damage, cuts) => {
      const encoded = sent.map((f) => encodeFrame(f.type, f.sequence, f.payload))
      const bytes = concat(encoded)
      const hit = new Set<number>()
      for (const [position, xor] of damage) {
        const at = position % bytes.length
        bytes[at] ^= xor
        let start = 0
        encoded.forEach((e, i) => {
          if (at >= start && at < start + e.length) hit.add(i)
          start += e.length
        })
      }
      const got = framesOf(feed(bytes, cuts))
      const untouched = sent.filter((_, i) => !hit.has(i))
      // Nothing made up: every frame out is one that was sent, in order.
      let j = 0
      for (const f of got) {
        while (j < sent.length && !(sent[j].type === f.type && sent[j].sequence === f.sequence && Buffer.from(sent[j].payload).equals(Buffer.from(f.payload)))) j++
        expect(j, 'a frame that was not sent').toBeLessThan(sent.length)
        j++
      }
      for (const f of untouched) expect(got).toContainEqual(f)
    }), { numRuns: 500 })
  })

  it('gives the same frames whether the stream comes in one piece or byte by byte', () => {
    fc.assert(fc.property(fc.array(fc.oneof(sentFrame.map((f) => encodeFrame(f.type, f.sequence, f.payload)), syncRich), { maxLength: 8 }), (parts) => {
      const bytes = concat(parts)
      const whole = framesOf(feed(bytes, []))
      const bytewise = framesOf(feed(bytes, Array.from({ length: bytes.length }, (_, i) => i)))
      expect(bytewise).toEqual(whole)
    }), { numRuns: 200 })
  })
})
