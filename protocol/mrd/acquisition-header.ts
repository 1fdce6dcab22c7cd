// ISMRMRD_AcquisitionHeader: 340 bytes, packed with 2-byte alignment (`#pragma pack(push, 2)` in
// ismrmrd/ismrmrd include/ismrmrd/ismrmrd.h), little-endian. The same bytes are the head of an
// MRD v1 acquisition message and the `head` member of the HDF5 `/dataset/data` compound.
import type { AcquisitionHeader, EncodingCounters } from './types.ts'
import { MrdProtocolError } from './errors.ts'
import { checkInt32, checkLength, checkUint, checkUint64, viewOf } from './bytes.ts'

export const ACQUISITION_HEADER_SIZE = 340
export const ENCODING_COUNTERS_SIZE = 34
/** ISMRMRD_VERSION: the only header version MRD v1 defines. */
export const ISMRMRD_VERSION = 1

/** Byte offset of every field inside the 340-byte header. */
export const AcquisitionHeaderOffset = {
  version: 0,
  flags: 2,
  measurementUid: 10,
  scanCounter: 14,
  acquisitionTimeStamp: 18,
  physiologyTimeStamp: 22,
  numberOfSamples: 34,
  availableChannels: 36,
  activeChannels: 38,
  channelMask: 40,
  discardPre: 168,
  discardPost: 170,
  centerSample: 172,
  encodingSpaceRef: 174,
  trajectoryDimensions: 176,
  sampleTimeUs: 178,
  position: 182,
  readDir: 194,
  phaseDir: 206,
  sliceDir: 218,
  patientTablePosition: 230,
  idx: 242,
  userInt: 276,
  userFloat: 308
} as const

/** Byte offset of every counter inside ISMRMRD_EncodingCounters (relative to `idx`). */
export const EncodingCountersOffset = {
  kspaceEncodeStep1: 0,
  kspaceEncodeStep2: 2,
  average: 4,
  slice: 6,
  contrast: 8,
  phase: 10,
  repetition: 12,
  set: 14,
  segment: 16,
  user: 18
} as const

const COUNTERS = ['kspaceEncodeStep1', 'kspaceEncodeStep2', 'average', 'slice', 'contrast', 'phase', 'repetition', 'set', 'segment'] as const

/** Encoding counters all zero. */
export function emptyEncodingCounters (): EncodingCounters {
  return { kspaceEncodeStep1: 0, kspaceEncodeStep2: 0, average: 0, slice: 0, contrast: 0, phase: 0, repetition: 0, set: 0, segment: 0, user: new Array(8).fill(0) }
}

/**
 * A header as `ismrmrd_init_acquisition_header` makes it: all zero, version 1, one available and one
 * active channel.
 */
export function emptyAcquisitionHeader (): AcquisitionHeader {
  return {
    version: ISMRMRD_VERSION,
    flags: 0n,
    measurementUid: 0,
    scanCounter: 0,
    acquisitionTimeStamp: 0,
    physiologyTimeStamp: [0, 0, 0],
    numberOfSamples: 0,
    availableChannels: 1,
    activeChannels: 1,
    channelMask: new Array<bigint>(16).fill(0n),
    discardPre: 0,
    discardPost: 0,
    centerSample: 0,
    encodingSpaceRef: 0,
    trajectoryDimensions: 0,
    sampleTimeUs: 0,
    position: [0, 0, 0],
    readDir: [0, 0, 0],
    phaseDir: [0, 0, 0],
    sliceDir: [0, 0, 0],
    patientTablePosition: [0, 0, 0],
    idx: emptyEncodingCounters(),
    userInt: new Array(8).fill(0),
    userFloat: new Array(8).fill(0)
  }
}

/** Writes the header at `offset` of `view` (340 bytes). Throws MrdProtocolError for values that do not fit. */
export function writeAcquisitionHeader (view: DataView, offset: number, head: AcquisitionHeader): void {
  const O = AcquisitionHeaderOffset
  const u16 = (field: keyof typeof O, value: number): void => view.setUint16(offset + O[field], checkUint(field, value, 16), true)
  const u32 = (field: keyof typeof O, value: number): void => view.setUint32(offset + O[field], checkUint(field, value, 32), true)
  const f32s = (field: keyof typeof O, values: ArrayLike<number>, n: number): void => {
    checkLength(field, values, n)
    for (let i = 0; i < n; i++) view.setFloat32(offset + O[field] + 4 * i, values[i], true)
  }
  u16('version', head.version)
  view.setBigUint64(offset + O.flags, checkUint64('flags', head.flags), true)
  u32('measurementUid', head.measurementUid)
  u32('scanCounter', head.scanCounter)
  u32('acquisitionTimeStamp', head.acquisitionTimeStamp)
  checkLength('physiologyTimeStamp', head.physiologyTimeStamp, 3)
  for (let i = 0; i < 3; i++) {
    view.setUint32(offset + O.physiologyTimeStamp + 4 * i, checkUint(`physiologyTimeStamp[${i}]`, head.physiologyTimeStamp[i], 32), true)
  }
  u16('numberOfSamples', head.numberOfSamples)
  u16('availableChannels', head.availableChannels)
  u16('activeChannels', head.activeChannels)
  checkLength('channelMask', head.channelMask, 16)
  for (let i = 0; i < 16; i++) {
    view.setBigUint64(offset + O.channelMask + 8 * i, checkUint64(`channelMask[${i}]`, head.channelMask[i]), true)
  }
  u16('discardPre', head.discardPre)
  u16('discardPost', head.discardPost)
  u16('centerSample', head.centerSample)
  u16('encodingSpaceRef', head.encodingSpaceRef)
  u16('trajectoryDimensions', head.trajectoryDimensions)
  view.setFloat32(offset + O.sampleTimeUs, head.sampleTimeUs, true)
  f32s('position', head.position, 3)
  f32s('readDir', head.readDir, 3)
  f32s('phaseDir', head.phaseDir, 3)
  f32s('sliceDir', head.sliceDir, 3)
  f32s('patientTablePosition', head.patientTablePosition, 3)
  writeEncodingCounters(view, offset + O.idx, head.idx)
  checkLength('userInt', head.userInt, 8)
  for (let i = 0; i < 8; i++) view.setInt32(offset + O.userInt + 4 * i, checkInt32(`userInt[${i}]`, head.userInt[i]), true)
  f32s('userFloat', head.userFloat, 8)
}

/** Reads a header at `offset` of `view`. The caller has checked that 340 bytes are there. */
export function readAcquisitionHeader (view: DataView, offset: number): AcquisitionHeader {
  const O = AcquisitionHeaderOffset
  const u16 = (field: keyof typeof O): number => view.getUint16(offset + O[field], true)
  const u32s = (at: number, n: number): number[] => Array.from({ length: n }, (_, i) => view.getUint32(offset + at + 4 * i, true))
  const f32s = (at: number, n: number): number[] => Array.from({ length: n }, (_, i) => view.getFloat32(offset + at + 4 * i, true))
  const vec3 = (field: keyof typeof O): [number, number, number] => f32s(O[field], 3) as [number, number, number]
  return {
    version: u16('version'),
    flags: view.getBigUint64(offset + O.flags, true),
    measurementUid: view.getUint32(offset + O.measurementUid, true),
    scanCounter: view.getUint32(offset + O.scanCounter, true),
    acquisitionTimeStamp: view.getUint32(offset + O.acquisitionTimeStamp, true),
    physiologyTimeStamp: u32s(O.physiologyTimeStamp, 3),
    numberOfSamples: u16('numberOfSamples'),
    availableChannels: u16('availableChannels'),
    activeChannels: u16('activeChannels'),
    channelMask: Array.from({ length: 16 }, (_, i) => view.getBigUint64(offset + O.channelMask + 8 * i, true)),
    discardPre: u16('discardPre'),
    discardPost: u16('discardPost'),
    centerSample: u16('centerSample'),
    encodingSpaceRef: u16('encodingSpaceRef'),
    trajectoryDimensions: u16('trajectoryDimensions'),
    sampleTimeUs: view.getFloat32(offset + O.sampleTimeUs, true),
    position: vec3('position'),
    readDir: vec3('readDir'),
    phaseDir: vec3('phaseDir'),
    sliceDir: vec3('sliceDir'),
    patientTablePosition: vec3('patientTablePosition'),
    idx: readEncodingCounters(view, offset + O.idx),
    userInt: Array.from({ length: 8 }, (_, i) => view.getInt32(offset + O.userInt + 4 * i, true)),
    userFloat: f32s(O.userFloat, 8)
  }
}

/** Writes the 34-byte encoding counters at `offset`. */
export function writeEncodingCounters (view: DataView, offset: number, idx: EncodingCounters): void {
  for (const name of COUNTERS) {
    view.setUint16(offset + EncodingCountersOffset[name], checkUint(`idx.${name}`, idx[name], 16), true)
  }
  checkLength('idx.user', idx.user, 8)
  for (let i = 0; i < 8; i++) {
    view.setUint16(offset + EncodingCountersOffset.user + 2 * i, checkUint(`idx.user[${i}]`, idx.user[i], 16), true)
  }
}

/** Reads the 34-byte encoding counters at `offset`. */
export function readEncodingCounters (view: DataView, offset: number): EncodingCounters {
  const idx = emptyEncodingCounters()
  for (const name of COUNTERS) idx[name] = view.getUint16(offset + EncodingCountersOffset[name], true)
  for (let i = 0; i < 8; i++) idx.user[i] = view.getUint16(offset + EncodingCountersOffset.user + 2 * i, true)
  return idx
}

/** The 340 bytes of a header. */
export function encodeAcquisitionHeader (head: AcquisitionHeader): Uint8Array {
  const bytes = new Uint8Array(ACQUISITION_HEADER_SIZE)
  writeAcquisitionHeader(viewOf(bytes), 0, head)
  return bytes
}

/** Reads a header from the first 340 bytes at `offset`; MrdProtocolError when they are not all there. */
export function decodeAcquisitionHeader (bytes: Uint8Array, offset = 0): AcquisitionHeader {
  if (!Number.isInteger(offset) || offset < 0 || bytes.byteLength - offset < ACQUISITION_HEADER_SIZE) {
    throw new MrdProtocolError(`an acquisition header needs ${ACQUISITION_HEADER_SIZE} bytes, only ${Math.max(0, bytes.byteLength - offset)} at offset ${offset}`)
  }
  return readAcquisitionHeader(viewOf(bytes), offset)
}
