// eslint-disable-next-line no-restricted-imports -- tests read the shared fixtures from disk; the library does no I/O
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { fixture, hasFixtures } from '../../test/support/external-tools.ts'
import { builtinSequences } from '../sequence-library.ts'
import { BUILTIN_SEQUENCES } from './builtin.ts'
import { parseSeq } from './parse.ts'
import { detectSequenceType, type SequenceTypeReport } from './sequence-type.ts'
import { summarize } from './summary.ts'
import type { Sequence } from './types.ts'
import { writeSeq } from './write.ts'

const detect = (seq: Sequence): SequenceTypeReport => detectSequenceType(seq, summarize(seq))
const ofFixture = (name: string): SequenceTypeReport => detect(parseSeq(readFileSync(fixture('pulseq', name), 'utf8')))
/** A built-in as a file, read back as a pre-1.5 file would be: pulse roles inferred, not flagged. */
function builtin (name: keyof typeof BUILTIN_SEQUENCES, params: Record<string, unknown> = {}): Sequence {
  const seq = parseSeq(writeSeq((BUILTIN_SEQUENCES[name].build as (p: Record<string, unknown>) => Sequence)(params)))
  for (const rf of seq.rf.values()) {
    rf.inferred = true
    rf.use = 'undefined'
  }
  return seq
}

/** Blocks whose RF has this role, in order. */
function blocksWithRf (seq: Sequence, large: boolean): number[] {
  const out: number[] = []
  for (let b = 0; b < seq.blocks.length; b++) {
    const rf = seq.rf.get(seq.blocks.rf[b])
    if (rf === undefined) continue
    const isLarge = Math.abs(rf.amplitude) > Math.abs(excitationOf(seq).amplitude) * 1.5
    if (isLarge === large) out.push(b)
  }
  return out
}

function excitationOf (seq: Sequence): { amplitude: number } {
  return [...seq.rf.values()].reduce((a, b) => (Math.abs(a.amplitude) <= Math.abs(b.amplitude) ? a : b))
}

describe.skipIf(!hasFixtures())('sequence types of the fixtures (files written by other tools)', () => {
  const expected: Array<[string, SequenceTypeReport['type'], RegExp]> = [
    ['pulseq_gre_v151.seq', 'GRE', /gradient echoes/],
    ['pypulseq_write_gre_v150.seq', 'GRE', /Cartesian 2D/],
    ['tutorial_gre_prisma_v140.seq', 'GRE', /without refocusing/],
    ['pulseq_fid_v151.seq', 'FID', /16 readouts without spatial encoding/],
    ['tutorial_fid_trio_v140.seq', 'FID', /one readout/],
    ['pypulseq_write_tse_v150.seq', 'TSE', /train of 16 refocused echoes/],
    // the same MPRAGE in four revisions: before 1.5 its inversion is flagged "refocusing" by the parser
    ['pypulseq_mprage_v120.seq', 'IR', /inversion pulse before the excitations .* gradient echoes/],
    ['pypulseq_mprage_v131.seq', 'IR', /as in MPRAGE/],
    ['pypulseq_mprage_v142.seq', 'IR', /as in MPRAGE/],
    ['pypulseq_mprage_v150.seq', 'IR', /as in MPRAGE/],
    ['mrd_example_v142.seq', 'OTHER', /no ADC event: it acquires nothing/]
  ]
  for (const [name, type, reason] of expected) {
    it(`${name} is ${type}`, () => {
      const report = ofFixture(name)
      expect(report.type).toBe(type)
      expect(report.reason).toMatch(reason)
    })
  }

  it('the TSE fixture: 16 echoes per excitation, no inversion', () => {
    expect(ofFixture('pypulseq_write_tse_v150.seq')).toMatchObject({ echoTrainLength: 16, inversion: false })
  })
})

describe('sequence types of the built-ins', () => {
  for (const entry of builtinSequences()) {
    it(`${entry.name}: detected as the library lists it (${entry.type})`, () => {
      const report = detectSequenceType(parseSeq(entry.text), entry.summary)
      expect(report.type).toBe(entry.type)
    })
  }

  it('the echo train length of spin echoes is counted from the refocusing pulses', () => {
    expect(detect(builtin('spin-echo', { matrix: [16, 16] }))).toMatchObject({ type: 'SE', echoTrainLength: 1 })
    expect(detect(builtin('tse', { matrix: [32, 32], echoTrainLength: 4 }))).toMatchObject({ type: 'TSE', echoTrainLength: 4 })
  })

  it('radial and spiral gradient echoes say their trajectory', () => {
    expect(detect(builtin('radial', { matrix: [32, 32] })).reason).toMatch(/radial k-space/)
    expect(detect(builtin('spiral')).reason).toMatch(/spiral k-space/)
  })
})

describe('sequence types from the order of pulses and readouts', () => {
  it('a 180° pulse just before each excitation makes an inversion-recovery spin echo', () => {
    const seq = builtin('spin-echo', { matrix: [16, 16] })
    const exc = blocksWithRf(seq, false)
    const refocusing = seq.blocks.rf[blocksWithRf(seq, true)[0]]
    // an inversion is a 180° pulse: the refocusing pulse's event, played in the block before each
    // excitation but the first (which opens the file)
    for (const b of exc.filter((e) => e > 0)) {
      expect(seq.blocks.rf[b - 1]).toBe(0)
      seq.blocks.rf[b - 1] = refocusing
    }
    const report = detect(seq)
    expect(report).toMatchObject({ type: 'IR', inversion: true, echoTrainLength: 1 })
    expect(report.reason).toMatch(/inversion-recovery spin echo/)
  })

  it('a dummy shot of a TSE (its echoes not read) is not taken for an inversion', () => {
    const seq = builtin('tse', { matrix: [32, 32], echoTrainLength: 4 })
    const [first, second] = blocksWithRf(seq, false)
    for (let b = first; b < second; b++) seq.blocks.adc[b] = 0
    expect(detect(seq)).toMatchObject({ type: 'TSE', inversion: false, echoTrainLength: 4 })
  })

  it('refocused and unrefocused excitations in one file are OTHER, with the count', () => {
    const seq = builtin('tse', { matrix: [32, 32], echoTrainLength: 4 })
    const exc = blocksWithRf(seq, false)
    // drop the refocusing pulses of the second half of the shots
    for (const b of blocksWithRf(seq, true)) if (b > exc[exc.length / 2]) seq.blocks.rf[b] = 0
    const report = detect(seq)
    expect(report.type).toBe('OTHER')
    expect(report.reason).toMatch(new RegExp(`${exc.length / 2} of ${exc.length} excitations are refocused`))
  })

  it('a sequence without excitation pulses is OTHER', () => {
    const seq = builtin('gre', { matrix: [16, 16] })
    for (const b of blocksWithRf(seq, false)) seq.blocks.rf[b] = 0
    expect(detect(seq)).toMatchObject({ type: 'OTHER', reason: expect.stringMatching(/no excitation pulse/) as unknown })
  })
})
