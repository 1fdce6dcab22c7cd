// ISMRMRD_WaveformHeader (ismrmrd/ismrmrd include/ismrmrd/waveform.h, doc/mrd_waveform_data.md):
// physiological or gradient waveforms that scanners interleave with acquisitions. Unlike the other
// headers it is NOT packed: natural alignment puts `flags` at 8 and pads the struct to 40 bytes.
import { MrdProtocolError } from './errors.ts'
import { checkUint, checkUint64, viewOf } from './bytes.ts'
import { ISMRMRD_VERSION } from './acquisition-header.ts'

export const WAVEFORM_HEADER_SIZE = 40

export const WaveformHeaderOffset = {
  version: 0,
  flags: 8,
  measurementUid: 16,
  scanCounter: 20,
  timeStamp: 24,
  numberOfSamples: 28,
  channels: 30,
  sampleTimeUs: 32,
  waveformId: 36
} as const

export interface WaveformHeader {
  version: number
  flags: bigint
  measurementUid: number
  /** Number of the acquisition after this waveform. */
  scanCounter: number
  timeStamp: number
  numberOfSamples: number
  channels: number
  sampleTimeUs: number
  /** Matches waveformInformation in the XML header (0 ECG, 1 pulse, 2 respiratory, ...). */
  waveformId: number
}

/** A waveform: header and channels × numberOfSamples u32 samples, channel-major. */
export interface Waveform {
  head: WaveformHeader
  data: Uint32Array
}

export function emptyWaveformHeader (): WaveformHeader {
  return { version: ISMRMRD_VERSION, flags: 0n, measurementUid: 0, scanCounter: 0, timeStamp: 0, numberOfSamples: 0, channels: 0, sampleTimeUs: 0, waveformId: 0 }
}

/** Writes the 40-byte header (padding bytes zero) at `offset`. */
export function writeWaveformHeader (view: DataView, offset: number, head: WaveformHeader): void {
  const O = WaveformHeaderOffset
  for (let i = 0; i < WAVEFORM_HEADER_SIZE; i++) view.setUint8(offset + i, 0)
  view.setUint16(offset + O.version, checkUint('version', head.version, 16), true)
  view.setBigUint64(offset + O.flags, checkUint64('flags', head.flags), true)
  view.setUint32(offset + O.measurementUid, checkUint('measurementUid', head.measurementUid, 32), true)
  view.setUint32(offset + O.scanCounter, checkUint('scanCounter', head.scanCounter, 32), true)
  view.setUint32(offset + O.timeStamp, checkUint('timeStamp', head.timeStamp, 32), true)
  view.setUint16(offset + O.numberOfSamples, checkUint('numberOfSamples', head.numberOfSamples, 16), true)
  view.setUint16(offset + O.channels, checkUint('channels', head.channels, 16), true)
  view.setFloat32(offset + O.sampleTimeUs, head.sampleTimeUs, true)
  view.setUint16(offset + O.waveformId, checkUint('waveformId', head.waveformId, 16), true)
}

/** Reads a header at `offset`. The caller has checked that 40 bytes are there. */
export function readWaveformHeader (view: DataView, offset: number): WaveformHeader {
  const O = WaveformHeaderOffset
  return {
    version: view.getUint16(offset + O.version, true),
    flags: view.getBigUint64(offset + O.flags, true),
    measurementUid: view.getUint32(offset + O.measurementUid, true),
    scanCounter: view.getUint32(offset + O.scanCounter, true),
    timeStamp: view.getUint32(offset + O.timeStamp, true),
    numberOfSamples: view.getUint16(offset + O.numberOfSamples, true),
    channels: view.getUint16(offset + O.channels, true),
    sampleTimeUs: view.getFloat32(offset + O.sampleTimeUs, true),
    waveformId: view.getUint16(offset + O.waveformId, true)
  }
}

export function encodeWaveformHeader (head: WaveformHeader): Uint8Array {
  const bytes = new Uint8Array(WAVEFORM_HEADER_SIZE)
  writeWaveformHeader(viewOf(bytes), 0, head)
  return bytes
}

export function decodeWaveformHeader (bytes: Uint8Array, offset = 0): WaveformHeader {
  if (!Number.isInteger(offset) || offset < 0 || bytes.byteLength - offset < WAVEFORM_HEADER_SIZE) {
    throw new MrdProtocolError(`a waveform header needs ${WAVEFORM_HEADER_SIZE} bytes, only ${Math.max(0, bytes.byteLength - offset)} at offset ${offset}`)
  }
  return readWaveformHeader(viewOf(bytes), offset)
}
