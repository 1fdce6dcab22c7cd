import { describe, expect, it } from 'vitest'
import { GOLDEN_ANGLE_FULL_SPOKE, GOLDEN_ANGLE_HALF_SPOKE, radial2d, ute2d } from './builtin-radial.ts'
import { SeqBuildError } from './errors.ts'
import { excitationCentres, expectNoLabels, expectPhysical, imagingReadouts, roundTrip, sampleTime, totalDuration } from './builtin-test-support.ts'

/** Difference of two angles, wrapped to (-π, π]. */
function angleDiff (a: number, b: number): number {
  const d = (a - b) % (2 * Math.PI)
  return d > Math.PI ? d - 2 * Math.PI : d <= -Math.PI ? d + 2 * Math.PI : d
}

describe('radial2d', () => {
  it('has ⌈π/2·N⌉ full spokes through k = 0, uniform over 180°, reaching N/(2·FOV)', () => {
    const n = 32
    const fov = 0.2
    const seq = roundTrip(radial2d({ matrix: [n, n], fovM: fov }))
    expectPhysical(seq)
    const readouts = imagingReadouts(seq)
    const spokes = Math.ceil(Math.PI / 2 * n)
    expect(readouts.length).toBe(spokes)
    expect(seq.definitions.get('MatrixSize')).toBe('32 32 1')
    const dk = 1 / fov
    readouts.forEach((r, i) => {
      const phi = i * Math.PI / spokes
      expect(r.labels.LIN).toBe(i)
      expect(r.numSamples).toBe(n)
      // Sample m sits at (m - N/2)·Δk along the spoke direction, so sample N/2 is the centre.
      let error = 0
      for (let m = 0; m < n; m++) {
        const along = (m - n / 2) * dk
        error = Math.max(error, Math.abs(r.kx[m] - along * Math.cos(phi)), Math.abs(r.ky[m] - along * Math.sin(phi)), Math.abs(r.kz[m]))
      }
      expect(error).toBeLessThan(1e-6)
      expect(Math.hypot(r.kx[0], r.ky[0])).toBeCloseTo(n / (2 * fov), 6)
      expect(angleDiff(Math.atan2(r.ky[n - 1], r.kx[n - 1]), phi)).toBeCloseTo(0, 9)
    })
  })

  it('turns each spoke by the golden angle 111.246° when asked', () => {
    const seq = roundTrip(radial2d({ matrix: [32, 32], goldenAngle: true, spokes: 40, readoutOversampling: 2 }))
    expectPhysical(seq)
    expect(GOLDEN_ANGLE_FULL_SPOKE * 180 / Math.PI).toBeCloseTo(111.246, 3)
    const readouts = imagingReadouts(seq)
    expect(readouts.length).toBe(40)
    readouts.forEach((r, i) => {
      const last = r.numSamples - 1
      expect(angleDiff(Math.atan2(r.ky[last], r.kx[last]), i * GOLDEN_ANGLE_FULL_SPOKE)).toBeCloseTo(0, 9)
      expect(Math.hypot(r.kx[32], r.ky[32])).toBeLessThan(1e-6)
      expect(Math.hypot(r.kx[0], r.ky[0])).toBeCloseTo(32 / (2 * 0.256), 6)
    })
  })

  it('puts the centre at TE and lasts spokes × TR; labels can be left out', () => {
    const seq = roundTrip(radial2d({ matrix: [32, 32], spokes: 20, teS: 5e-3, trS: 10e-3, labels: false }))
    expectNoLabels(seq)
    const exc = excitationCentres(seq)
    imagingReadouts(seq).forEach((r, i) => expect(Math.abs(sampleTime(r, 16) - exc[i] - 5e-3)).toBeLessThanOrEqual(5e-6 + 1e-9))
    expect(totalDuration(seq)).toBeCloseTo(20 * 10e-3, 9)
  })
})

describe('ute2d', () => {
  it('samples half spokes from k ≈ 0, ramp included, out to N/(2·FOV) over 360°', () => {
    const n = 64
    const fov = 0.256
    const seq = roundTrip(ute2d())
    expectPhysical(seq)
    const readouts = imagingReadouts(seq)
    const spokes = Math.ceil(Math.PI * n)
    expect(readouts.length).toBe(spokes)
    expect(seq.definitions.get('MatrixSize')).toBe('64 64 1')
    const dk = 1 / fov
    const kmax = n / (2 * fov)
    const first = seq.blocks.gx[readouts[0].block]
    const gx = seq.gradients.get(first)
    if (gx?.type !== 'trap') throw new Error('no readout trapezoid')
    readouts.forEach((r, i) => {
      const phi = 2 * Math.PI * i / spokes
      // The ADC opens with the readout gradient: the first sample is half a dwell in, at most half a step out.
      expect(seq.adc.get(r.adcId)?.delay).toBe(0)
      expect(gx.delay).toBe(0)
      const k0 = Math.hypot(r.kx[0], r.ky[0])
      expect(k0).toBeLessThanOrEqual(0.5 * dk * (1 + 1e-9))
      const last = r.numSamples - 1
      const kEnd = Math.hypot(r.kx[last], r.ky[last])
      expect(kEnd).toBeGreaterThanOrEqual(kmax * (1 - 1e-9))
      expect(kEnd - Math.hypot(r.kx[last - 1], r.ky[last - 1])).toBeLessThanOrEqual(dk * (1 + 1e-6))
      expect(kEnd - kmax).toBeLessThan(dk)
      // Straight, monotonic, along φ; the spacing never exceeds Δk (Nyquist along the spoke).
      let previous = -1
      for (let m = 0; m < r.numSamples; m++) {
        const k = Math.hypot(r.kx[m], r.ky[m])
        expect(k).toBeGreaterThan(previous)
        expect(k - Math.max(previous, 0)).toBeLessThanOrEqual(dk * (1 + 1e-6))
        previous = k
      }
      expect(angleDiff(Math.atan2(r.ky[last], r.kx[last]), phi)).toBeCloseTo(0, 9)
    })
  })

  it('samples the ramp of a fast readout, starting within 1% of a step from k = 0', () => {
    const fov = 0.2
    const dk = 1 / fov
    const seq = roundTrip(ute2d({ matrix: [128, 128], fovM: fov, readoutDurationS: 0.4e-3, spokes: 8 }))
    expectPhysical(seq)
    for (const r of imagingReadouts(seq)) {
      const k = Array.from(r.kx, (x, m) => Math.hypot(x, r.ky[m]))
      expect(k[0]).toBeLessThan(0.01 * dk)
      // On the ramp the steps grow with the gradient; on the flat top they are Δk.
      expect(k[1] - k[0]).toBeLessThan(0.2 * dk)
      expect(k[5] - k[4]).toBeGreaterThan(k[1] - k[0])
      expect(k[r.numSamples - 1] - k[r.numSamples - 2]).toBeCloseTo(dk, 6)
      expect(k[r.numSamples - 1]).toBeGreaterThanOrEqual(64 * dk * (1 - 1e-9))
    }
  })

  it('has an ultrashort TE from the hard pulse centre to the first sample', () => {
    const seq = roundTrip(ute2d({ matrix: [32, 32], spokes: 16 }))
    const exc = excitationCentres(seq)
    const readouts = imagingReadouts(seq)
    const te = readouts.map((r, i) => sampleTime(r, 0) - exc[i])
    expect(Math.max(...te) - Math.min(...te)).toBeLessThan(1e-9)
    expect(te[0]).toBeLessThan(200e-6)
    expect(Number(seq.definitions.get('TE'))).toBeCloseTo(te[0], 9)
    expect(Math.abs(te[0] - (readouts[0].start + readouts[0].dwell / 2 - exc[0]))).toBeLessThan(1e-12)
  })

  it('turns half spokes by the 360° golden angle, selects a slice when asked, and leaves labels out when asked', () => {
    const seq = roundTrip(ute2d({ matrix: [32, 32], spokes: 24, goldenAngle: true, excitation: 'slice', labels: false }))
    expectNoLabels(seq)
    expectPhysical(seq)
    imagingReadouts(seq).forEach((r, i) => {
      const last = r.numSamples - 1
      expect(angleDiff(Math.atan2(r.ky[last], r.kx[last]), i * GOLDEN_ANGLE_HALF_SPOKE)).toBeCloseTo(0, 9)
      expect(Math.hypot(r.kx[0], r.ky[0], r.kz[0])).toBeLessThanOrEqual(0.5 / 0.256)
    })
    expect(() => ute2d({ slices: 2 })).toThrow(SeqBuildError)
  })
})
