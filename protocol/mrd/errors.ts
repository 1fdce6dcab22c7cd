// Errors of the MRD codec. Each is a named class so that callers (and tests) can tell a bad peer or
// a bad file from a bug of ours by `.name`.

/**
 * Bytes that break the MRD v1 streaming protocol (unknown message id, a length above its limit,
 * truncation, a header version other than 1, ...), or a value that cannot be encoded in it. A stream
 * that produced one cannot be trusted any more: the decoder that threw stays failed.
 */
export class MrdProtocolError extends Error {
  override name = 'MrdProtocolError'
}

/** Text that is not well-formed XML, or not an ISMRMRD header the schema subset can read. */
export class IsmrmrdXmlError extends Error {
  override name = 'IsmrmrdXmlError'
}
