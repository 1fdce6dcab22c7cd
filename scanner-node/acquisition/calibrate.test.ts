import { describe, expect, it } from 'vitest'
import { calibrate } from './calibrate.ts'
import { virtualMagnet } from './virtual-magnet.ts'

describe('calibration on the virtual scanner', () => {
  for (const planted of [150, -150, 37, 900]) {
    it(`finds a planted ${planted} Hz frequency offset within 5 Hz`, () => {
      const magnet = virtualMagnet(0.05, { offsetHz: planted })
      const nominal = Math.round(42.577478518e6 * 0.05)
      const outcome = calibrate('FREQUENCY', { larmorFrequencyHz: nominal, rfAmplitudeScale: 1 }, magnet)
      expect(Math.abs(outcome.parameters.larmorFrequencyHz - magnet.trueLarmorHz)).toBeLessThan(5)
      expect(Math.abs(Number(outcome.measured.offsetHz) - planted)).toBeLessThan(5)
      // a second calibration finds nothing left to correct
      const again = calibrate('FREQUENCY', { larmorFrequencyHz: outcome.parameters.larmorFrequencyHz, rfAmplitudeScale: 1 }, magnet)
      expect(Math.abs(Number(again.measured.offsetHz))).toBeLessThan(5)
    })
  }

  it('finds a planted B1 scale and corrects the RF amplitude', () => {
    const magnet = virtualMagnet(0.05, { b1Scale: 0.8 })
    const outcome = calibrate('FLIP_ANGLE', { larmorFrequencyHz: magnet.trueLarmorHz, rfAmplitudeScale: 1 }, magnet)
    expect(Number(outcome.measured.b1Scale)).toBeCloseTo(0.8, 1)
    expect(outcome.parameters.rfAmplitudeScale * 0.8).toBeCloseTo(1, 1)
  })
})
