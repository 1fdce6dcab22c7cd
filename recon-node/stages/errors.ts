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
