import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { AcquisitionFlag, ImageFlag, acquisitionFlagNames, clearFlag, flagBit, flagsOf, hasFlag, setFlag } from './flags.ts'

describe('ISMRMRD flags', () => {
  it('numbers the flags as ismrmrd.h does', () => {
    expect(AcquisitionFlag.FIRST_IN_ENCODE_STEP1).toBe(1)
    expect(AcquisitionFlag.FIRST_IN_SLICE).toBe(7)
    expect(AcquisitionFlag.LAST_IN_SLICE).toBe(8)
    expect(AcquisitionFlag.IS_NOISE_MEASUREMENT).toBe(19)
    expect(AcquisitionFlag.IS_PARALLEL_CALIBRATION).toBe(20)
    expect(AcquisitionFlag.IS_REVERSE).toBe(22)
    expect(AcquisitionFlag.LAST_IN_MEASUREMENT).toBe(25)
    expect(AcquisitionFlag.IS_PHASE_STABILIZATION).toBe(31)
    expect(AcquisitionFlag.COMPRESSION1).toBe(53)
    expect(AcquisitionFlag.USER1).toBe(57)
    expect(AcquisitionFlag.USER8).toBe(64)
    expect(ImageFlag.IS_NAVIGATION_DATA).toBe(1)
    expect(ImageFlag.USER8).toBe(64)
    // The sequence 1..31 has no gaps.
    const low = Object.values(AcquisitionFlag).filter((n) => n <= 31).sort((a, b) => a - b)
    expect(low).toEqual(Array.from({ length: 31 }, (_, i) => i + 1))
  })

  it('maps flag N to bit N - 1, up to bit 63', () => {
    expect(flagBit(1)).toBe(1n)
    expect(flagBit(AcquisitionFlag.FIRST_IN_SLICE)).toBe(64n)
    expect(flagBit(AcquisitionFlag.USER8)).toBe(1n << 63n)
    expect(() => flagBit(0)).toThrow(RangeError)
    expect(() => flagBit(65)).toThrow(RangeError)
    expect(() => flagBit(1.5)).toThrow(RangeError)
  })

  it('sets, tests and clears flags without touching the others', () => {
    fc.assert(fc.property(fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), fc.integer({ min: 1, max: 64 }), (flags, n) => {
      const set = setFlag(flags, n)
      expect(hasFlag(set, n)).toBe(true)
      const cleared = clearFlag(set, n)
      expect(hasFlag(cleared, n)).toBe(false)
      expect(cleared | flagBit(n)).toBe(set)
      expect(set & ~flagBit(n)).toBe(flags & ~flagBit(n))
    }))
  })

  it('names the flags of a word', () => {
    const flags = flagsOf(AcquisitionFlag.LAST_IN_SLICE, AcquisitionFlag.IS_NOISE_MEASUREMENT, AcquisitionFlag.USER8)
    expect(acquisitionFlagNames(flags)).toEqual(['LAST_IN_SLICE', 'IS_NOISE_MEASUREMENT', 'USER8'])
    expect(acquisitionFlagNames(0n)).toEqual([])
  })
})
