// Named errors of the reconstruction stages and pipeline (tests assert on `.name`).

/** The chain names a stage that does not exist. */
export class UnknownStageError extends Error {
  override name = 'UnknownStageError'
}

/** A stage parameter is unknown or of the wrong type or range. */
export class InvalidParamError extends Error {
  override name = 'InvalidParamError'
}

/** Acquisitions of one buffer (or noise and data) disagree on the number of channels. */
export class ChannelCountError extends Error {
  override name = 'ChannelCountError'
}

/** An acquisition's data does not match its header (samples x channels x 2 floats). */
export class AcquisitionShapeError extends Error {
  override name = 'AcquisitionShapeError'
}

/** The ONNX model cannot be loaded, or does not take and give [1, 1, H, W] float32. */
export class OnnxModelError extends Error {
  override name = 'OnnxModelError'
}

/** runPipeline was aborted through its signal. */
export class PipelineAbortedError extends Error {
  override name = 'PipelineAbortedError'
}

/**
 * The data cannot be reconstructed correctly by this chain (undersampled without calibration lines, no
 * trajectory for non-Cartesian readouts, a header that contradicts the data, ...). The message names
 * what is missing. A refusal fails the job or command: no image is better than a wrong one.
 */
export class ReconRefusedError extends Error {
  override name = 'ReconRefusedError'
}

/** A k-space buffer has lines missing between acquired ones, and nothing in the chain filled them. */
export class UndersampledError extends ReconRefusedError {
  override name = 'UndersampledError'
}
