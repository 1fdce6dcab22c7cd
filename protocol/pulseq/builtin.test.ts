import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { fid, gre2d, multiSliceGre, spinEcho2d } from './builtin.ts'
import { DEFAULT_SYSTEM } from './design.ts'
import { SeqBuildError } from './errors.ts'
import { gradientArea } from './events.ts'
import { adcReadouts } from './kspace.ts'
import { rfPulses } from './interpret.ts'
import { summarize } from './summary.ts'
import type { Sequence } from './types.ts'

const onRaster = (t: number, raster: number): boolean => Math.abs(t / raster - Math.round(t / raster)) < 1e-6

/** Hardware and raster rules every built-in sequence must keep. */
function expectPhysical (seq: Sequence): void {
  const sys = DEFAULT_SYSTEM
  for (let b = 0; b < seq.blocks.length; b++) expect(onRaster(seq.blocks.duration[b], seq.rasters.blockDuration)).toBe(true)
  for (const g of seq.gradients.values()) {
    if (g.type !== 'trap') throw new Error('built-ins use trapezoids only')
    for (const t of [g.rise, g.flat, g.fall, g.delay]) expect(onRaster(t, seq.rasters.gradient)).toBe(true)
    expect(Math.abs(g.amplitude)).toBeLessThanOrEqual(sys.maxGrad * (1 + 1e-9))
    expect(Math.abs(g.amplitude) / g.rise).toBeLessThanOrEqual(sys.maxSlew * (1 + 1e-9))
    expect(Math.abs(g.amplitude) / g.fall).toBeLessThanOrEqual(sys.maxSlew * (1 + 1e-9))
  }
  for (const rf of seq.rf.values()) {
    expect(rf.delay).toBeGreaterThanOrEqual(sys.rfDeadTime - 1e-12)
    expect(onRaster(rf.delay, seq.rasters.rf)).toBe(true)
  }
  for (const adc of seq.adc.values()) {
    expect(onRaster(adc.dwell, seq.rasters.adc)).toBe(true)
    expect(onRaster(adc.delay, 1e-6)).toBe(true)
  }
}

/** Checks the Cartesian grid: LIN i at ky = (i - floor(Ny/2))/FOVy, sample n at kx = (n - N/2)/(os·FOVx), kz = 0. */
function expectCartesian (seq: Sequence, nx: number, ny: number, fovX: number, fovY: number, os: number, slices: number): void {
  const seen = new Set<string>()
  const tol = 1e-6 * nx / fovX
  for (const r of adcReadouts(seq)) {
    if (r.labels.NOISE === 1) continue
    const lin = r.labels.LIN
    const slc = r.labels.SLC
    seen.add(`${lin}/${slc}`)
    expect(r.numSamples).toBe(nx * os)
    for (let n = 0; n < r.numSamples; n++) {
      expect(Math.abs(r.kx[n] - (n - r.numSamples / 2) / (os * fovX))).toBeLessThan(tol)
      expect(Math.abs(r.ky[n] - (lin - Math.floor(ny / 2)) / fovY)).toBeLessThan(tol)
      expect(Math.abs(r.kz[n])).toBeLessThan(tol)
    }
  }
  expect(seen.size).toBe(ny * slices)
}

describe('gre2d', () => {
  it('has sane defaults: 64×64, FOV 256 mm, 5 mm slice, 15°, shortest TE and TR', () => {
    const seq = gre2d()
    const s = summarize(seq)
    expect(s).toMatchObject({ name: 'gre', matrix: [64, 64, 1], fovM: [0.256, 0.256, 0.005], readoutOversampling: 1, slices: 1, adcReadouts: 64 })
    expect(s.flipAngleDeg).toBeCloseTo(15, 6)
    expect(s.teS).toBeGreaterThan(2e-3)
    expect(s.teS).toBeLessThan(6e-3)
    expect(s.trS).toBeLessThan(12e-3)
    expect(s.definitions).toMatchObject({ Name: 'gre', FOV: [0.256, 0.256, 0.005], ReadoutOversamplingFactor: 1 })
    expectPhysical(seq)
    expectCartesian(seq, 64, 64, 0.256, 0.256, 1, 1)
  })

  it('meets the TE, TR and flip angle asked for', () => {
    const seq = gre2d({ teS: 6e-3, trS: 20e-3, flipAngleDeg: 25 })
    const s = summarize(seq)
    // TE is realised on the 10 µs block raster, so it can be off by half a step.
    expect(Math.abs((s.teS as number) - 6e-3)).toBeLessThanOrEqual(5e-6 + 1e-9)
    expect(s.trS).toBeCloseTo(20e-3, 9)
    expect(s.flipAngleDeg).toBeCloseTo(25, 6)
    expect(s.durationS).toBeCloseTo(64 * 20e-3, 9)
  })

  it('gives the readout gradient an area of Nx/FOV over the ADC window', () => {
    const nx = 128
    const fov = 0.3
    const seq = gre2d({ matrix: [nx, 96], fovM: [fov, 0.24], readoutOversampling: 2 })
    const adc = seq.adc.get(1)
    if (adc === undefined) throw new Error('no ADC')
    const b = seq.blocks.adc.indexOf(1)
    const gx = seq.gradients.get(seq.blocks.gx[b])
    if (gx?.type !== 'trap') throw new Error('no readout trapezoid')
    // The ADC lies on the flat top, so its area is amplitude × ADC duration.
    expect(adc.delay).toBeCloseTo(gx.delay + gx.rise, 12)
    expect(adc.delay + adc.numSamples * adc.dwell).toBeLessThanOrEqual(gx.delay + gx.rise + gx.flat + 1e-12)
    expect(gx.amplitude * adc.numSamples * adc.dwell).toBeCloseTo(nx / fov, 6)
    expect(adc.numSamples).toBe(2 * nx)
    expectPhysical(seq)
    expectCartesian(seq, nx, 96, fov, 0.24, 2, 1)
    expect(summarize(seq)).toMatchObject({ matrix: [128, 96, 1], readoutOversampling: 2 })
  })

  it('rewinds the phase encoding and spoils within each TR', () => {
    const seq = gre2d({ matrix: [32, 32] })
    // Between excitations, the y moment returns to 0 and x and z are spoiled by a fixed amount.
    let y = 0
    for (let b = 0; b < seq.blocks.length; b++) {
      const g = seq.gradients.get(seq.blocks.gy[b])
      if (g !== undefined) y += gradientArea(seq, g)
      if (seq.blocks.rf[b] !== 0) {
        expect(Math.abs(y)).toBeLessThan(1e-9)
        y = 0
      }
    }
  })

  it('refuses a TE below the minimum and says what the minimum is', () => {
    expect(() => gre2d({ teS: 1e-3 })).toThrow(SeqBuildError)
    expect(() => gre2d({ teS: 1e-3 })).toThrow(/TE of 1\.000 ms is too short; the minimum is \d\.\d{3} ms/)
    expect(() => gre2d({ trS: 1e-3 })).toThrow(/TR of 1\.000 ms is too short/)
    expect(() => gre2d({ matrix: [63, 64] })).toThrow(/must be even/)
    expect(() => gre2d({ matrix: [0, 64] })).toThrow(/whole number/)
    expect(() => gre2d({ fovM: -1 })).toThrow(/positive length/)
    expect(() => gre2d({ sliceThicknessM: 0.5e-3 })).toThrow(/needs \d+\.\d\d mT\/m, more than the system's 28\.00 mT\/m; use a thicker slice or a longer pulse/)
    expect(() => gre2d({ matrix: [256, 64], fovM: 0.05, readoutDurationS: 3.2e-3 })).toThrow(/make it last at least \d+\.\d\d ms or enlarge the FOV/)
    // Without an explicit readout duration, the readout simply lasts longer.
    expect(summarize(gre2d({ matrix: [256, 8], fovM: 0.05 })).matrix).toEqual([256, 8, 1])
  })

  it('uses RF spoiling with the quadratic 117° schedule on RF and ADC alike', () => {
    const seq = gre2d({ matrix: [16, 8] })
    const phases = [...rfPulses(seq)].map((p) => p.phaseOffset)
    const expected = (k: number): number => (117 * (k * k + k + 2) / 2 % 360) * Math.PI / 180
    phases.forEach((p, k) => expect(p).toBeCloseTo(expected(k), 9))
    const adcPhases = [...adcReadouts(seq)].map((r) => r.phaseOffset)
    adcPhases.forEach((p, k) => expect(p).toBeCloseTo(expected(k), 9))
  })
})

describe('any reasonable protocol', () => {
  it('builds physically valid GRE and spin-echo sequences whose summary matches the parameters', () => {
    const params = fc.record({
      nx: fc.constantFrom(32, 64, 96, 128, 256),
      ny: fc.integer({ min: 4, max: 64 }),
      fov: fc.double({ min: 0.05, max: 0.5, noNaN: true }),
      os: fc.constantFrom(1, 2),
      thickness: fc.double({ min: 2e-3, max: 10e-3, noNaN: true }),
      slices: fc.integer({ min: 1, max: 3 }),
      flip: fc.double({ min: 1, max: 90, noNaN: true }),
      spinEcho: fc.boolean()
    })
    fc.assert(fc.property(params, (p) => {
      const common = { matrix: [p.nx, p.ny] as [number, number], fovM: p.fov, readoutOversampling: p.os, sliceThicknessM: p.thickness, slices: p.slices, flipAngleDeg: p.flip }
      const seq = p.spinEcho ? spinEcho2d(common) : gre2d(common)
      expectPhysical(seq)
      const s = summarize(seq)
      expect(s.matrix).toEqual([p.nx, p.ny, 1])
      expect(s.readoutOversampling).toBe(p.os)
      expect(s.slices).toBe(p.slices)
      expect(s.flipAngleDeg).toBeCloseTo(p.flip, 6)
      expect(s.adcReadouts).toBe(p.ny * p.slices)
    }), { numRuns: 12 })
  })
})

describe('multiSliceGre', () => {
  it('interleaves slices within TR, selected by frequency, labelled SLC', () => {
    const seq = multiSliceGre({ slices: 4, sliceThicknessM: 4e-3, sliceSpacingM: 6e-3, trS: 100e-3 })
    const s = summarize(seq)
    expect(s).toMatchObject({ name: 'gre_multislice', slices: 4, matrix: [64, 64, 1] })
    expect(s.trS).toBeCloseTo(100e-3, 9)
    expect(s.durationS).toBeCloseTo(64 * 100e-3, 9)
    expectPhysical(seq)
    expectCartesian(seq, 64, 64, 0.256, 0.256, 1, 4)
    // Slice s is at (s - 1.5) × 6 mm: frequency = Gz × position.
    const pulses = [...rfPulses(seq)].slice(0, 4)
    const gz = seq.gradients.get(seq.blocks.gz[pulses[0].block])
    if (gz?.type !== 'trap') throw new Error('no slice gradient')
    pulses.forEach((p, i) => expect(p.freqOffset).toBeCloseTo(gz.amplitude * (i - 1.5) * 6e-3, 6))
    expect(s.ismrmrdEncoding?.encodingLimits.slice).toEqual({ minimum: 0, maximum: 3, center: 0 })
  })

  it('flags noise readouts and leaves them out of the encoding', () => {
    const seq = multiSliceGre({ slices: 2, noiseScans: 3 })
    const readouts = [...adcReadouts(seq)]
    expect(readouts.slice(0, 3).every((r) => r.labels.NOISE === 1 && Number.isNaN(r.excitation))).toBe(true)
    expect(readouts.slice(3).every((r) => r.labels.NOISE === 0)).toBe(true)
    expect(summarize(seq)).toMatchObject({ adcReadouts: 3 + 128, matrix: [64, 64, 1], slices: 2 })
  })
})

describe('spinEcho2d', () => {
  it('puts the refocusing pulse at TE/2 and the echo at TE', () => {
    const te = 30e-3
    const seq = spinEcho2d({ teS: te, trS: 600e-3 })
    const pulses = [...rfPulses(seq)]
    expect(pulses[0].use).toBe('excitation')
    expect(pulses[1].use).toBe('refocusing')
    expect(pulses[0].flipAngleDeg).toBeCloseTo(90, 6)
    expect(pulses[1].flipAngleDeg).toBeCloseTo(180, 6)
    expect(pulses[1].center - pulses[0].center).toBeCloseTo(te / 2, 9)
    const s = summarize(seq)
    expect(Math.abs((s.teS as number) - te)).toBeLessThanOrEqual(5e-6 + 1e-9)
    expect(s.trS).toBeCloseTo(600e-3, 9)
    expectPhysical(seq)
    expectCartesian(seq, 64, 64, 0.256, 0.256, 1, 1)
  })

  it('defaults to TE 20 ms and TR 500 ms', () => {
    const s = summarize(spinEcho2d({ matrix: [32, 32] }))
    expect(Math.abs((s.teS as number) - 20e-3)).toBeLessThanOrEqual(5e-6 + 1e-9)
    expect(s.trS).toBeCloseTo(500e-3, 9)
    expect(s.name).toBe('se')
  })
})

describe('fid', () => {
  it('excites with a hard 90° pulse and counts repetitions in REP', () => {
    const seq = fid({ repetitions: 4, trS: 0.5, numSamples: 2048, dwellS: 20e-6 })
    const s = summarize(seq)
    expect(s).toMatchObject({ name: 'fid', adcReadouts: 4, adcSamples: 4 * 2048, slices: 1 })
    expect(s.flipAngleDeg).toBeCloseTo(90, 9)
    expect(s.trS).toBeCloseTo(0.5, 9)
    expect(s.durationS).toBeCloseTo(2, 9)
    expect(s.matrix).toBeUndefined()
    expect([...adcReadouts(seq)].map((r) => r.labels.REP)).toEqual([0, 1, 2, 3])
    expectPhysical(seq)
  })
})
