// eslint-disable-next-line no-restricted-imports -- tests read the shared fixtures from disk; the library does no I/O
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { fixture, hasFixtures } from '../../test/support/external-tools.ts'
import { SequenceBuilder } from './builder.ts'
import { BUILTIN_SEQUENCES, gre2d, multiSliceGre } from './builtin.ts'
import { makeAdc, makeBlockPulse, makeTrapezoid, systemLimits } from './design.ts'
import { encodeReadouts, type EncodedReadout } from './encoding.ts'
import { blockStarts, gradientArea } from './events.ts'
import { parseSeq } from './parse.ts'
import type { Sequence, TrapGradient } from './types.ts'

const read = (name: string): Sequence => parseSeq(readFileSync(fixture('pulseq', name), 'utf8'))

/** The same sequence without any label: no extension lists, no tables. */
function stripLabels (seq: Sequence): Sequence {
  return { ...seq, blocks: { ...seq.blocks, ext: new Int32Array(seq.blocks.length) }, extensions: { list: new Map(), tables: new Map() } }
}

/**
 * TE of a one-line-per-excitation Cartesian GRE by hand from the events: the readout's kx is the
 * prephaser's area plus the readout trapezoid's; it crosses 0 on the flat top at
 * delay + rise/2 − A_pre/amplitude, counted from the excitation's RF centre.
 */
function greTeByHand (seq: Sequence): number {
  const bl = seq.blocks
  const starts = blockStarts(bl.duration).start
  const exc = bl.rf.findIndex((id) => id !== 0)
  const adcBlock = bl.adc.findIndex((id, b) => id !== 0 && b > exc)
  const rf = seq.rf.get(bl.rf[exc])
  if (rf === undefined) throw new Error('no RF')
  let pre = 0
  for (let b = exc + 1; b < adcBlock; b++) {
    const g = seq.gradients.get(bl.gx[b])
    if (g !== undefined) pre += gradientArea(seq, g)
  }
  const ro = seq.gradients.get(bl.gx[adcBlock]) as TrapGradient
  expect(ro.type).toBe('trap')
  const crossing = ro.delay + ro.rise / 2 - pre / ro.amplitude
  return starts[adcBlock] + crossing - (starts[exc] + rf.delay + rf.center)
}

describe.skipIf(!hasFixtures())('encoding of the fixtures', () => {
  it('pypulseq write_gre (no labels): 64 lines numbered 0..63 by ky, each once, TE and TR from the events', () => {
    const seq = read('pypulseq_write_gre_v150.seq')
    const enc = encodeReadouts(seq)
    expect(enc.trajectory).toBe('cartesian-2d')
    expect(enc.ismrmrdTrajectory).toBe('cartesian')
    expect(enc.matrix).toEqual([64, 64, 1])
    expect(enc.labelled).toEqual([])
    const lines = enc.readouts.map((e) => e.line)
    expect([...lines].sort((a, b) => a - b)).toEqual(Array.from({ length: 64 }, (_, i) => i))
    // Each line sits where its ky says: line − 32 = ky·FOV, read from the phase-encode gradient areas.
    const bl = seq.blocks
    const areas: number[] = []
    for (let b = 0; b < bl.length; b++) {
      if (bl.adc[b] === 0) continue
      const g = seq.gradients.get(bl.gy[b - 2])
      areas.push(g === undefined ? 0 : gradientArea(seq, g))
    }
    enc.readouts.forEach((e, i) => expect(e.line - 32).toBe(Math.round(areas[i] * 0.256)))
    expect(enc.teS).toBeCloseTo(greTeByHand(seq), 7)
    expect(enc.teS).toBeCloseTo(5e-3, 6)
    expect(enc.trS).toBeCloseTo((317 + 100 + 81 + 324 + 378) * 1e-5, 9)
    expect(enc.warnings.some((w) => w.includes('no LIN labels'))).toBe(true)
  })

  it('the Prisma GRE (no labels): 256 lines, each once, TE by hand', () => {
    const seq = read('tutorial_gre_prisma_v140.seq')
    const enc = encodeReadouts(seq)
    expect(enc.matrix).toEqual([256, 256, 1])
    expect(new Set(enc.readouts.map((e) => e.line)).size).toBe(256)
    expect(Math.min(...enc.readouts.map((e) => e.line))).toBe(0)
    expect(enc.teS).toBeCloseTo(greTeByHand(seq), 7)
    expect(enc.limits.kspace_encoding_step_1).toEqual({ minimum: 0, maximum: 255, center: 128 })
  })

  it('the MATLAB GRE keeps the lines its LIN labels give', () => {
    const seq = read('pulseq_gre_v151.seq')
    const enc = encodeReadouts(seq)
    expect(enc.labelled).toEqual(['LIN'])
    expect(enc.trajectory).toBe('cartesian-2d')
    // Labelled and derived numbering agree on this file.
    const derived = encodeReadouts(stripLabels(seq))
    expect(derived.readouts.map((e) => e.line)).toEqual(enc.readouts.map((e) => e.line))
    expect(enc.limits.kspace_encoding_step_1).toEqual({ minimum: 0, maximum: 63, center: 32 })
  })

  it('the TSE: one excitation per train of 16 lines, effective TE at the centre line, TR 2 s', () => {
    const seq = read('pypulseq_write_tse_v150.seq')
    const enc = encodeReadouts(seq)
    expect(enc.trajectory).toBe('cartesian-2d')
    expect(enc.matrix).toEqual([64, 64, 1])
    expect(enc.echoTrainLength).toBe(16)
    expect(new Set(enc.readouts.map((e) => e.line)).size).toBe(64)
    expect(enc.readouts.every((e) => e.contrast === 0 && e.repetition === 0)).toBe(true)
    // Blocks of one echo: refocusing 2.2 ms, 1.69, readout 6.42, 1.69 (block table).
    // (The echo itself moves by 0.1 µs per echo: pypulseq's readout is 0.3 % short of 1/FOV by design.)
    expect(enc.echoSpacingS).toBeCloseTo((220 + 169 + 642 + 169) * 1e-5, 6)
    expect(enc.trS).toBeCloseTo(2, 9)
    // ky = 0 is the 8th echo of its train (lines 2, 6, ..., 30, 34: line 32 is sampled by the train
    // that starts at line 4, as its 8th echo), so TE is 8 echo spacings.
    expect(enc.teS).toBeCloseTo(8 * 12e-3, 5)
  })

  it('the MPRAGE (every revision): one slice per inversion from the RF offsets, TR the inversion period, TI to the centre line', () => {
    for (const v of ['120', '131', '142', '150']) {
      const seq = read(`pypulseq_mprage_v${v}.seq`)
      const enc = encodeReadouts(seq)
      const bl = seq.blocks
      const starts = blockStarts(bl.duration).start
      // By hand from the file: the inversion is the first block's pulse; the excitations sit under a
      // slab gradient and are moved by their frequency offsets; no gradient ever encodes kz.
      const invId = bl.rf[0]
      const inv = seq.rf.get(invId)
      if (inv === undefined) throw new Error('no inversion')
      const invBlocks = [...bl.rf.keys()].filter((b) => bl.rf[b] === invId)
      expect(invBlocks.length).toBe(3)
      const centreOf = (b: number): number => starts[b] + (seq.rf.get(bl.rf[b])?.delay ?? 0) + (seq.rf.get(bl.rf[b])?.center ?? 0)
      expect(enc.trS).toBeCloseTo(centreOf(invBlocks[1]) - centreOf(invBlocks[0]), 9)
      expect(enc.trS).toBeCloseTo(0.18974, 9)
      const freqs = new Set<number>()
      const slab = seq.gradients.get(bl.gz[2]) as TrapGradient
      for (let b = 0; b < bl.length; b++) if (bl.rf[b] !== 0 && bl.rf[b] !== invId) freqs.add(Math.round(seq.rf.get(bl.rf[b])?.freqOffset ?? 0))
      expect([...freqs].sort((a, b) => a - b)).toEqual([-1333, 0, 1333])
      expect(enc.trajectory).toBe('cartesian-2d')
      expect(enc.matrix).toEqual([32, 32, 1])
      expect(enc.slices).toBe(3)
      enc.slicePositionsM.forEach((p, i) => expect(p).toBeCloseTo((i - 1) * 1333.33 / slab.amplitude, 6))
      // Slice s holds the readouts of inversion s, lines 0..31 each once.
      for (let s = 0; s < 3; s++) {
        const lines = enc.readouts.filter((e) => e.slice === s).map((e) => e.line).sort((a, b) => a - b)
        expect(lines).toEqual(Array.from({ length: 32 }, (_, i) => i))
      }
      // TI: to the excitation whose phase encode (the block after it) has zero area.
      const adcBlocks = [...bl.adc.keys()].filter((b) => bl.adc[b] !== 0)
      const centreAdc = adcBlocks.find((b) => {
        const gy = seq.gradients.get(bl.gy[b - 1])
        return gy === undefined || gy.amplitude === 0
      }) as number
      let exc = centreAdc
      while (bl.rf[exc] === 0) exc--
      expect(enc.tiS).toBeCloseTo(centreOf(exc) - centreOf(invBlocks[0]), v === '120' || v === '131' ? 5 : 9)
      expect(enc.echoSpacingS).toBeCloseTo((315 + 100 + 46 + 100) * 1e-5, 9)
    }
  })

  it('the FIDs encode no space', () => {
    for (const name of ['pulseq_fid_v151.seq', 'tutorial_fid_trio_v140.seq']) {
      const enc = encodeReadouts(read(name))
      expect(enc.trajectory).toBe('fid')
      expect(enc.matrix).toBeUndefined()
      expect(enc.readouts.every((e) => e.line === 0 && e.slice === 0)).toBe(true)
    }
  })

  it('a file without ADC events has no readouts', () => {
    const enc = encodeReadouts(read('mrd_example_v142.seq'))
    expect(enc.readouts).toEqual([])
  })
})

describe('labelled and unlabelled built-in sequences', () => {
  it('gre with and without its labels: identical line and slice numbering', () => {
    const seq = gre2d({ matrix: [32, 24], noiseScans: 2 })
    const a = encodeReadouts(seq)
    const b = encodeReadouts(stripLabels(seq))
    expect(a.labelled).toEqual(['LIN', 'SLC'])
    expect(b.labelled).toEqual([])
    const pick = (e: EncodedReadout): [number, number, string] => [e.line, e.slice, e.role]
    expect(b.readouts.map(pick)).toEqual(a.readouts.map(pick))
    expect(a.readouts.filter((e) => e.role === 'noise').length).toBe(2)
    expect(b.matrix).toEqual([32, 24, 1])
    expect(b.limits).toEqual(a.limits)
  })

  it('every built-in sequence numbers its readouts the same with and without its labels', () => {
    const builtins = BUILTIN_SEQUENCES as unknown as Record<string, { build: (p: { matrix?: [number, number] }) => Sequence }>
    for (const [name, entry] of Object.entries(builtins)) {
      const seq = entry.build({ matrix: [32, 32] })
      const labelled = encodeReadouts(seq)
      const derived = encodeReadouts(stripLabels(seq))
      const counters = (e: EncodedReadout): string => `${e.line} ${e.partition} ${e.slice} ${e.contrast} ${e.repetition}`
      expect(derived.readouts.map(counters), name).toEqual(labelled.readouts.map(counters))
      expect(derived.trajectory, name).toBe(labelled.trajectory)
      // A calibration block's grid neighbour may join it when read from the lines alone: it is imaged either way.
      const role = (e: EncodedReadout): string => e.role === 'calibration-and-imaging' ? 'image' : e.role
      expect(derived.readouts.map(role), name).toEqual(labelled.readouts.map(role))
    }
  })

  it('LIN labels that put distinct phase encodes on one line are not trusted', () => {
    const seq = gre2d({ matrix: [16, 16] })
    // Every LABELINC of LIN becomes an increment by 0: the labels say line 0 throughout.
    for (const table of seq.extensions.tables.values()) {
      if (table.kind === 'labelinc') for (const ev of table.events.values()) if (ev.label === 'LIN') ev.value = 0
    }
    const enc = encodeReadouts(seq)
    expect(enc.readouts.map((e) => e.line)).toEqual(Array.from({ length: 16 }, (_, i) => i))
    expect(enc.labelled).toEqual(['SLC'])
    expect(enc.warnings.some((w) => w.includes('the LIN labels give 1 distinct values but the phase encodes visit 16'))).toBe(true)
  })

  it('without a SliceThickness or FOV definition the slice is as thick as the pulse bandwidth selects', () => {
    // A sinc of time-bandwidth 4 over 3 ms: 1333 Hz, for the 4 mm the design asked.
    const seq = gre2d({ matrix: [16, 16], sliceThicknessM: 0.004, rfDurationS: 3e-3, timeBandwidth: 4 })
    seq.definitions.delete('SliceThickness')
    seq.definitions.delete('FOV')
    const enc = encodeReadouts(seq)
    expect(Math.abs((enc.sliceThicknessM as number) / 0.004 - 1)).toBeLessThan(0.02)
    expect(enc.fovM?.[2]).toBe(enc.sliceThicknessM)
    expect(enc.warnings.some((w) => w.includes('bandwidth'))).toBe(true)
  })

  it('TE, TR and TI definitions are reported, and a disagreement with the events is named', () => {
    const seq = gre2d({ matrix: [16, 16], teS: 8e-3, trS: 20e-3 })
    seq.definitions.set('TE', '0.008')
    seq.definitions.set('TR', '0.025')
    const enc = encodeReadouts(seq)
    expect(enc.teS).toBe(0.008)
    expect(enc.trS).toBe(0.025)
    expect(enc.warnings.filter((w) => w.includes('definition says'))).toEqual(['the TR definition says 25.00 ms but the events give 20.00 ms; the definition is reported'])
  })

  it('gre-multislice without labels: slices from the RF offsets, in the order of their positions', () => {
    const seq = multiSliceGre({ matrix: [16, 16], slices: 5, sliceSpacingM: 0.008 })
    const labelled = encodeReadouts(seq)
    const derived = encodeReadouts(stripLabels(seq))
    expect(derived.slices).toBe(5)
    expect(derived.readouts.map((e) => e.slice)).toEqual(labelled.readouts.map((e) => e.slice))
    expect(derived.readouts.map((e) => e.line)).toEqual(labelled.readouts.map((e) => e.line))
    derived.slicePositionsM.forEach((p, i) => expect(p).toBeCloseTo((i - 2) * 0.008, 9))
    derived.readouts.forEach((e) => expect(e.sliceOffsetM).toBeCloseTo((e.slice - 2) * 0.008, 9))
    expect(derived.warnings.some((w) => w.includes('no SLC labels'))).toBe(true)
  })
})

// Small sequences built here, each with the geometry it was built for.
const sys = systemLimits()
const FOV = 0.256
const DK = 1 / FOV
const DWELL = 10e-6

const scaled = (g: TrapGradient, s: number): TrapGradient => ({ ...g, amplitude: g.amplitude * s })

/** A readout of n samples with sample n/2 at k = 0 after its prephaser. */
function readout (n: number): { gro: TrapGradient, pre: number, adc: ReturnType<typeof makeAdc> } {
  const gro = makeTrapezoid(sys, { flatArea: n * DK, flatTime: n * DWELL })
  const adc = makeAdc(sys, { numSamples: n, dwell: DWELL, delay: gro.rise })
  return { gro, adc, pre: -(gro.amplitude * gro.rise / 2 + (n / 2 + 0.5) * DWELL * gro.amplitude) }
}

function radial (spokes: number, angleOf: (i: number) => number, half = false): Sequence {
  const b = new SequenceBuilder(sys)
  b.setDefinition('FOV', [FOV, FOV, 0.005])
  const rf = makeBlockPulse(sys, { flipAngleDeg: 10, duration: 2e-4 })
  const n = 64
  const { gro, adc, pre } = readout(n)
  const preTrap = makeTrapezoid(sys, { area: pre })
  for (let i = 0; i < spokes; i++) {
    const t = angleOf(i)
    b.addBlock({ rf })
    if (half) {
      // Centre-out: sampling starts with the gradient, at k = 0.
      b.addBlock({ gx: scaled(gro, Math.cos(t)), gy: scaled(gro, Math.sin(t)), adc: { ...adc, delay: 0 } })
    } else {
      b.addBlock({ gx: scaled(preTrap, Math.cos(t)), gy: scaled(preTrap, Math.sin(t)) })
      b.addBlock({ gx: scaled(gro, Math.cos(t)), gy: scaled(gro, Math.sin(t)), adc })
    }
    b.addBlock({ duration: 2e-3 })
  }
  return b.build()
}

/** A Cartesian GRE over the given lines (ky = (line − ny/2)/FOV), optionally several echoes per excitation. */
function cartesian (ny: number, lines: number[], options: { echoes?: number, partitions?: number } = {}): Sequence {
  const b = new SequenceBuilder(sys)
  const nz = options.partitions ?? 1
  b.setDefinition('FOV', [FOV, FOV, nz > 1 ? FOV / 4 : 0.005])
  const rf = makeBlockPulse(sys, { flipAngleDeg: 10, duration: 2e-4 })
  const nx = 32
  const { gro, adc, pre } = readout(nx)
  const rewind = makeTrapezoid(sys, { area: -(gro.amplitude * (gro.rise + gro.flat)) })
  for (let p = 0; p < nz; p++) {
    for (const l of lines) {
      b.addBlock({ rf })
      const ky = (l - Math.floor(ny / 2)) * DK
      const kz = nz > 1 ? (p - Math.floor(nz / 2)) * 4 / FOV : 0
      b.addBlock({ gx: makeTrapezoid(sys, { area: pre, duration: 1e-3 }), gy: ky === 0 ? undefined : makeTrapezoid(sys, { area: ky, duration: 1e-3 }), gz: kz === 0 ? undefined : makeTrapezoid(sys, { area: kz, duration: 1e-3 }) })
      for (let e = 0; e < (options.echoes ?? 1); e++) {
        if (e > 0) b.addBlock({ gx: rewind })
        b.addBlock({ gx: gro, adc })
      }
      b.addBlock({ duration: 3e-3 })
    }
  }
  return b.build()
}

/**
 * A single-shot EPI: excitation, `navigators` readouts at ky = 0, then ny lines from −ny/2 with a blip
 * between lines. Returns the TE by construction: to the sample at kx = 0 of the line at ky = 0.
 */
function epi (ny: number, navigators: number): { seq: Sequence, teS: number } {
  const b = new SequenceBuilder(sys)
  b.setDefinition('FOV', [FOV, FOV, 0.005])
  const rf = makeBlockPulse(sys, { flipAngleDeg: 90, duration: 2e-4 })
  const nx = 32
  const { gro, adc, pre } = readout(nx)
  b.addBlock({ rf })
  const rfCentre = rf.delay + rf.center
  b.addBlock({ gx: makeTrapezoid(sys, { area: pre }) })
  let sign = 1
  let te = Number.NaN
  const line = (): void => {
    b.addBlock({ gx: scaled(gro, sign), adc })
    sign = -sign
  }
  for (let i = 0; i < navigators; i++) line()
  b.addBlock({ gy: makeTrapezoid(sys, { area: -Math.floor(ny / 2) * DK }) })
  const blip = makeTrapezoid(sys, { area: DK })
  for (let l = 0; l < ny; l++) {
    // kx = 0 is sample nx/2 going forwards, nx/2 − 1 going backwards (see readout()).
    if (l === Math.floor(ny / 2)) te = b.duration + adc.delay + (nx / 2 + (sign > 0 ? 0.5 : -0.5)) * DWELL - rfCentre
    line()
    if (l < ny - 1) b.addBlock({ gy: blip })
  }
  return { seq: b.build(), teS: te }
}

/**
 * A 3D MPRAGE as pypulseq writes it: readout along z, lines along x (inner loop), partitions along y
 * (one inversion each). Returns the inversion period and TI by construction.
 */
function mprage3d (ny: number, nz: number): { seq: Sequence, trS: number, tiS: number, echoSpacingS: number } {
  const b = new SequenceBuilder(sys)
  b.setDefinition('FOV', [FOV, FOV, FOV])
  const inversion = makeBlockPulse(sys, { flipAngleDeg: 180, duration: 1e-3, use: 'inversion' })
  const rf = makeBlockPulse(sys, { flipAngleDeg: 8, duration: 1e-4 })
  const { gro, adc, pre } = readout(32)
  let trS = 0
  let tiS = 0
  let echoSpacingS = 0
  for (let p = 0; p < nz; p++) {
    const start = b.duration
    b.addBlock({ rf: inversion })
    b.addBlock({ duration: 20e-3 })
    for (let l = 0; l < ny; l++) {
      const excitation = b.duration
      if (p === 0 && l === Math.floor(ny / 2)) tiS = excitation + rf.delay + rf.center - (start + inversion.delay + inversion.center)
      b.addBlock({ rf })
      const k1 = (l - Math.floor(ny / 2)) * DK
      const k2 = (p - Math.floor(nz / 2)) * DK
      b.addBlock({ gz: makeTrapezoid(sys, { area: pre, duration: 1e-3 }), gx: k1 === 0 ? undefined : makeTrapezoid(sys, { area: k1, duration: 1e-3 }), gy: k2 === 0 ? undefined : makeTrapezoid(sys, { area: k2, duration: 1e-3 }) })
      b.addBlock({ gz: gro, adc })
      b.addBlock({ duration: 1e-3 })
      if (l === 1) echoSpacingS = excitation - echoSpacingS
      if (l === 0) echoSpacingS = excitation
    }
    b.addBlock({ duration: 50e-3 })
    if (p === 0) trS = b.duration
  }
  return { seq: b.build(), trS, tiS, echoSpacingS }
}

describe('a 3D MPRAGE built here', () => {
  it('is cartesian-3d with its 3D matrix along the readout, the inner and the outer phase encode; TR is the inversion period', () => {
    const { seq, trS, tiS, echoSpacingS } = mprage3d(8, 4)
    for (const variant of ['1.5 (pulse use written)', 'before 1.5 (inversion read as refocusing)']) {
      if (variant.startsWith('before')) {
        for (const rf of seq.rf.values()) if (rf.use === 'inversion') Object.assign(rf, { use: 'refocusing', inferred: true })
      }
      const enc = encodeReadouts(seq)
      expect(enc.trajectory).toBe('cartesian-3d')
      expect(enc.axes).toEqual([2, 0, 1])
      expect(enc.matrix).toEqual([32, 8, 4])
      expect(enc.slices).toBe(1)
      expect(enc.readouts.map((e) => [e.line, e.partition])).toEqual(Array.from({ length: 32 }, (_, i) => [i % 8, Math.floor(i / 8)]))
      expect(enc.trS).toBeCloseTo(trS, 9)
      expect(enc.tiS).toBeCloseTo(tiS, 9)
      expect(enc.echoSpacingS).toBeCloseTo(echoSpacingS, 9)
      expect(enc.limits.kspace_encoding_step_2).toEqual({ minimum: 0, maximum: 3, center: 2 })
    }
  })
})

describe('trajectory classes of sequences built here', () => {
  it('radial spokes at uniform angles: radial, one line per spoke, matrix from kmax and FOV', () => {
    const enc = encodeReadouts(radial(16, (i) => i * Math.PI / 16))
    expect(enc.trajectory).toBe('radial')
    expect(enc.ismrmrdTrajectory).toBe('radial')
    expect(enc.goldenAngle).toBe(false)
    expect(enc.readouts.map((e) => e.line)).toEqual(Array.from({ length: 16 }, (_, i) => i))
    // kmax = 32 steps of 1/FOV: n = round(2·kmax·FOV) = 64.
    expect(enc.matrix?.[0]).toBe(64)
    expect(enc.readouts.every((e) => e.centreSample === 32)).toBe(true)
    // Spokes at 90° to 180° run towards −kx, but are not Cartesian lines to flip.
    expect(enc.readouts.some((e) => e.reverse)).toBe(false)
    // A MatrixSize definition names the image instead.
    const defined = radial(16, (i) => i * Math.PI / 16)
    defined.definitions.set('MatrixSize', '48 48 1')
    expect(encodeReadouts(defined).matrix).toEqual([48, 48, 1])
  })

  it('golden-angle spokes are named goldenangle; centre-out half spokes are UTE', () => {
    const golden = encodeReadouts(radial(12, (i) => i * (Math.sqrt(5) - 1) / 2 * Math.PI))
    expect(golden.trajectory).toBe('radial')
    expect(golden.goldenAngle).toBe(true)
    expect(golden.ismrmrdTrajectory).toBe('goldenangle')
    const ute = encodeReadouts(radial(16, (i) => i * 2 * Math.PI / 16, true))
    expect(ute.trajectory).toBe('ute')
    expect(ute.readouts.every((e) => e.centreSample === 0)).toBe(true)
  })

  it('EPI with three navigators: TE at the centre line (not the navigator), lines 0..n−1, reversed lines', () => {
    const { seq, teS } = epi(16, 3)
    const enc = encodeReadouts(seq)
    expect(enc.trajectory).toBe('epi')
    expect(enc.ismrmrdTrajectory).toBe('epi')
    expect(enc.epi).toEqual({ reversedLines: true, rampSampling: false, navigators: 3, partialFourier: 1 })
    expect(enc.readouts.slice(0, 3).every((e) => e.role === 'navigator')).toBe(true)
    expect(enc.readouts.slice(3).map((e) => e.line)).toEqual(Array.from({ length: 16 }, (_, i) => i))
    expect(enc.readouts.slice(3).every((e) => e.role === 'image' && e.contrast === 0 && e.repetition === 0)).toBe(true)
    // Directions alternate from the first navigator on.
    enc.readouts.forEach((e, i) => expect(e.reverse).toBe(i % 2 === 1))
    enc.readouts.forEach((e) => expect(e.centreSample).toBe(e.reverse ? 15 : 16))
    expect(enc.teS).toBeCloseTo(teS, 9)
    expect(enc.teS as number).toBeGreaterThan(5 * 0.35e-3)
    expect(enc.matrix).toEqual([32, 16, 1])
    expect(enc.echoTrainLength).toBe(16)
  })

  it('regular undersampling with a fully sampled centre: acceleration and calibration roles', () => {
    const ny = 32
    const lines = Array.from({ length: ny }, (_, i) => i).filter((l) => l % 2 === 0 || Math.abs(l - 16) < 4)
    const enc = encodeReadouts(cartesian(ny, lines))
    expect(enc.acceleration).toEqual([2, 1])
    // Line 31 is off the grid of even lines: that is undersampling, not partial Fourier.
    expect(enc.partialFourier).toEqual([1, 1])
    for (const e of enc.readouts) {
      // The block of consecutive lines runs from 12 to 20: its neighbours on the grid join it.
      const inBlock = Math.abs(e.line - 16) <= 4
      expect(e.role).toBe(!inBlock ? 'image' : e.line % 2 === 0 ? 'calibration-and-imaging' : 'calibration')
    }
    expect(enc.matrix).toEqual([32, 32, 1])
  })

  it('asymmetric coverage is partial Fourier; the matrix stays the full one', () => {
    const lines = Array.from({ length: 12 }, (_, i) => i)
    const enc = encodeReadouts(cartesian(16, lines))
    expect(enc.partialFourier[0]).toBeCloseTo(12 / 16, 12)
    expect(enc.matrix).toEqual([32, 16, 1])
    expect(enc.readouts.map((e) => e.line)).toEqual(lines)
    expect(enc.limits.kspace_encoding_step_1.center).toBe(8)
  })

  it('two echoes of each line are two contrasts with their own TE; a second pass is a repetition', () => {
    const lines = Array.from({ length: 8 }, (_, i) => i)
    const enc = encodeReadouts(cartesian(8, [...lines, ...lines], { echoes: 2 }))
    expect(enc.trajectory).toBe('cartesian-2d')
    expect(enc.readouts.map((e) => e.contrast)).toEqual(Array.from({ length: 32 }, (_, i) => i % 2))
    expect(enc.readouts.map((e) => e.repetition)).toEqual(Array.from({ length: 32 }, (_, i) => i < 16 ? 0 : 1))
    expect(enc.contrastTesS.length).toBe(2)
    const ro = readout(32)
    const rewind = makeTrapezoid(sys, { area: -(ro.gro.amplitude * (ro.gro.rise + ro.gro.flat)) })
    // The second echo comes one rewinder and one readout block later.
    const roBlock = Math.ceil((ro.gro.rise * 2 + ro.gro.flat + 0) / 1e-5 - 1e-9) * 1e-5
    const rwBlock = Math.ceil((rewind.rise * 2 + rewind.flat) / 1e-5 - 1e-9) * 1e-5
    expect(enc.contrastTesS[1] - enc.contrastTesS[0]).toBeCloseTo(roBlock + rwBlock, 9)
  })

  it('phase encoding along z as well: cartesian-3d with a 3D matrix', () => {
    const enc = encodeReadouts(cartesian(8, Array.from({ length: 8 }, (_, i) => i), { partitions: 4 }))
    expect(enc.trajectory).toBe('cartesian-3d')
    expect(enc.matrix).toEqual([32, 8, 4])
    expect(enc.fovM?.[2]).toBeCloseTo(FOV / 4, 12)
    expect(enc.readouts.map((e) => e.partition)).toEqual(Array.from({ length: 32 }, (_, i) => Math.floor(i / 8)))
    expect(enc.limits.kspace_encoding_step_2).toEqual({ minimum: 0, maximum: 3, center: 2 })
  })
})
