// Tests read the shared fixtures from disk.
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { fixture, hasFixtures } from '../../test/support/external-tools.ts'
import { fid, makeAdc, makeBlockPulse, makeTrapezoid, multiSliceGre, parseSeq, SequenceBuilder, systemLimits, writeSeq, type Sequence, type TrapGradient } from '../../protocol/pulseq/index.ts'
import { planSequence, SequencePlanError } from './sequence-plan.ts'

const stripLabels = (seq: Sequence): Sequence => ({ ...seq, blocks: { ...seq.blocks, ext: new Int32Array(seq.blocks.length) }, extensions: { list: new Map(), tables: new Map() } })

const sys = systemLimits()
const FOV = 0.256
const DK = 1 / FOV
const DWELL = 10e-6
const scaled = (g: TrapGradient, s: number): TrapGradient => ({ ...g, amplitude: g.amplitude * s })

/** Readouts of n samples along gx (sample n/2 at kx = 0 after `pre`); ramp = sampling across the ramps too. */
function readout (n: number, ramp = false): { gro: TrapGradient, pre: number, adc: ReturnType<typeof makeAdc> } {
  if (!ramp) {
    const gro = makeTrapezoid(sys, { flatArea: n * DK, flatTime: n * DWELL })
    return { gro, adc: makeAdc(sys, { numSamples: n, dwell: DWELL, delay: gro.rise }), pre: -(gro.amplitude * gro.rise / 2 + (n / 2 + 0.5) * DWELL * gro.amplitude) }
  }
  const gro = makeTrapezoid(sys, { flatArea: n * DK * 0.6, flatTime: n * DWELL * 0.6 })
  const total = gro.rise + gro.flat + gro.fall
  const dwell = total / n
  return { gro, adc: makeAdc(sys, { numSamples: n, dwell }), pre: -(gro.amplitude * (gro.rise + gro.flat)) / 2 }
}

function epi (ny: number, navigators: number, ramp = false): Sequence {
  const b = new SequenceBuilder(sys)
  b.setDefinition('FOV', [FOV, FOV, 0.005])
  const { gro, adc, pre } = readout(32, ramp)
  b.addBlock({ rf: makeBlockPulse(sys, { flipAngleDeg: 90, duration: 2e-4 }) })
  b.addBlock({ gx: makeTrapezoid(sys, { area: pre }) })
  let sign = 1
  const line = (): void => { b.addBlock({ gx: scaled(gro, sign), adc }); sign = -sign }
  for (let i = 0; i < navigators; i++) line()
  b.addBlock({ gy: makeTrapezoid(sys, { area: -Math.floor(ny / 2) * DK }) })
  for (let l = 0; l < ny; l++) {
    line()
    if (l < ny - 1) b.addBlock({ gy: makeTrapezoid(sys, { area: DK }) })
  }
  return b.build()
}

function radial (spokes: number): Sequence {
  const b = new SequenceBuilder(sys)
  b.setDefinition('FOV', [FOV, FOV, 0.005])
  const rf = makeBlockPulse(sys, { flipAngleDeg: 10, duration: 2e-4 })
  const { gro, adc, pre } = readout(64)
  const preTrap = makeTrapezoid(sys, { area: pre })
  for (let i = 0; i < spokes; i++) {
    const t = i * Math.PI / spokes
    b.addBlock({ rf })
    b.addBlock({ gx: scaled(preTrap, Math.cos(t)), gy: scaled(preTrap, Math.sin(t)) })
    b.addBlock({ gx: scaled(gro, Math.cos(t)), gy: scaled(gro, Math.sin(t)), adc })
    b.addBlock({ duration: 2e-3 })
  }
  return b.build()
}

/** A GRE over the given lines, no labels. */
function cartesian (ny: number, lines: number[]): Sequence {
  const b = new SequenceBuilder(sys)
  b.setDefinition('FOV', [FOV, FOV, 0.005])
  const rf = makeBlockPulse(sys, { flipAngleDeg: 10, duration: 2e-4 })
  const { gro, adc, pre } = readout(32)
  for (const l of lines) {
    const ky = (l - Math.floor(ny / 2)) * DK
    b.addBlock({ rf })
    b.addBlock({ gx: makeTrapezoid(sys, { area: pre, duration: 1e-3 }), gy: ky === 0 ? undefined : makeTrapezoid(sys, { area: ky, duration: 1e-3 }) })
    b.addBlock({ gx: gro, adc })
    b.addBlock({ duration: 3e-3 })
  }
  return b.build()
}

describe.skipIf(!hasFixtures())('planSequence on unlabelled fixtures', () => {
  it('pypulseq write_gre: each of the 64 readouts on its own line, by its ky', () => {
    const seq = parseSeq(readFileSync(fixture('pulseq', 'pypulseq_write_gre_v150.seq'), 'utf8'))
    const plan = planSequence(seq)
    const lines = plan.readouts.map((r) => r.counters.line)
    expect([...lines].sort((a, b) => a - b)).toEqual(Array.from({ length: 64 }, (_, i) => i))
    for (const r of plan.readouts) expect(r.counters.line - 32).toBe(Math.round(r.ky[0] * 0.256))
    expect(plan).toMatchObject({ matrix: [64, 64, 1], slices: 1, trajectory: 'cartesian', storeTrajectory: false, acceleration: [1, 1] })
    // The centre line's echo sample is the TE, to within half a sample: this file's echo falls between two.
    const centre = plan.readouts.find((r) => r.counters.line === 32)
    expect(Math.abs((centre?.timeFromExcitationS ?? 0) - plan.timing.teS)).toBeLessThanOrEqual((centre?.dwellS ?? 0) / 2 + 1e-9)
  })

  it('the MPRAGE: three slices, one per inversion, each with its 32 lines, TR the inversion period', () => {
    const plan = planSequence(parseSeq(readFileSync(fixture('pulseq', 'pypulseq_mprage_v150.seq'), 'utf8')))
    expect(plan.slices).toBe(3)
    expect(plan.timing.trS).toBeCloseTo(0.18974, 9)
    expect(plan.timing.tiS).toBeCloseTo(0.09648, 9)
    for (let s = 0; s < 3; s++) {
      const readouts = plan.readouts.filter((r) => r.counters.slice === s)
      expect(readouts.map((r) => r.counters.line).sort((a, b) => a - b)).toEqual(Array.from({ length: 32 }, (_, i) => i))
      for (const r of readouts) expect(r.sliceOffsetM).toBeCloseTo((s - 1) * 0.005, 6)
    }
  })
})

describe('planSequence', () => {
  it('gre-multislice without labels: slices and their offsets from the RF frequencies', () => {
    const seq = multiSliceGre({ matrix: [16, 16], slices: 3, sliceSpacingM: 0.01 })
    const labelled = planSequence(seq)
    const plan = planSequence(stripLabels(seq))
    expect(plan.slices).toBe(3)
    expect(plan.readouts.map((r) => r.counters)).toEqual(labelled.readouts.map((r) => r.counters))
    for (const r of plan.readouts) expect(r.sliceOffsetM).toBeCloseTo((r.counters.slice - 1) * 0.01, 9)
  })

  it('EPI: navigators flagged, lines reversed in turn, Cartesian without stored trajectory', () => {
    const plan = planSequence(epi(16, 3))
    expect(plan.trajectory).toBe('epi')
    expect(plan.storeTrajectory).toBe(false)
    expect(plan.readouts.map((r) => r.isNavigator === true)).toEqual(Array.from({ length: 19 }, (_, i) => i < 3))
    expect(plan.readouts.map((r) => r.isReverse)).toEqual(Array.from({ length: 19 }, (_, i) => i % 2 === 1))
    expect(plan.readouts.slice(3).map((r) => r.counters.line)).toEqual(Array.from({ length: 16 }, (_, i) => i))
    expect(plan.matrix).toEqual([32, 16, 1])
  })

  it('ramp-sampled EPI stores its trajectory', () => {
    const plan = planSequence(epi(8, 0, true))
    expect(plan.trajectory).toBe('epi')
    expect(plan.summary.epi?.rampSampling).toBe(true)
    expect(plan.storeTrajectory).toBe(true)
  })

  it('radial: the reconstruction matrix from kmax and FOV, trajectory stored, one line per spoke', () => {
    const plan = planSequence(radial(12))
    expect(plan.trajectory).toBe('radial')
    expect(plan.storeTrajectory).toBe(true)
    expect(plan.matrix[0]).toBe(64)
    expect(plan.readouts.map((r) => r.counters.line)).toEqual(Array.from({ length: 12 }, (_, i) => i))
  })

  it('undersampled lines with a calibration block: acceleration and calibration roles', () => {
    const lines = Array.from({ length: 32 }, (_, i) => i).filter((l) => l % 3 === 1 || Math.abs(l - 16) <= 4)
    const plan = planSequence(cartesian(32, lines))
    expect(plan.acceleration).toEqual([3, 1])
    expect(plan.matrix).toEqual([32, 32, 1])
    for (const r of plan.readouts) {
      const l = r.counters.line
      const inBlock = l >= 12 && l <= 20
      expect(r.parallelCalibration).toBe(!inBlock ? undefined : l % 3 === 1 ? 'calibration-and-imaging' : 'calibration')
    }
  })

  it('an FID is one Cartesian line of its samples', () => {
    const plan = planSequence(parseSeq(writeSeq(fid({ numSamples: 256 }))))
    expect(plan).toMatchObject({ trajectory: 'cartesian', storeTrajectory: false, matrix: [256, 1, 1], slices: 1 })
  })

  it('refuses a sequence without ADC events', () => {
    const b = new SequenceBuilder(sys)
    b.addBlock({ duration: 1e-3 })
    expect(() => planSequence(b.build())).toThrow(SequencePlanError)
  })
})
