// The in-memory shape of ISMRMRD (MRD v1) data, shared by the codec (protocol/mrd), the scanner
// (scanner-node) and the reconstruction (recon-node). Field names follow ismrmrd.h in camelCase.

/** The encoding counters of an acquisition (ISMRMRD_EncodingCounters, 34 bytes). */
export interface EncodingCounters {
  kspaceEncodeStep1: number
  kspaceEncodeStep2: number
  average: number
  slice: number
  contrast: number
  phase: number
  repetition: number
  set: number
  segment: number
  /** 8 values */
  user: number[]
}

/** ISMRMRD_AcquisitionHeader, 340 bytes on the wire. */
export interface AcquisitionHeader {
  version: number
  /** 64-bit flag word; flag N is bit 1n << BigInt(N - 1). */
  flags: bigint
  measurementUid: number
  scanCounter: number
  acquisitionTimeStamp: number
  /** 3 values */
  physiologyTimeStamp: number[]
  numberOfSamples: number
  availableChannels: number
  activeChannels: number
  /** 16 values of 64 bits */
  channelMask: bigint[]
  discardPre: number
  discardPost: number
  centerSample: number
  encodingSpaceRef: number
  trajectoryDimensions: number
  sampleTimeUs: number
  /** [x, y, z] in mm, patient coordinates */
  position: [number, number, number]
  readDir: [number, number, number]
  phaseDir: [number, number, number]
  sliceDir: [number, number, number]
  patientTablePosition: [number, number, number]
  idx: EncodingCounters
  /** 8 values */
  userInt: number[]
  /** 8 values */
  userFloat: number[]
}

/**
 * One acquisition (readout): header, trajectory (trajectoryDimensions × numberOfSamples, dimension
 * fastest) and data (activeChannels × numberOfSamples complex samples, channel-major, re/im interleaved,
 * so data.length = 2 × activeChannels × numberOfSamples).
 */
export interface Acquisition {
  head: AcquisitionHeader
  traj: Float32Array
  data: Float32Array
}

/** ISMRMRD_ImageHeader, 198 bytes on the wire. */
export interface ImageHeader {
  version: number
  /** 1 ushort, 2 short, 3 uint, 4 int, 5 float, 6 double, 7 complex float, 8 complex double */
  dataType: number
  flags: bigint
  measurementUid: number
  matrixSize: [number, number, number]
  fieldOfView: [number, number, number]
  channels: number
  position: [number, number, number]
  readDir: [number, number, number]
  phaseDir: [number, number, number]
  sliceDir: [number, number, number]
  patientTablePosition: [number, number, number]
  average: number
  slice: number
  contrast: number
  phase: number
  repetition: number
  set: number
  acquisitionTimeStamp: number
  physiologyTimeStamp: number[]
  imageType: number
  imageIndex: number
  imageSeriesIndex: number
  userInt: number[]
  userFloat: number[]
  attributeStringLen: number
}
