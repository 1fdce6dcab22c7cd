// The decoder faces bytes from the network and from disks: whatever they are, it must return
// messages or throw MrdProtocolError — never another error, never loop, never allocate what a length
// merely claims.
import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import type { MrdMessage } from './stream.ts'
import { MrdMessageId, encodeMrdMessage } from './stream.ts'
import { MrdStreamDecoder } from './stream-decoder.ts'
import type { MrdStreamLimits } from './stream-decoder.ts'
import { MrdProtocolError } from './errors.ts'
import { acquisition, image, waveform } from './test-arbitraries.ts'

// Small limits so that lying lengths are refused quickly and memory stays small whatever is drawn.
const LIMITS: MrdStreamLimits = { maxTextBytes: 4096, maxAcquisitionBytes: 1 << 16, maxImageAttributeBytes: 4096, maxImageBytes: 1 << 16, maxWaveformBytes: 4096 }

/** Feeds bytes in the given chunks; returns the messages, or the error thrown (which must be MrdProtocolError). */
function feed (bytes: Uint8Array, cuts: number[], limits: MrdStreamLimits = LIMITS): { messages: MrdMessage[], error?: unknown, finished: boolean } {
  const decoder = new MrdStreamDecoder(limits)
  const messages: MrdMessage[] = []
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b)
  let previous = 0
  try {
    for (const p of [...points, bytes.length]) {
      messages.push(...decoder.push(bytes.subarray(previous, p)))
      previous = p
    }
    decoder.finish()
    return { messages, finished: true }
  } catch (error) {
    return { messages, error, finished: false }
  }
}

function expectOnlyProtocolErrors (result: { error?: unknown }): void {
  if (result.error !== undefined) {
    expect(result.error).toBeInstanceOf(MrdProtocolError)
    expect((result.error as Error).message).toMatch(/^MRD stream/)
  }
}

const ids = [...Object.values(MrdMessageId), 0, 6, 8, 999, 1021, 0xffff]

/** A stream that starts with plausible ids so that the fuzz reaches past the id check. */
const idBiasedBytes = (): fc.Arbitrary<Uint8Array> => fc.array(fc.tuple(fc.constantFrom(...ids), fc.uint8Array({ maxLength: 600 })), { maxLength: 6 })
  .map((parts) => {
    const out: number[] = []
    for (const [id, body] of parts) out.push(id & 0xff, id >> 8, ...body)
    return Uint8Array.from(out)
  })

const validMessage = (): fc.Arbitrary<MrdMessage> => fc.oneof(
  fc.string({ maxLength: 50 }).map((xml) => ({ type: 'header' as const, xml })),
  fc.constant({ type: 'close' as const }),
  fc.string({ maxLength: 50 }).map((text) => ({ type: 'text' as const, text })),
  acquisition().map((a) => ({ type: 'acquisition' as const, acquisition: a })),
  image().map((i) => ({ type: 'image' as const, image: i })),
  waveform().map((w) => ({ type: 'waveform' as const, waveform: w }))
)

function concat (parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0))
  let at = 0
  for (const p of parts) { out.set(p, at); at += p.length }
  return out
}

describe('MRD stream decoder under fuzzing', () => {
  it('survives random bytes in random chunks', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 3000 }), fc.array(fc.nat(), { maxLength: 8 }), (bytes, cuts) => {
      expectOnlyProtocolErrors(feed(bytes, cuts))
    }), { numRuns: 2000 })
  })

  it('survives random bodies behind real message ids', () => {
    fc.assert(fc.property(idBiasedBytes(), fc.array(fc.nat(), { maxLength: 8 }), (bytes, cuts) => {
      const result = feed(bytes, cuts)
      expectOnlyProtocolErrors(result)
      // Whatever the chunking, the outcome is the same as fed at once.
      const atOnce = feed(bytes, [])
      expect(result.messages).toEqual(atOnce.messages)
      expect(result.finished).toBe(atOnce.finished)
    }), { numRuns: 2000 })
  })

  it('survives random bodies with the default limits', () => {
    fc.assert(fc.property(idBiasedBytes(), (bytes) => {
      expectOnlyProtocolErrors(feed(bytes, [], {}))
    }), { numRuns: 1000 })
  })

  it('decodes every prefix of a valid stream to a prefix of its messages, and says when it is cut', () => {
    fc.assert(fc.property(fc.array(validMessage(), { minLength: 1, maxLength: 5 }), fc.nat(), fc.array(fc.nat(), { maxLength: 4 }), (messages, cutAt, cuts) => {
      const encoded = messages.map((m) => encodeMrdMessage(m))
      const bytes = concat(encoded)
      const cut = cutAt % (bytes.length + 1)
      const result = feed(bytes.subarray(0, cut), cuts)
      let boundary = 0
      let complete = 0
      while (complete < encoded.length && boundary + encoded[complete].length <= cut) boundary += encoded[complete++].length
      expect(result.messages).toHaveLength(complete)
      expect(result.messages.map((m) => m.type)).toEqual(messages.slice(0, complete).map((m) => m.type))
      expect(result.finished).toBe(boundary === cut)
      if (!result.finished) expect((result.error as Error).message).toMatch(/truncated/)
    }), { numRuns: 500 })
  })

  it('survives valid streams with corrupted bytes (lying lengths, versions, ids)', () => {
    fc.assert(fc.property(
      fc.array(validMessage(), { minLength: 1, maxLength: 4 }),
      fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 6 }),
      fc.array(fc.nat(), { maxLength: 4 }),
      (messages, corruptions, cuts) => {
        const bytes = concat(messages.map((m) => encodeMrdMessage(m)))
        for (const [at, value] of corruptions) if (bytes.length > 0) bytes[at % bytes.length] = value
        expectOnlyProtocolErrors(feed(bytes, cuts))
      }), { numRuns: 1000 })
  })

  it('refuses the largest lengths each field can claim without waiting for them', () => {
    const claims: [string, number[]][] = [
      ['text', [3, 0, 0xff, 0xff, 0xff, 0xff]],
      ['config text', [2, 0, 0xff, 0xff, 0xff, 0x7f]]
    ]
    for (const [what, bytes] of claims) {
      const result = feed(Uint8Array.from(bytes), [], {})
      expect(result.error, what).toBeInstanceOf(MrdProtocolError)
      expect((result.error as Error).message, what).toMatch(/exceeds the limit/)
    }
  })
})
