import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { fixture, hasFixtures } from '../../test/support/external-tools.ts'
import { makeAdc, makeBlockPulse, makeTrapezoid, multiSliceGre, parseSeq, SequenceBuilder, summarize, systemLimits, type Sequence, type SignatureCheck } from '../../protocol/pulseq/index.ts'
import { formatSummary } from './seq-inspect.ts'

const unsigned: SignatureCheck = { present: false, valid: false }

/** A single-shot EPI of 8 lines after two navigators. */
function epi (): Sequence {
  const sys = systemLimits()
  const b = new SequenceBuilder(sys)
  b.setDefinition('FOV', [0.256, 0.256, 0.005])
  const dk = 1 / 0.256
  const gro = makeTrapezoid(sys, { flatArea: 32 * dk, flatTime: 32e-5 })
  const adc = makeAdc(sys, { numSamples: 32, dwell: 1e-5, delay: gro.rise })
  b.addBlock({ rf: makeBlockPulse(sys, { flipAngleDeg: 90, duration: 2e-4 }) })
  b.addBlock({ gx: makeTrapezoid(sys, { area: -(gro.amplitude * gro.rise / 2 + 16.5e-5 * gro.amplitude) }) })
  let sign = 1
  for (let i = 0; i < 2; i++) { b.addBlock({ gx: { ...gro, amplitude: sign * gro.amplitude }, adc }); sign = -sign }
  b.addBlock({ gy: makeTrapezoid(sys, { area: -4 * dk }) })
  for (let l = 0; l < 8; l++) {
    b.addBlock({ gx: { ...gro, amplitude: sign * gro.amplitude }, adc })
    sign = -sign
    if (l < 7) b.addBlock({ gy: makeTrapezoid(sys, { area: dk }) })
  }
  return b.build()
}

describe('seq inspect text', () => {
  it('names the trajectory, the navigators and the roles of the readouts', () => {
    const text = formatSummary('epi.seq', summarize(epi()), unsigned, []).join('\n')
    expect(text).toMatch(/trajectory\s+epi \(ISMRMRD epi\), alternate lines reversed, 2 navigators per train/)
    expect(text).toMatch(/ADC\s+10 readouts \(2 navigator, 8 image\)/)
    expect(text).toMatch(/matrix\s+32 x 8 x 1/)
    expect(text).toMatch(/labels\s+none; counters derived from the events/)
  })

  it('lists slices and every guess made', () => {
    const seq = multiSliceGre({ matrix: [16, 16], slices: 3 })
    const stripped: Sequence = { ...seq, blocks: { ...seq.blocks, ext: new Int32Array(seq.blocks.length) }, extensions: { list: new Map(), tables: new Map() } }
    const summary = summarize(stripped)
    const text = formatSummary('ms.seq', summary, unsigned, summary.warnings).join('\n')
    expect(text).toMatch(/matrix\s+16 x 16 x 1, 3 slices/)
    expect(text).toMatch(/warning\s+no SLC labels: 3 slices from the RF frequency offsets/)
    expect(text).toMatch(/warning\s+no LIN labels/)
  })

  it.skipIf(!hasFixtures())('the MPRAGE: its name from character codes, TI and echo spacing beside TR', () => {
    const summary = summarize(parseSeq(readFileSync(fixture('pulseq', 'pypulseq_mprage_v120.seq'), 'utf8')))
    const text = formatSummary('mprage.seq', summary, unsigned, summary.warnings).join('\n')
    expect(text).toContain('Pulseq 1.2.0, "mprage"')
    expect(text).toMatch(/TE \/ TR\s+2\.78 ms \/ 189\.74 ms, TI 96\.48 ms, echo spacing 5\.61 ms/)
  })
})
