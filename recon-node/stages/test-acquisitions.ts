// Test support: acquisitions and headers built in memory.
import type { Acquisition, AcquisitionHeader } from '../../protocol/mrd/types.ts'
import type { ReconHeader } from './stage.ts'

export interface AcquisitionInit {
  samples: number
  channels: number
  data?: Float32Array
  flags?: bigint
  step1?: number
  step2?: number
  slice?: number
  contrast?: number
  repetition?: number
  average?: number
  centerSample?: number
  sampleTimeUs?: number
  discardPre?: number
  discardPost?: number
  scanCounter?: number
  position?: [number, number, number]
}

export function makeAcquisition (init: AcquisitionInit): Acquisition {
  const head: AcquisitionHeader = {
    version: 1,
    flags: init.flags ?? 0n,
    measurementUid: 0,
    scanCounter: init.scanCounter ?? 0,
    acquisitionTimeStamp: 0,
    physiologyTimeStamp: [0, 0, 0],
    numberOfSamples: init.samples,
    availableChannels: init.channels,
    activeChannels: init.channels,
    channelMask: new Array<bigint>(16).fill(0n),
    discardPre: init.discardPre ?? 0,
    discardPost: init.discardPost ?? 0,
    centerSample: init.centerSample ?? init.samples >> 1,
    encodingSpaceRef: 0,
    trajectoryDimensions: 0,
    sampleTimeUs: init.sampleTimeUs ?? 5,
    position: init.position ?? [0, 0, 0],
    readDir: [1, 0, 0],
    phaseDir: [0, 1, 0],
    sliceDir: [0, 0, 1],
    patientTablePosition: [0, 0, 0],
    idx: {
      kspaceEncodeStep1: init.step1 ?? 0,
      kspaceEncodeStep2: init.step2 ?? 0,
      average: init.average ?? 0,
      slice: init.slice ?? 0,
      contrast: init.contrast ?? 0,
      phase: 0,
      repetition: init.repetition ?? 0,
      set: 0,
      segment: 0,
      user: new Array<number>(8).fill(0)
    },
    userInt: new Array<number>(8).fill(0),
    userFloat: new Array<number>(8).fill(0)
  }
  return { head, traj: new Float32Array(0), data: init.data ?? new Float32Array(2 * init.samples * init.channels) }
}

/** A header with the same encoded and recon spaces unless told otherwise. */
export function makeHeader (encoded: [number, number, number], recon: [number, number, number] = encoded, fov: { encoded?: [number, number, number], recon?: [number, number, number] } = {}): ReconHeader {
  const m = ([x, y, z]: [number, number, number]): { x: number, y: number, z: number } => ({ x, y, z })
  return {
    encodedMatrix: m(encoded),
    reconMatrix: m(recon),
    fovMm: { encoded: m(fov.encoded ?? [0, 0, 0]), recon: m(fov.recon ?? [0, 0, 0]) }
  }
}
