import { describe, expect, it } from 'vitest'
import { epi2d } from './builtin-epi.ts'
import { SeqBuildError } from './errors.ts'
import type { AdcReadout } from './kspace.ts'
import { excitationCentres, expectNoLabels, expectPhysical, imagingReadouts, roundTrip, sampleTime, totalDuration } from './builtin-test-support.ts'

/** Largest |ky - expected| over the readout. */
function kyError (r: AdcReadout, ky: number): number {
  let e = 0
  for (let m = 0; m < r.numSamples; m++) e = Math.max(e, Math.abs(r.ky[m] - ky))
  return e
}

const direction = (r: AdcReadout): number => Math.sign(r.kx[r.numSamples - 1] - r.kx[0])

describe('epi2d', () => {
  it('has three navigators at ky = 0 (+, -, +) and then every line once, alternating, on the grid', () => {
    const fov = 0.24
    const dk = 1 / fov
    const seq = roundTrip(epi2d({ fovM: fov }))
    expectPhysical(seq)
    const readouts = imagingReadouts(seq)
    expect(readouts.length).toBe(3 + 64)
    const navs = readouts.slice(0, 3)
    expect(navs.map((r) => r.labels.NAV)).toEqual([1, 1, 1])
    expect(navs.map((r) => r.labels.REV)).toEqual([0, 1, 0])
    expect(navs.map(direction)).toEqual([1, -1, 1])
    for (const r of navs) expect(kyError(r, 0)).toBeLessThan(1e-6)
    const lines = readouts.slice(3)
    expect(lines.map((r) => r.labels.LIN)).toEqual(Array.from({ length: 64 }, (_, i) => i))
    let gridError = 0
    lines.forEach((r, j) => {
      expect(r.labels.NAV).toBe(0)
      const reversed = j % 2 === 0
      expect(r.labels.REV).toBe(reversed ? 1 : 0)
      expect(direction(r)).toBe(reversed ? -1 : 1)
      expect(r.numSamples).toBe(64)
      gridError = Math.max(gridError, kyError(r, (r.labels.LIN - 32) * dk))
      // Forward: sample m at (m - N/2)·Δk; reversed: at (N/2 - 1 - m)·Δk, the same grid once flipped.
      for (let m = 0; m < r.numSamples; m++) {
        const expected = reversed ? (32 - 1 - m) * dk : (m - 32) * dk
        gridError = Math.max(gridError, Math.abs(r.kx[m] - expected))
      }
    })
    expect(gridError).toBeLessThan(1e-6)
  })

  it('reaches the centre line at the TE asked for, and lasts slices × TR', () => {
    const seq = roundTrip(epi2d({ teS: 40e-3, trS: 300e-3, slices: 3, matrix: [48, 48] }))
    expectPhysical(seq)
    const exc = excitationCentres(seq)
    expect(exc.length).toBe(3)
    const readouts = imagingReadouts(seq)
    for (let s = 0; s < 3; s++) {
      const ofSlice = readouts.filter((r) => r.labels.SLC === s)
      expect(ofSlice.length).toBe(3 + 48)
      const centre = ofSlice.find((r) => r.labels.LIN === 24 && r.labels.NAV === 0)
      if (centre === undefined) throw new Error('no centre line')
      const m = centre.labels.REV === 1 ? 23 : 24
      expect(Math.hypot(centre.kx[m], centre.ky[m])).toBeLessThan(1e-6)
      expect(Math.abs(sampleTime(centre, m) - exc[s] - 40e-3)).toBeLessThanOrEqual(5e-6 + 1e-9)
    }
    expect(totalDuration(seq)).toBeCloseTo(300e-3, 9)
    expect(Number(seq.definitions.get('TE'))).toBeCloseTo(40e-3, 5)
  })

  it('samples the ramps when asked: more samples, Nyquist on the flat top, the span covered, reversed lines mirror forward ones', () => {
    const fov = 0.256
    const dk = 1 / fov
    const plain = roundTrip(epi2d())
    const seq = roundTrip(epi2d({ rampSampling: true }))
    expectPhysical(seq)
    const readouts = imagingReadouts(seq)
    const lines = readouts.filter((r) => r.labels.NAV === 0)
    expect(lines.length).toBe(64)
    const n = lines[0].numSamples
    expect(n).toBeGreaterThan(64)
    expect(n % 2).toBe(0)
    // Shorter echo spacing than the flat-top-only readout.
    expect(Number(seq.definitions.get('EchoSpacing'))).toBeLessThan(Number(plain.definitions.get('EchoSpacing')))
    const adc = seq.adc.get(lines[0].adcId)
    const gx = seq.gradients.get(seq.blocks.gx[lines[0].block])
    if (adc === undefined || gx?.type !== 'trap') throw new Error('no readout')
    expect(adc.delay).toBeLessThan(gx.rise)
    const forward = lines.find((r) => r.labels.REV === 0)
    const reversed = lines.find((r) => r.labels.REV === 1)
    if (forward === undefined || reversed === undefined) throw new Error('no readouts of both polarities')
    let mirror = 0
    for (let m = 0; m < n; m++) mirror = Math.max(mirror, Math.abs(reversed.kx[n - 1 - m] - forward.kx[m]))
    expect(mirror).toBeLessThan(1e-6)
    expect(Math.abs(forward.kx[n / 2])).toBeLessThan(1e-6)
    expect(forward.kx[0]).toBeLessThanOrEqual(-32 * dk + 1e-6)
    expect(forward.kx[n - 1]).toBeGreaterThanOrEqual(31 * dk - 1e-6)
    for (let m = 1; m < n; m++) expect(forward.kx[m] - forward.kx[m - 1]).toBeLessThanOrEqual(dk * (1 + 1e-6))
    // The samples nearest the ends sit on the ramps, closer together than on the flat top.
    expect(forward.kx[1] - forward.kx[0]).toBeLessThan(0.9 * (forward.kx[n / 2 + 1] - forward.kx[n / 2]))
    let gridError = 0
    for (const r of lines) gridError = Math.max(gridError, kyError(r, (r.labels.LIN - 32) * dk))
    expect(gridError).toBeLessThan(1e-6)
  })

  for (const pf of [5 / 8, 6 / 8, 7 / 8]) {
    it(`with partial Fourier ${pf} acquires the last ${Math.round(pf * 64)} lines and reaches the centre sooner`, () => {
      const full = roundTrip(epi2d({ navigators: 0 }))
      const seq = roundTrip(epi2d({ partialFourier: pf, navigators: 0 }))
      expectPhysical(seq)
      const lines = imagingReadouts(seq)
      const kept = Math.round(pf * 64)
      expect(lines.map((r) => r.labels.LIN)).toEqual(Array.from({ length: kept }, (_, j) => 64 - kept + j))
      for (const r of lines) expect(kyError(r, (r.labels.LIN - 32) / 0.256)).toBeLessThan(1e-6)
      const echoSpacing = Number(seq.definitions.get('EchoSpacing'))
      const centre = lines.find((r) => r.labels.LIN === 32)
      if (centre === undefined) throw new Error('no centre line')
      const m = centre.labels.REV === 1 ? 31 : 32
      expect(Math.hypot(centre.kx[m], centre.ky[m])).toBeLessThan(1e-6)
      const te = sampleTime(centre, m) - excitationCentres(seq)[0]
      expect(te).toBeCloseTo(Number(seq.definitions.get('TE')), 9)
      // Shorter by the lines left out, and by what the shorter ky prephaser saves.
      const saved = Number(full.definitions.get('TE')) - te
      expect(saved).toBeGreaterThanOrEqual((64 - kept) * echoSpacing - 1e-9)
      expect(saved).toBeLessThan((64 - kept) * echoSpacing + 0.3e-3)
      // Without navigators the first line is a forward one.
      expect(lines[0].labels.REV).toBe(0)
    })
  }

  it('can leave the labels out, navigators still at ky = 0 with alternating readouts', () => {
    const seq = roundTrip(epi2d({ labels: false, matrix: [32, 32] }))
    expectNoLabels(seq)
    const readouts = imagingReadouts(seq)
    expect(readouts.length).toBe(35)
    readouts.slice(0, 3).forEach((r) => expect(kyError(r, 0)).toBeLessThan(1e-6))
    readouts.forEach((r, i) => expect(direction(r)).toBe(i % 2 === 0 ? 1 : -1))
  })

  it('refuses partial Fourier fractions other than 5/8 to 1 and a TE below the minimum', () => {
    expect(() => epi2d({ partialFourier: 0.5 })).toThrow(SeqBuildError)
    expect(() => epi2d({ teS: 1e-3 })).toThrow(/TE of 1\.000 ms is too short; the minimum is/)
    expect(() => epi2d({ navigators: 2 })).toThrow(/navigators must be 0 or 3/)
  })
})
