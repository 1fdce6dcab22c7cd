// eslint-disable-next-line no-restricted-imports -- tests read the shared fixtures from disk; the library does no I/O
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { fixture, hasFixtures } from '../../test/support/external-tools.ts'
import { gre2d } from './builtin.ts'
import { SeqLimitError } from './errors.ts'
import { gradientArea } from './events.ts'
import { blockTimeline, interpret, rfPulses, waveforms } from './interpret.ts'
import { parseSeq } from './parse.ts'
import type { PiecewiseLinear } from './interpret.ts'

const read = (name: string): string => readFileSync(fixture('pulseq', name), 'utf8')

function integral (w: PiecewiseLinear): number {
  let s = 0
  for (let i = 1; i < w.t.length; i++) s += 0.5 * (w.value[i] + w.value[i - 1]) * (w.t[i] - w.t[i - 1])
  return s
}

describe.skipIf(!hasFixtures())('interpret on the fixtures', () => {
  it('gives the block timeline of the GRE', () => {
    const seq = parseSeq(read('pulseq_gre_v151.seq'))
    const { timeline } = interpret(seq)
    expect(timeline.start[0]).toBe(0)
    expect(timeline.start[1]).toBeCloseTo(4.16e-3, 12)
    expect(timeline.start[5]).toBeCloseTo((416 + 200 + 12 + 642 + 8731) * 1e-5, 12)
    expect(timeline.totalDuration).toBeCloseTo(6.40064, 9)
    expect(timeline.id[319]).toBe(320)
  })

  it('gives the waveforms of the first TR of the GRE', () => {
    const seq = parseSeq(read('pulseq_gre_v151.seq'))
    const w = waveforms(seq, { from: 0, to: 0.09 })
    // Blocks 1-5 overlap the window: one RF pulse, one ADC window, the trapezoids as corner points.
    expect(w.rf.length).toBe(1)
    expect(w.adc.length).toBe(1)
    const rf = w.rf[0]
    expect(rf.t.length).toBe(4000)
    expect(rf.t[0]).toBeCloseTo(100e-6 + 0.5e-6, 12)
    expect(Math.max(...rf.magnitude)).toBeCloseTo(27.4293, 4)
    // The ADC window of block 4: after 416 + 200 + 12 raster units, with a 10 µs delay, 64 × 100 µs.
    expect(w.adc[0]).toMatchObject({ numSamples: 64, dwell: 100e-6 })
    expect(w.adc[0].start).toBeCloseTo((416 + 200 + 12) * 1e-5 + 10e-6, 12)
    expect(w.adc[0].end - w.adc[0].start).toBeCloseTo(6.4e-3, 12)
    // gz: slice select (delay 40, rise 60, flat 4000, fall 60 µs) as four corners after the delay.
    expect([...w.gz.t.slice(0, 4)].map((t) => Math.round(t * 1e6))).toEqual([40, 100, 4100, 4160])
    expect([...w.gz.value.slice(0, 4)]).toEqual([0, 333333, 333333, 0])
    // The waveform integrates to the sum of the gradient areas of those blocks.
    let area = 0
    for (let b = 0; b < 5; b++) {
      const g = seq.gradients.get(seq.blocks.gx[b])
      if (g !== undefined) area += gradientArea(seq, g)
    }
    expect(integral(w.gx)).toBeCloseTo(area, 6)
  })

  it('includes arbitrary gradients framed by their first and last values', () => {
    const seq = parseSeq(read('pypulseq_write_tse_v150.seq'))
    const w = waveforms(seq)
    // Gradient 1 on gz of block 1 is an extended trapezoid from 0 to 320000 Hz/m over 250 µs.
    expect([...w.gz.t.slice(0, 2)].map((t) => Math.round(t * 1e6))).toEqual([0, 250])
    expect([...w.gz.value.slice(0, 2)]).toEqual([0, 320000])
    let total = 0
    for (let b = 0; b < seq.blocks.length; b++) {
      const g = seq.gradients.get(seq.blocks.gz[b])
      if (g !== undefined) total += gradientArea(seq, g)
    }
    expect(integral(w.gz)).toBeCloseTo(total, 6)
  })

  it('lists the RF pulses with use, flip angle and centre', () => {
    const seq = parseSeq(read('pypulseq_write_tse_v150.seq'))
    const pulses = [...rfPulses(seq)]
    expect(pulses.length).toBe([...seq.blocks.rf].filter((id) => id !== 0).length)
    expect(pulses[0]).toMatchObject({ use: 'excitation', useInferred: false })
    expect(pulses[0].flipAngleDeg).toBeCloseTo(90, 3)
    expect(pulses[1]).toMatchObject({ use: 'refocusing' })
    expect(pulses[1].flipAngleDeg).toBeCloseTo(180, 3)
    const timeline = blockTimeline(seq)
    expect(pulses[1].center).toBeCloseTo(timeline.start[pulses[1].block] + 100e-6 + 1000e-6, 12)
  })
})

describe('interpret', () => {
  it('bounds the waveform size', () => {
    const seq = gre2d({ matrix: [32, 32] })
    expect(() => waveforms(seq, { maxPoints: 1000 })).toThrow(SeqLimitError)
    const first = waveforms(seq, { from: 0, to: 1e-3, maxPoints: 1e5 })
    expect(first.rf.length).toBe(1)
  })

  it('hands out pulses, ADC windows and readouts lazily, all consistent with each other', () => {
    const seq = gre2d({ matrix: [16, 8] })
    const it = interpret(seq)
    const windows = [...it.adcWindows()]
    const readouts = [...it.readouts()]
    expect(windows.length).toBe(8)
    expect(readouts.length).toBe(8)
    readouts.forEach((r, i) => {
      expect(r.start).toBeCloseTo(windows[i].start, 12)
      expect(r.block).toBe(windows[i].block)
    })
    expect(it.collectKspace().t.length).toBe(8 * 16)
    expect([...it.rfPulses()].length).toBe(8)
  })

  it('adds ppm offsets when the Larmor frequency is given', () => {
    const text = [
      '[VERSION]', 'major 1', 'minor 5', 'revision 0', '',
      '[DEFINITIONS]', 'AdcRasterTime 1e-07', 'BlockDurationRaster 1e-05', 'GradientRasterTime 1e-05', 'RadiofrequencyRasterTime 1e-06', '',
      '[BLOCKS]', '1 20 1 0 0 0 0 0', '2 10 0 0 0 0 1 0', '',
      '[RF]', '1 250 1 2 0 50 0 -3.3 0.1 10 0.5 s', '',
      '[ADC]', '1 8 1000 0 1 0 0 0 0', '',
      '[SHAPES]', '', 'shape_id 1', 'num_samples 100', '1', '0', '0', '97', '', 'shape_id 2', 'num_samples 100', '0', '0', '98', ''
    ].join('\n')
    const seq = parseSeq(text)
    const [pulse] = [...interpret(seq, { larmorHz: 123.2e6 }).rfPulses()]
    expect(pulse.use).toBe('saturation')
    expect(pulse.freqOffset).toBeCloseTo(10 - 3.3 * 123.2, 6)
    expect(pulse.phaseOffset).toBeCloseTo(0.5 + 0.1 * 123.2, 9)
    const [adc] = [...interpret(seq, { larmorHz: 123.2e6 }).adcWindows()]
    expect(adc.freqOffset).toBeCloseTo(123.2, 9)
    expect([...interpret(seq).rfPulses()][0].freqOffset).toBe(10)
  })
})
