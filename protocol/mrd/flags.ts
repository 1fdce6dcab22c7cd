// Acquisition and image flags of ISMRMRD (ismrmrd/ismrmrd include/ismrmrd/ismrmrd.h, enums
// ISMRMRD_AcquisitionFlags and ISMRMRD_ImageFlags). Flag number N is bit N - 1 of the 64-bit flag
// word, so the numbers run from 1 to 64; bigint because bits 53..64 (COMPRESSION, USER) do not fit a
// JS number.

/** Acquisition flag numbers (1-based bit positions). */
export const AcquisitionFlag = {
  FIRST_IN_ENCODE_STEP1: 1,
  LAST_IN_ENCODE_STEP1: 2,
  FIRST_IN_ENCODE_STEP2: 3,
  LAST_IN_ENCODE_STEP2: 4,
  FIRST_IN_AVERAGE: 5,
  LAST_IN_AVERAGE: 6,
  FIRST_IN_SLICE: 7,
  LAST_IN_SLICE: 8,
  FIRST_IN_CONTRAST: 9,
  LAST_IN_CONTRAST: 10,
  FIRST_IN_PHASE: 11,
  LAST_IN_PHASE: 12,
  FIRST_IN_REPETITION: 13,
  LAST_IN_REPETITION: 14,
  FIRST_IN_SET: 15,
  LAST_IN_SET: 16,
  FIRST_IN_SEGMENT: 17,
  LAST_IN_SEGMENT: 18,
  IS_NOISE_MEASUREMENT: 19,
  IS_PARALLEL_CALIBRATION: 20,
  IS_PARALLEL_CALIBRATION_AND_IMAGING: 21,
  IS_REVERSE: 22,
  IS_NAVIGATION_DATA: 23,
  IS_PHASECORR_DATA: 24,
  LAST_IN_MEASUREMENT: 25,
  IS_HPFEEDBACK_DATA: 26,
  IS_DUMMYSCAN_DATA: 27,
  IS_RTFEEDBACK_DATA: 28,
  IS_SURFACECOILCORRECTIONSCAN_DATA: 29,
  IS_PHASE_STABILIZATION_REFERENCE: 30,
  IS_PHASE_STABILIZATION: 31,
  COMPRESSION1: 53,
  COMPRESSION2: 54,
  COMPRESSION3: 55,
  COMPRESSION4: 56,
  USER1: 57,
  USER2: 58,
  USER3: 59,
  USER4: 60,
  USER5: 61,
  USER6: 62,
  USER7: 63,
  USER8: 64
} as const

export type AcquisitionFlagName = keyof typeof AcquisitionFlag

/** Image flag numbers (1-based bit positions). */
export const ImageFlag = {
  IS_NAVIGATION_DATA: 1,
  USER1: 57,
  USER2: 58,
  USER3: 59,
  USER4: 60,
  USER5: 61,
  USER6: 62,
  USER7: 63,
  USER8: 64
} as const

export type ImageFlagName = keyof typeof ImageFlag

/** The bit of flag number n (1..64). */
export function flagBit (n: number): bigint {
  if (!Number.isInteger(n) || n < 1 || n > 64) {
    throw new RangeError(`ISMRMRD flag numbers run from 1 to 64, not ${n}`)
  }
  return 1n << BigInt(n - 1)
}

/** Whether flag number n is set in the flag word. */
export function hasFlag (flags: bigint, n: number): boolean {
  return (flags & flagBit(n)) !== 0n
}

/** The flag word with flag number n set. */
export function setFlag (flags: bigint, n: number): bigint {
  return flags | flagBit(n)
}

/** The flag word with flag number n cleared. */
export function clearFlag (flags: bigint, n: number): bigint {
  return flags & ~flagBit(n)
}

/** A flag word with exactly the flags numbered. */
export function flagsOf (...numbers: number[]): bigint {
  return numbers.reduce((flags, n) => setFlag(flags, n), 0n)
}

/** The names of the acquisition flags set in a flag word, for logs and warnings. */
export function acquisitionFlagNames (flags: bigint): AcquisitionFlagName[] {
  return (Object.keys(AcquisitionFlag) as AcquisitionFlagName[]).filter((name) => hasFlag(flags, AcquisitionFlag[name]))
}
