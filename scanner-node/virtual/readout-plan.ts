// What the virtual scanner needs to know of a sequence: where each ADC sample lies in k-space and when,
// and the timing that sets the contrast. Whatever plays a sequence (the Pulseq interpreter, or
// cartesian-plan.ts) produces these; the simulator turns them into ISMRMRD acquisitions.
//
// Frames: k is in the gradient frame of the sequence (Pulseq's x, y, z), in which the phantom is fixed.

/** The loop counters of a readout, as ISMRMRD's encoding counters name them. */
export interface ReadoutCounters {
  line: number
  partition: number
  slice: number
  average: number
  contrast: number
  repetition: number
  set: number
  segment: number
}

/** One ADC readout as the sequence plays it: the k-space position of each sample (1/m) and what the scanner knows about it. */
export interface PlannedReadout {
  /** per sample, cycles per metre */
  kx: Float64Array
  ky: Float64Array
  kz: Float64Array
  /** time between samples, seconds */
  dwellS: number
  /** time from the excitation to the centre sample (for an echo: its TE), seconds */
  timeFromExcitationS: number
  counters: ReadoutCounters
  /** noise calibration: the receiver records, no RF, no signal */
  isNoise?: boolean
  /** the readout runs from +k to −k; ISMRMRD's IS_REVERSE tells the reconstruction to flip it */
  isReverse?: boolean
  /** slice position along the slice normal (z) for multi-slice 2D, metres */
  sliceOffsetM?: number
  /** index of the sample at the echo (k-space centre of a Cartesian line); default ⌊n/2⌋ */
  centerSample?: number
  /** start of the readout's excitation since the start of the scan, seconds; default: one TR per readout */
  excitationTimeS?: number
  /**
   * spin echoes: time from the excitation to the spin echo this readout lies around (the centre of its
   * refocusing pulse doubled, less the excitation's). Default: in an excitation whose readouts alternate
   * in direction (an echo-planar train) the plan's TE, else the readout's own centre (each echo of a
   * turbo spin echo is refocused at the middle of its readout).
   */
  spinEchoTimeS?: number
  /** a navigator (phase-correction) readout of an echo train, not image data (ISMRMRD IS_PHASECORR_DATA) */
  isNavigator?: boolean
  /**
   * a line of the parallel-imaging calibration region: 'calibration' only for calibration
   * (IS_PARALLEL_CALIBRATION), 'calibration-and-imaging' also an image line of the undersampled pattern
   */
  parallelCalibration?: 'calibration' | 'calibration-and-imaging'
}

export interface SequenceTiming {
  teS: number
  trS: number
  flipAngleDeg: number
  tiS?: number
  kind: 'GRE' | 'SE' | 'FID' | 'OTHER'
}
