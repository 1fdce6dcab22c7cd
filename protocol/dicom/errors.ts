// Errors of the DICOM codec. Readers get DicomReadError for anything they cannot decode, so that the
// viewer can show one clear message instead of a stack trace from inside dcmjs.

/** The bytes are not a DICOM file we can decode: not Part 10, truncated, or an unsupported encoding. */
export class DicomReadError extends Error {
  override name = 'DicomReadError'

  constructor (message: string, options?: { cause?: unknown }) {
    super(message, options)
  }
}

/** A well-formed DICOM file that uses something this reader does not decode (compression, colour, …). */
export class DicomUnsupportedError extends DicomReadError {
  override name = 'DicomUnsupportedError'
}
