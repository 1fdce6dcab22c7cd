/**
 * A file that cannot be imported as ISMRMRD HDF5: missing, not HDF5, without the `/dataset/xml` and
 * `/dataset/data` an ISMRMRD file has, with an unreadable XML header, or with acquisitions whose arrays
 * disagree with their headers. Implausible header values are warnings, not this error.
 */
export class IsmrmrdImportError extends Error {
  override name = 'IsmrmrdImportError'
}
