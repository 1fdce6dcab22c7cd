// Import of ISMRMRD HDF5 files into the MRD in-memory types (recon-node only: it reads files).
export { readIsmrmrdHdf5 } from './read-ismrmrd-hdf5.ts'
export type { ReadIsmrmrdHdf5Options, IsmrmrdHdf5Import } from './read-ismrmrd-hdf5.ts'
export { IsmrmrdImportError } from './errors.ts'
export { compileAcquisitionLayout, decodeAcquisitionRow, acquisitionFromSliceRow } from './h5wasm-acquisitions.ts'
export type { AcquisitionRowLayout } from './h5wasm-acquisitions.ts'
