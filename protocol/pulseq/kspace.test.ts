// eslint-disable-next-line no-restricted-imports -- tests read the shared fixtures from disk; the library does no I/O
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { fixture, hasFixtures } from '../../test/support/external-tools.ts'
import { SequenceBuilder } from './builder.ts'
import { makeAdc, makeBlockPulse, makeSincPulse, makeTrapezoid, systemLimits } from './design.ts'
import { adcReadouts, collectKspace } from './kspace.ts'
import { parseSeq } from './parse.ts'
import { SeqLimitError } from './errors.ts'
import type { Sequence } from './types.ts'

const read = (name: string): Sequence => parseSeq(readFileSync(fixture('pulseq', name), 'utf8'))

/** Checks a Cartesian 2D trajectory: constant ky per readout on a grid of spacing 1/FOV, uniform kx steps. */
function expectCartesianGrid (seq: Sequence, lines: number, nx: number, fov: number): void {
  const dk = 1 / fov
  const kys = new Set<number>()
  let kxMin = Number.POSITIVE_INFINITY
  let kxMax = Number.NEGATIVE_INFINITY
  let kyDrift = 0
  let kzMax = 0
  let stepError = 0
  for (const r of adcReadouts(seq)) {
    expect(r.numSamples).toBe(nx)
    for (let i = 0; i < r.numSamples; i++) {
      kyDrift = Math.max(kyDrift, Math.abs(r.ky[i] - r.ky[0]))
      kzMax = Math.max(kzMax, Math.abs(r.kz[i]))
      if (i > 0) stepError = Math.max(stepError, Math.abs(r.kx[i] - r.kx[i - 1] - dk))
    }
    // ky on the grid of spacing 1/FOV.
    const line = r.ky[0] / dk
    expect(Math.abs(line - Math.round(line))).toBeLessThan(1e-3)
    kys.add(Math.round(line))
    kxMin = Math.min(kxMin, r.kx[0])
    kxMax = Math.max(kxMax, r.kx[r.numSamples - 1])
  }
  expect(kyDrift).toBeLessThan(1e-6 * dk)
  expect(kzMax).toBeLessThan(1e-3 * dk)
  // Uniform readout steps of 1/FOV (pypulseq's TSE readout is 0.3 % short of it by design).
  expect(stepError).toBeLessThan(0.005 * dk)
  expect(kys.size).toBe(lines)
  expect(Math.max(...kys) - Math.min(...kys)).toBe(lines - 1)
  // kx spans ±Nx/(2·FOV), to within one step (samples sit at half-integer or integer grid points).
  expect(Math.abs(kxMin + nx / (2 * fov))).toBeLessThanOrEqual(dk)
  expect(Math.abs(kxMax - nx / (2 * fov))).toBeLessThanOrEqual(dk)
}

describe.skipIf(!hasFixtures())('k-space of the fixtures', () => {
  it('pulseq_gre_v151 is a 64-line Cartesian grid whose LIN labels number the lines', () => {
    const seq = read('pulseq_gre_v151.seq')
    expectCartesianGrid(seq, 64, 64, 0.25)
    for (const r of adcReadouts(seq)) expect(r.ky[0] * 0.25).toBeCloseTo(r.labels.LIN - 32, 3)
  })

  it('pypulseq_write_gre_v150 and the Prisma GRE (256 lines) are Cartesian grids', () => {
    expectCartesianGrid(read('pypulseq_write_gre_v150.seq'), 64, 64, 0.256)
    expectCartesianGrid(read('tutorial_gre_prisma_v140.seq'), 256, 256, 0.256)
  })

  it('the TSE (extended trapezoids, refocusing pulses) is a 64-line Cartesian grid', () => {
    expectCartesianGrid(read('pypulseq_write_tse_v150.seq'), 64, 64, 0.256)
  })

  it('the MPRAGE gives the same trajectory from 1.2.0 and 1.5.0 files', () => {
    const a = collectKspace(read('pypulseq_mprage_v120.seq'))
    const b = collectKspace(read('pypulseq_mprage_v150.seq'))
    expect(a.t.length).toBe(b.t.length)
    for (let i = 0; i < a.t.length; i++) {
      expect(Math.abs(a.t[i] - b.t[i])).toBeLessThan(1e-9)
      expect(Math.abs(a.kx[i] - b.kx[i])).toBeLessThan(1e-2)
      expect(Math.abs(a.ky[i] - b.ky[i])).toBeLessThan(1e-2)
      // The 1.2.0 pulse centre is half a µs off, under a slice gradient of 0.27 MHz/m.
      expect(Math.abs(a.kz[i] - b.kz[i])).toBeLessThan(0.2)
    }
  })

  it('the FID has no gradients, so every sample is at the k-space origin', () => {
    for (const r of adcReadouts(read('pulseq_fid_v151.seq'))) {
      expect(r.kx.every((k) => k === 0) && r.ky.every((k) => k === 0) && r.kz.every((k) => k === 0)).toBe(true)
      expect(Number.isFinite(r.excitation)).toBe(true)
    }
  })
})

describe('k-space rules', () => {
  const sys = systemLimits()

  it('resets k at the centre of an excitation, negates it at a refocusing pulse, and ignores inversion', () => {
    const b = new SequenceBuilder(sys)
    const adc = makeAdc(sys, { numSamples: 4, dwell: 10e-6 })
    const g100 = makeTrapezoid(sys, { area: 100 })
    const g50 = makeTrapezoid(sys, { area: 50 })
    b.addBlock({ gx: g50 })
    b.addBlock({ adc }) // before any excitation k simply integrates: 50
    b.addBlock({ rf: makeBlockPulse(sys, { flipAngleDeg: 90, duration: 200e-6 }) })
    b.addBlock({ gx: g100 })
    b.addBlock({ adc }) // 100
    b.addBlock({ rf: makeBlockPulse(sys, { flipAngleDeg: 180, duration: 200e-6, use: 'refocusing' }) })
    b.addBlock({ adc }) // -100
    b.addBlock({ gx: g50 })
    b.addBlock({ adc }) // -50
    b.addBlock({ rf: makeBlockPulse(sys, { flipAngleDeg: 180, duration: 200e-6, use: 'inversion' }) })
    b.addBlock({ adc }) // still -50
    b.addBlock({ rf: makeBlockPulse(sys, { flipAngleDeg: 10, duration: 200e-6 }) })
    b.addBlock({ adc }) // 0
    const kx = [...adcReadouts(b.build())].map((r) => r.kx[0])
    const expected = [50, 100, -100, -50, -50, 0]
    kx.forEach((k, i) => expect(k).toBeCloseTo(expected[i], 9))
  })

  it('integrates the slice gradient from the pulse centre, not from the block start', () => {
    const b = new SequenceBuilder(sys)
    const { rf, gz, rephaseArea } = makeSincPulse(sys, { flipAngleDeg: 30, duration: 2e-3, sliceThickness: 5e-3 })
    b.addBlock({ rf, gz })
    b.addBlock({ adc: makeAdc(sys, { numSamples: 2, dwell: 10e-6 }) })
    b.addBlock({ gz: makeTrapezoid(sys, { area: rephaseArea }) })
    b.addBlock({ adc: makeAdc(sys, { numSamples: 2, dwell: 10e-6 }) })
    const [after, rephased] = [...adcReadouts(b.build())]
    expect(after.kz[0]).toBeCloseTo(-rephaseArea, 9)
    expect(rephased.kz[0]).toBeCloseTo(0, 9)
    expect(after.excitation).toBeCloseTo(rf.delay + rf.center, 12)
  })

  it('integrates a gradient that is still on during the ADC, sample by sample', () => {
    const b = new SequenceBuilder(sys)
    const gx = makeTrapezoid(sys, { flatArea: 1000 * 1e-3, flatTime: 1e-3 })
    b.addBlock({ rf: makeBlockPulse(sys, { flipAngleDeg: 10, duration: 100e-6 }) })
    b.addBlock({ gx, adc: makeAdc(sys, { numSamples: 10, dwell: 100e-6, delay: gx.rise }) })
    const [r] = [...adcReadouts(b.build())]
    for (let i = 0; i < 10; i++) expect(r.kx[i]).toBeCloseTo(1000 * gx.rise / 2 + 1000 * (i + 0.5) * 100e-6, 9)
  })

  it('applies LABELSET before LABELINC in a block, whatever their order in the list', () => {
    const text = [
      '[VERSION]', 'major 1', 'minor 4', 'revision 2', '',
      '[DEFINITIONS]', 'AdcRasterTime 1e-07', 'BlockDurationRaster 1e-05', 'GradientRasterTime 1e-05', 'RadiofrequencyRasterTime 1e-06', '',
      '[BLOCKS]', '1 10 0 0 0 0 1 1', '2 10 0 0 0 0 1 3', '3 10 0 0 0 0 1 0', '',
      '[ADC]', '1 8 1000 0 0 0', '',
      '[EXTENSIONS]', '1 2 1 2', '2 1 1 0', '3 2 2 0',
      'extension LABELSET 1', '1 5 LIN',
      'extension LABELINC 2', '1 2 LIN', '2 1 SLC', ''
    ].join('\n')
    const labels = [...adcReadouts(parseSeq(text))].map((r) => [r.labels.LIN, r.labels.SLC])
    expect(labels).toEqual([[7, 0], [7, 1], [7, 1]])
  })

  it('collects everything into flat arrays, and refuses beyond the sample limit', () => {
    const b = new SequenceBuilder(sys)
    for (let i = 0; i < 5; i++) b.addBlock({ adc: makeAdc(sys, { numSamples: 100, dwell: 1e-6 }), labelInc: { REP: 1 } })
    const seq = b.build()
    const all = collectKspace(seq)
    expect(all.t.length).toBe(500)
    expect(all.readouts.map((r) => r.offset)).toEqual([0, 100, 200, 300, 400])
    expect(all.readouts.map((r) => r.labels.REP)).toEqual([1, 2, 3, 4, 5])
    expect(all.t[100]).toBeCloseTo(seq.blocks.duration[0] + 0.5e-6, 12)
    expect(() => collectKspace(seq, { maxSamples: 499 })).toThrow(SeqLimitError)
    expect(() => [...adcReadouts(seq, { maxGradientPoints: -1 })]).toThrow(SeqLimitError)
  })
})
