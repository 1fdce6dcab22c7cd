// Errors of the DICOM writer: raised before any byte is written, so that a reconstruction job fails
// with the reason (bad geometry, unknown code) instead of storing a file that viewers reject.

/** The input to writeMrImage cannot make a valid MR Image Storage instance. */
export class DicomWriteError extends Error {
  override name = 'DicomWriteError'

  constructor (message: string, options?: { cause?: unknown }) {
    super(message, options)
  }
}
