// The ISMRMRD acquisition flags the stages act on (ismrmrd.h, ISMRMRD_AcquisitionFlags). Flag number
// N is bit 1 << (N - 1) of the 64-bit flag word. Kept here rather than imported from protocol/mrd so
// that the reconstruction depends on nothing of the codec but its types.
import type { AcquisitionHeader } from '../../protocol/mrd/types.ts'

export const FIRST_IN_SLICE = 7
export const LAST_IN_SLICE = 8
export const LAST_IN_REPETITION = 14
export const IS_NOISE_MEASUREMENT = 19
export const IS_PARALLEL_CALIBRATION = 20
export const IS_PARALLEL_CALIBRATION_AND_IMAGING = 21
export const IS_REVERSE = 22
export const IS_NAVIGATION_DATA = 23
export const IS_PHASECORR_DATA = 24
export const LAST_IN_MEASUREMENT = 25
export const IS_HPFEEDBACK_DATA = 26
export const IS_DUMMYSCAN_DATA = 27
export const IS_RTFEEDBACK_DATA = 28
export const IS_SURFACECOILCORRECTIONSCAN_DATA = 29

/** The bit of flag number `flag`. */
export function flagBit (flag: number): bigint {
  return 1n << BigInt(flag - 1)
}

/** Whether flag number `flag` is set in the header. */
export function isFlagSet (head: Pick<AcquisitionHeader, 'flags'>, flag: number): boolean {
  return (head.flags & flagBit(flag)) !== 0n
}

/** The flag word with the given flag numbers set. */
export function flagsOf (...flags: number[]): bigint {
  let word = 0n
  for (const f of flags) word |= flagBit(f)
  return word
}

/** Readouts that are not image data of the encoding: they never go into an image buffer. */
export const NOT_IMAGE_DATA = flagsOf(
  IS_NOISE_MEASUREMENT, IS_NAVIGATION_DATA, IS_PHASECORR_DATA, IS_HPFEEDBACK_DATA, IS_DUMMYSCAN_DATA,
  IS_RTFEEDBACK_DATA, IS_SURFACECOILCORRECTIONSCAN_DATA
)
