// Refusals of the grappa stage (tests assert on `.name`). Each message names the buffer, what is
// missing and what would make the data reconstructable. They are ReconRefusedErrors: a refusal fails
// the job or command, no image being better than a wrong one.
import { ReconRefusedError } from './errors.ts'

/** Undersampled k-space without enough fully sampled calibration lines to fit GRAPPA kernels. */
export class GrappaCalibrationError extends ReconRefusedError {
  override name = 'GrappaCalibrationError'
}

/** The header's acceleration factor contradicts the lines actually acquired. */
export class AccelerationMismatchError extends ReconRefusedError {
  override name = 'AccelerationMismatchError'
}

/** A sampling pattern this stage does not fill: undersampling along PHS2, or holes too long to bridge. */
export class UnsupportedSamplingError extends ReconRefusedError {
  override name = 'UnsupportedSamplingError'
}
