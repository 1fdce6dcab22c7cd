// The DICOM stage of the reconstruction pipeline: reconstructed magnitude images to MR Image Storage
// files. Reading is shared with the viewer and lives in protocol/dicom.
export { DicomWriteError } from './errors.ts'
export { writeMrImage, mrImageUids, MR_IMAGE_STORAGE, IMPLEMENTATION_CLASS_UID, IMPLEMENTATION_VERSION_NAME } from './write-mr-image.ts'
export type { MrImageInput, PatientSex, PatientPosition, ScanningSequence, SequenceVariant, ScanOption } from './write-mr-image.ts'
export { imagePlane } from './geometry.ts'
export type { ImagePlane, SliceGeometry, Vec3 } from './geometry.ts'
export { scaleToStored, maxMagnitude, BITS_STORED, MAX_STORED_VALUE } from './scale.ts'
export type { StoredPixels } from './scale.ts'
