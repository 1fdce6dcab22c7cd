// What the virtual scanner's hardware really does, unknown to the software until it calibrates: the
// spins' true resonance frequency and the actual B1 per nominal flip angle. Calibration tasks measure
// these and write the result into the device's parameters, as on a real scanner.
export interface VirtualMagnet {
  /** the true proton resonance of the magnet, Hz */
  trueLarmorHz: number
  /** actual over nominal flip angle at rfAmplitudeScale 1 */
  trueB1Scale: number
}

/** Larmor frequency of hydrogen per tesla, Hz/T. */
export const GAMMA_HZ_PER_T = 42.577478518e6

export function virtualMagnet (fieldStrengthT: number, options: { offsetHz?: number, b1Scale?: number } = {}): VirtualMagnet {
  return {
    trueLarmorHz: Math.round(GAMMA_HZ_PER_T * fieldStrengthT) + (options.offsetHz ?? 0),
    trueB1Scale: options.b1Scale ?? 1
  }
}
