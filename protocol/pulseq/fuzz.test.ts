// A .seq file can come from anywhere on the lab network: whatever the bytes, the reader must answer
// quickly with a Sequence or a SeqParseError, and never with any other error, a hang or a huge
// allocation. What it accepts must then be safe to summarise.

// eslint-disable-next-line no-restricted-imports -- tests read the shared fixtures from disk; the library does no I/O
import { readdirSync, readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { fixture, hasFixtures } from '../../test/support/external-tools.ts'
import { SeqLimitError, SeqParseError } from './errors.ts'
import { parseSeq } from './parse.ts'
import { summarize } from './summary.ts'
import type { Sequence } from './types.ts'

/** Time allowed for one parse of a fixture-sized input, ms (typical: a few ms). */
const BOUND_MS = 1500
/**
 * Time allowed for a file that reaches the reader's limits: two shapes of 10 million samples each are
 * within them and are decompressed (160 MB) before the third is refused, seconds on a busy machine.
 */
const AT_THE_LIMITS_BOUND_MS = 20_000

/** Parses, checking the outcome and the time taken; returns the sequence if it was accepted. */
function parseBounded (text: string): Sequence | undefined {
  const t0 = performance.now()
  let seq: Sequence | undefined
  try {
    seq = parseSeq(text)
  } catch (e) {
    if (!(e instanceof SeqParseError)) throw new Error(`parseSeq threw ${(e as Error)?.name}: ${(e as Error)?.message}`)
    expect(e.name).toBe('SeqParseError')
    expect(e.message.length).toBeGreaterThan(0)
    expect(e.message.length).toBeLessThan(500)
  }
  expect(performance.now() - t0).toBeLessThan(BOUND_MS)
  return seq
}

/** What the reader accepted must also be safe to interpret: only limit errors are allowed. */
function summarizeIfSmall (seq: Sequence | undefined): void {
  if (seq === undefined) return
  let samples = 0
  for (let b = 0; b < seq.blocks.length; b++) samples += seq.adc.get(seq.blocks.adc[b])?.numSamples ?? 0
  if (samples > 2_000_000) return
  try {
    const s = summarize(seq)
    expect(Number.isFinite(s.durationS)).toBe(true)
  } catch (e) {
    if (!(e instanceof SeqLimitError)) throw e
  }
}

const FIXTURES = hasFixtures() ? readdirSync(fixture('pulseq')).filter((f) => f.endsWith('.seq')).sort() : []
const texts = new Map(FIXTURES.map((f) => [f, readFileSync(fixture('pulseq', f), 'utf8')]))

const hostileToken = fc.oneof(
  fc.constantFrom('NaN', 'Infinity', '-1', '0', '-0', '1e308', '1e999', '999999999999', '4294967297', '2147483648', '1e-320',
    '0x10', '1,5', '', ' ', '#', '[RF]', '[SHAPES]', '[SIGNATURE]', 'shape_id', 'num_samples', 'extension LABELSET 1', '__proto__'),
  fc.integer({ min: -5, max: 100 }).map(String),
  fc.double({ noNaN: false }).map(String),
  fc.string({ maxLength: 12 })
)

/** One change to the lines of a file. */
const lineMutation = fc.oneof(
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('duplicate' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('swap' as const), at: fc.nat(), other: fc.nat() }),
  fc.record({ kind: fc.constant('token' as const), at: fc.nat(), column: fc.nat(8), value: hostileToken }),
  fc.record({ kind: fc.constant('replace' as const), at: fc.nat(), value: fc.array(hostileToken, { maxLength: 9 }).map((t) => t.join(' ')) }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), value: fc.array(hostileToken, { maxLength: 9 }).map((t) => t.join(' ')) })
)

type LineMutation = typeof lineMutation extends fc.Arbitrary<infer T> ? T : never

function mutate (text: string, mutations: LineMutation[]): string {
  const lines = text.split('\n')
  for (const m of mutations) {
    const at = m.at % lines.length
    switch (m.kind) {
      case 'delete': lines.splice(at, 1); break
      case 'duplicate': lines.splice(at, 0, lines[at]); break
      case 'swap': {
        const other = m.other % lines.length
        ;[lines[at], lines[other]] = [lines[other], lines[at]]
        break
      }
      case 'token': {
        const tok = lines[at].trim().split(/\s+/)
        tok[m.column % Math.max(tok.length, 1)] = m.value
        lines[at] = tok.join(' ')
        break
      }
      case 'replace': lines[at] = m.value; break
      case 'insert': lines.splice(at, 0, m.value); break
    }
    if (lines.length === 0) lines.push('')
  }
  return lines.join('\n')
}

describe('parseSeq under fuzzing', () => {
  it('random bytes: a Sequence or a SeqParseError, quickly', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 4000 }), (bytes) => {
      parseBounded(new TextDecoder('latin1').decode(bytes))
    }), { numRuns: 300 })
  })

  it('random text built from .seq vocabulary', () => {
    const word = fc.constantFrom('[VERSION]', 'major 1', 'minor 4', 'minor 5', 'minor 2', 'revision 2', '[BLOCKS]', '[RF]', '[TRAP]',
      '[ADC]', '[GRADIENTS]', '[SHAPES]', '[EXTENSIONS]', '[DEFINITIONS]', '[DELAYS]', 'shape_id 1', 'num_samples 3', '1 1 1 0',
      'extension LABELSET 1', '1 1 LIN', '1 10 1 0 0 0 0 0', '1 100 1 2 0 0 0 0', '1 1000 10 10 10 0', '1 4 1000 0 0 0', '0', '1', '0 0 1', '')
    fc.assert(fc.property(fc.array(fc.oneof(word, hostileToken), { maxLength: 80 }), (lines) => {
      summarizeIfSmall(parseBounded(lines.join('\n')))
    }), { numRuns: 500 })
  })

  it.skipIf(!hasFixtures())('random line mutations of real files', () => {
    const names = ['pulseq_gre_v151.seq', 'pypulseq_mprage_v120.seq', 'pypulseq_mprage_v142.seq', 'pypulseq_write_tse_v150.seq', 'pulseq_fid_v151.seq']
    fc.assert(fc.property(fc.constantFrom(...names), fc.array(lineMutation, { minLength: 1, maxLength: 6 }), (name, mutations) => {
      summarizeIfSmall(parseBounded(mutate(texts.get(name) as string, mutations)))
    }), { numRuns: 400 })
  })

  it.skipIf(!hasFixtures())('truncations of every fixture at random positions', () => {
    fc.assert(fc.property(fc.constantFrom(...FIXTURES), fc.double({ min: 0, max: 1, noNaN: true }), (name, cut) => {
      const text = texts.get(name) as string
      summarizeIfSmall(parseBounded(text.slice(0, Math.floor(cut * text.length))))
    }), { numRuns: 200 })
  })

  it.skipIf(!hasFixtures())('huge numbers in every numeric field of a real file', () => {
    const text = texts.get('pulseq_gre_v151.seq') as string
    const positions: number[] = []
    const re = /(?<=\s|^)-?\d+(?:\.\d+)?(?:e[+-]?\d+)?(?=\s|$)/gm
    for (let m = re.exec(text); m !== null; m = re.exec(text)) positions.push(m.index)
    fc.assert(fc.property(fc.constantFrom(...positions), fc.constantFrom('999999999999', '1e308', '-999999999', '4294967296', '1e-300', '9007199254740993'), (at, big) => {
      const end = text.slice(at).search(/\s/)
      summarizeIfSmall(parseBounded(text.slice(0, at) + big + text.slice(at + (end < 0 ? text.length : end))))
    }), { numRuns: 300 })
  })

  it('a tiny file cannot make the reader allocate a huge shape or table', () => {
    const head = '[VERSION]\nmajor 1\nminor 4\nrevision 2\n[DEFINITIONS]\nBlockDurationRaster 1e-05\n[BLOCKS]\n1 1 0 0 0 0 0 0\n'
    for (const tail of [
      '[SHAPES]\nshape_id 1\nnum_samples 9999999\n0\n0\n9999997\nshape_id 2\nnum_samples 9999999\n0\n0\n9999997\nshape_id 3\nnum_samples 9999999\n0\n0\n9999997\n',
      '[ADC]\n1 10000001 1 0 0 0\n',
      '[SHAPES]\nshape_id 1\nnum_samples 10000001\n0\n'
    ]) {
      const t0 = performance.now()
      expect(() => parseSeq(head + tail)).toThrow(SeqParseError)
      expect(performance.now() - t0).toBeLessThan(AT_THE_LIMITS_BOUND_MS)
    }
  })
})
