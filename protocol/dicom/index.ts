// DICOM for both sides: reading images and listing their tags (viewer and recon peers), and the
// deterministic UIDs that the writer in recon-node stamps on them.
export { DicomReadError, DicomUnsupportedError } from './errors.ts'
export { readDicom, parseDicom, SUPPORTED_TRANSFER_SYNTAXES } from './read.ts'
export type { DicomImage, DicomPixels, ParsedDicom, NaturalDataset } from './read.ts'
export { listTags } from './tags.ts'
export type { TagRow, ListTagsOptions } from './tags.ts'
export { deterministicUid, isValidUid, uidToUuid, MAX_UID_LENGTH } from './uid.ts'
export type { UidKind } from './uid.ts'
export {
  IMPLICIT_VR_LITTLE_ENDIAN,
  EXPLICIT_VR_LITTLE_ENDIAN,
  DEFLATED_EXPLICIT_VR_LITTLE_ENDIAN,
  EXPLICIT_VR_BIG_ENDIAN
} from './structure.ts'
