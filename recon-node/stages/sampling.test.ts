import { describe, expect, it } from 'vitest'
import { UndersampledError } from './errors.ts'
import { refuseUndersampled, samplingGaps } from './sampling.ts'

function pattern (ny: number, acquired: (y: number) => boolean): Uint8Array {
  return Uint8Array.from({ length: ny }, (_, y) => acquired(y) ? 1 : 0)
}

describe('sampling pattern of a k-space buffer', () => {
  it('passes full sampling, zero filling beyond the acquired lines and partial Fourier', () => {
    expect(() => { refuseUndersampled([8, 64, 1, 1], pattern(64, () => true), 'x') }).not.toThrow()
    // 48 lines acquired in the middle of a 64-line buffer: zero filling
    expect(() => { refuseUndersampled([8, 64, 1, 1], pattern(64, (y) => y >= 8 && y < 56), 'x') }).not.toThrow()
    // 5/8 partial Fourier: the first 24 lines never acquired
    expect(() => { refuseUndersampled([8, 64, 1, 1], pattern(64, (y) => y >= 24), 'x') }).not.toThrow()
    expect(() => { refuseUndersampled([8, 64, 1, 1], undefined, 'x') }).not.toThrow()
  })

  it('refuses every other line missing, naming the acceleration', () => {
    const sampled = pattern(64, (y) => y % 2 === 0)
    const gaps = samplingGaps([8, 64, 1, 1], sampled)
    expect(gaps.missing1).toBe(31)
    expect(gaps.step1).toBe(2)
    expect(() => { refuseUndersampled([8, 64, 1, 1], sampled, 'slice 0') }).toThrow(UndersampledError)
    expect(() => { refuseUndersampled([8, 64, 1, 1], sampled, 'slice 0') }).toThrow(/slice 0: k-space is undersampled: 31 phase-encoding lines .* 1 line in 2 acquired.*grappa/)
  })

  it('refuses R = 3 with a calibration block at the centre', () => {
    const sampled = pattern(96, (y) => y % 3 === 0 || (y >= 36 && y < 60))
    const gaps = samplingGaps([8, 96, 1, 1], sampled)
    expect(gaps.missing1).toBeGreaterThan(0)
    expect(() => { refuseUndersampled([8, 96, 1, 1], sampled, 'x') }).toThrow(UndersampledError)
  })

  it('refuses missing partitions of a 3D buffer', () => {
    const ny = 4
    const nz = 8
    const sampled = new Uint8Array(ny * nz)
    for (let z = 0; z < nz; z += 2) for (let y = 0; y < ny; y++) sampled[y + ny * z] = 1
    const gaps = samplingGaps([4, ny, nz, 1], sampled)
    expect(gaps.missing2).toBe(3)
    expect(gaps.step2).toBe(2)
    expect(() => { refuseUndersampled([4, ny, nz, 1], sampled, 'x') }).toThrow(/3 partitions are missing/)
  })
})
