// eslint-disable-next-line no-restricted-imports -- tests read the shared fixtures from disk; the library does no I/O
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { fixture, hasFixtures } from '../../test/support/external-tools.ts'
import { gre2d, spinEcho2d } from './builtin.ts'
import { parseSeq } from './parse.ts'
import { summarize } from './summary.ts'

const summaryOf = (name: string): ReturnType<typeof summarize> => summarize(parseSeq(readFileSync(fixture('pulseq', name), 'utf8')))

describe.skipIf(!hasFixtures())('summarize on the fixtures', () => {
  it('the MATLAB GRE: TE, TR, flip, geometry and the ISMRMRD encoding', () => {
    const s = summaryOf('pulseq_gre_v151.seq')
    expect(s).toMatchObject({ version: '1.5.1', name: 'gre', blocks: 320, adcReadouts: 64, adcSamples: 4096, matrix: [64, 64, 1], fovM: [0.25, 0.25, 0.003], slices: 1, readoutOversampling: 1 })
    // By hand from the block table: RF centre at 2.1 ms of a 4.16 ms block, then 2 ms and 0.12 ms,
    // then the ADC (10 µs delay) crosses kx = 0 between samples 31 and 32, at 3.21 ms.
    expect(s.teS).toBeCloseTo(4.16e-3 - 2.1e-3 + 2e-3 + 0.12e-3 + 3.21e-3, 7)
    expect(s.trS).toBeCloseTo((416 + 200 + 12 + 642 + 8731) * 1e-5, 9)
    expect(s.flipAngleDeg).toBeCloseTo(10, 3)
    expect(s.definitions).toMatchObject({ Name: 'gre', FOV: [0.25, 0.25, 0.003], kSpaceCenterLine: 32 })
    expect(s.ismrmrdEncoding).toEqual({
      trajectory: 'cartesian',
      encodedSpace: { matrixSize: { x: 64, y: 64, z: 1 }, fieldOfView_mm: { x: 250, y: 250, z: 3 } },
      reconSpace: { matrixSize: { x: 64, y: 64, z: 1 }, fieldOfView_mm: { x: 250, y: 250, z: 3 } },
      encodingLimits: {
        kspace_encoding_step_1: { minimum: 0, maximum: 63, center: 32 },
        kspace_encoding_step_2: { minimum: 0, maximum: 0, center: 0 },
        average: { minimum: 0, maximum: 0, center: 0 },
        slice: { minimum: 0, maximum: 0, center: 0 },
        contrast: { minimum: 0, maximum: 0, center: 0 },
        phase: { minimum: 0, maximum: 0, center: 0 },
        repetition: { minimum: 0, maximum: 0, center: 0 },
        set: { minimum: 0, maximum: 0, center: 0 },
        segment: { minimum: 0, maximum: 0, center: 0 }
      }
    })
  })

  it('single-slice GREs: TR is the duration per excitation, the matrix comes from k-space without labels', () => {
    for (const [name, lines] of [['pypulseq_write_gre_v150.seq', 64], ['tutorial_gre_prisma_v140.seq', 256]] as const) {
      const s = summaryOf(name)
      expect(s.trS).toBeCloseTo(s.durationS / lines, 9)
      expect(s.matrix).toEqual([lines, lines, 1])
      expect(s.flipAngleDeg).toBeCloseTo(10, 3)
      expect(s.ismrmrdEncoding?.encodingLimits.kspace_encoding_step_1).toEqual({ minimum: 0, maximum: lines - 1, center: lines / 2 })
    }
  })

  it('the Trio FID: TE from the pulse centre to the first sample, no matrix', () => {
    const s = summaryOf('tutorial_fid_trio_v140.seq')
    // Pulse centre at 100 + 250 µs of a 620 µs block; the ADC starts 29730 µs later, first sample half a dwell in.
    expect(s.teS).toBeCloseTo((620 - 350 + 29730 + 31.25 / 2) * 1e-6, 12)
    expect(s.matrix).toBeUndefined()
    expect(s.fovM).toBeUndefined()
    expect(s.flipAngleDeg).toBeCloseTo(90, 9)
  })

  it('the TSE: one excitation per TR, refocusing pulses do not count', () => {
    const s = summaryOf('pypulseq_write_tse_v150.seq')
    expect(s.trS).toBeCloseTo(2, 9)
    expect(s.flipAngleDeg).toBeCloseTo(90, 3)
    expect(s.matrix).toEqual([64, 64, 1])
  })

  it('the MPRAGE gives the same summary from every revision', () => {
    const ref = summaryOf('pypulseq_mprage_v150.seq')
    for (const v of ['120', '131', '142']) {
      const s = summaryOf(`pypulseq_mprage_v${v}.seq`)
      expect(s.durationS).toBeCloseTo(ref.durationS, 9)
      expect(s.adcSamples).toBe(ref.adcSamples)
      expect(Math.abs((s.teS as number) - (ref.teS as number))).toBeLessThan(1e-6)
      expect(s.trS).toBeCloseTo(ref.trS as number, 9)
      expect(s.matrix).toEqual(ref.matrix)
      expect(s.tiS as number).toBeCloseTo(ref.tiS as number, 5)
      expect(s.slices).toBe(3)
    }
  })

  it('the MPRAGE: TR is the inversion period and the echo spacing is reported beside it', () => {
    const s = summaryOf('pypulseq_mprage_v150.seq')
    // Block table: inversion 10.12 ms and 0.1 ms, then 32 × (3.15 + 1 + 0.46 + 1 ms) per inversion.
    expect(s.trS).toBeCloseTo((1012 + 10 + 32 * (315 + 100 + 46 + 100)) * 1e-5, 9)
    expect(s.echoSpacingS).toBeCloseTo((315 + 100 + 46 + 100) * 1e-5, 9)
    // Inversion centre at 0.1 + 5 ms; the 17th excitation (line 16, ky = 0) at its block start + 1.6 ms.
    expect(s.tiS).toBeCloseTo((1012 + 10 + 16 * 561) * 1e-5 + 1.6e-3 - 5.1e-3, 9)
    expect(s.trajectory).toBe('cartesian-2d')
    expect(s.ismrmrdEncoding?.encodingLimits.slice).toEqual({ minimum: 0, maximum: 2, center: 0 })
  })

  it('a Name written as character codes (pypulseq 1.2.0) reads as text, with a warning', () => {
    const s = summaryOf('pypulseq_mprage_v120.seq')
    expect(s.definitions.Name).toEqual([109, 112, 114, 97, 103, 101])
    expect(s.name).toBe('mprage')
    expect(s.warnings.some((w) => w.includes('character codes'))).toBe(true)
  })

  it('unlabelled fixtures say so, labelled ones name their labels', () => {
    expect(summaryOf('pypulseq_write_gre_v150.seq')).toMatchObject({ labelled: [], roles: { image: 64 }, trajectory: 'cartesian-2d', acceleration: [1, 1], partialFourier: [1, 1] })
    expect(summaryOf('pulseq_gre_v151.seq').labelled).toEqual(['LIN'])
    expect(summaryOf('pypulseq_write_tse_v150.seq')).toMatchObject({ echoTrainLength: 16, trajectory: 'cartesian-2d' })
  })
})

describe('summarize', () => {
  it('a plain name stays as it is', () => {
    expect(summarize(gre2d({ matrix: [16, 16], name: 'T1 flash' })).name).toBe('T1 flash')
    expect(summarize(gre2d({ matrix: [16, 16], name: '42' })).name).toBe('42')
  })

  it('reads definitions as numbers, arrays or text', () => {
    const s = summarize(gre2d({ matrix: [32, 32] }))
    expect(s.definitions.Name).toBe('gre')
    expect(s.definitions.FOV).toEqual([0.256, 0.256, 0.005])
    expect(s.definitions.ReadoutOversamplingFactor).toBe(1)
  })

  it('estimates the FOV from k-space when the definitions do not give it', () => {
    const seq = spinEcho2d({ matrix: [32, 48], fovM: [0.2, 0.3] })
    seq.definitions.delete('FOV')
    seq.definitions.delete('ReadoutOversamplingFactor')
    const s = summarize(seq)
    expect(s.fovM?.[0]).toBeCloseTo(0.2, 9)
    expect(s.fovM?.[1]).toBeCloseTo(0.3, 9)
    expect(s.matrix).toEqual([32, 48, 1])
    expect(s.readoutOversampling).toBe(1)
  })
})
