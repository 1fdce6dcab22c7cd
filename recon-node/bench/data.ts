// Synthetic raw data for the benchmark: a 2-D multi-slice Cartesian scan with readout oversampling,
// one noise readout first, flags as a scanner sets them. The readouts of one slice are generated once
// (seeded) and reused for every slice: stages never modify their input, so memory and generation time
// stay out of the figures. The same data is written for BART in its own format.
import { open, writeFile } from 'node:fs/promises'
import { AcquisitionFlag, emptyAcquisitionHeader, flagBit, writeIsmrmrdXml, type IsmrmrdHeader } from '../../protocol/mrd/index.ts'
import type { Acquisition } from '../../protocol/mrd/types.ts'
import type { ReconHeader } from '../stages/stage.ts'

export interface ScanShape {
  slices: number
  coils: number
  /** recon matrix, square */
  matrix: number
  oversampling: number
}

export interface SyntheticScan {
  shape: ScanShape
  header: IsmrmrdHeader
  xml: string
  reconHeader: ReconHeader
  noise: Acquisition
  /** readout `line` of `slice` (sharing its data with the same line of every other slice) */
  acquisition: (slice: number, line: number) => Acquisition
  /** bytes of one slice's readouts (the largest accumulation unit) */
  unitBytes: number
}

function random (seed: number): () => number {
  let s = seed >>> 0
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0
    return s / 4294967296 - 0.5
  }
}

export function syntheticScan (shape: ScanShape): SyntheticScan {
  const { slices, coils, matrix, oversampling } = shape
  const samples = Math.round(matrix * oversampling)
  const rand = random(12345)
  const lines = Array.from({ length: matrix }, () => Float32Array.from({ length: 2 * samples * coils }, rand))
  const noiseData = Float32Array.from({ length: 2 * samples * coils }, rand)
  const fov = 256
  const header: IsmrmrdHeader = {
    version: 1,
    measurementInformation: { patientPosition: 'HFS', protocolName: 'benchmark' },
    acquisitionSystemInformation: { systemVendor: 'ScanHub', systemModel: 'Benchmark', systemFieldStrength_T: 1.5, receiverChannels: coils },
    experimentalConditions: { H1resonanceFrequency_Hz: 63_866_217 },
    encoding: [{
      encodedSpace: { matrixSize: { x: samples, y: matrix, z: 1 }, fieldOfView_mm: { x: fov * oversampling, y: fov, z: 5 } },
      reconSpace: { matrixSize: { x: matrix, y: matrix, z: 1 }, fieldOfView_mm: { x: fov, y: fov, z: 5 } },
      encodingLimits: {
        kspace_encoding_step_1: { minimum: 0, maximum: matrix - 1, center: matrix >> 1 },
        slice: { minimum: 0, maximum: slices - 1, center: 0 }
      },
      trajectory: 'cartesian'
    }],
    sequenceParameters: { TR: [500], TE: [10], flipAngle_deg: [90], sequence_type: 'Flash' }
  }
  const base = (): Acquisition['head'] => ({
    ...emptyAcquisitionHeader(),
    numberOfSamples: samples,
    availableChannels: coils,
    activeChannels: coils,
    centerSample: samples >> 1,
    sampleTimeUs: 5,
    readDir: [1, 0, 0],
    phaseDir: [0, 1, 0],
    sliceDir: [0, 0, 1]
  })
  const noiseHead = base()
  noiseHead.flags = flagBit(AcquisitionFlag.IS_NOISE_MEASUREMENT)
  const empty = new Float32Array(0)
  return {
    shape,
    header,
    xml: writeIsmrmrdXml(header),
    reconHeader: {
      encodedMatrix: { x: samples, y: matrix, z: 1 },
      reconMatrix: { x: matrix, y: matrix, z: 1 },
      fovMm: { encoded: { x: fov * oversampling, y: fov, z: 5 }, recon: { x: fov, y: fov, z: 5 } },
      encodingLimits: { kspaceEncodingStep1: { minimum: 0, maximum: matrix - 1, center: matrix >> 1 } },
      expectedAcquisitions: 1 + slices * matrix
    },
    noise: { head: noiseHead, traj: empty, data: noiseData },
    acquisition: (slice, line) => {
      const head = base()
      head.scanCounter = 1 + slice * matrix + line
      head.idx = { ...head.idx, kspaceEncodeStep1: line, slice }
      head.position = [0, 0, 5 * slice]
      let flags = 0n
      if (line === 0) flags |= flagBit(AcquisitionFlag.FIRST_IN_SLICE)
      if (line === matrix - 1) flags |= flagBit(AcquisitionFlag.LAST_IN_SLICE)
      if (line === matrix - 1 && slice === slices - 1) flags |= flagBit(AcquisitionFlag.LAST_IN_MEASUREMENT)
      head.flags = flags
      return { head, traj: empty, data: lines[line] }
    },
    unitBytes: matrix * (2 + 340 + 8 * samples * coils)
  }
}

/** Every acquisition of the scan in order: the noise readout, then slice after slice. */
export function * scanAcquisitions (scan: SyntheticScan): Iterable<Acquisition> {
  yield scan.noise
  for (let s = 0; s < scan.shape.slices; s++) {
    for (let y = 0; y < scan.shape.matrix; y++) yield scan.acquisition(s, y)
  }
}

/**
 * Writes the scan's k-space for BART: dims [readout, phase, 1, coil, 1 … 1, slice] (BART's SLICE_DIM
 * is 13), complex float, column-major, readout fastest.
 */
export async function writeScanCfl (scan: SyntheticScan, base: string): Promise<void> {
  const { slices, coils, matrix } = scan.shape
  const samples = scan.reconHeader.encodedMatrix.x
  const dims = [samples, matrix, 1, coils, 1, 1, 1, 1, 1, 1, 1, 1, 1, slices, 1, 1]
  await writeFile(`${base}.hdr`, `# Dimensions\n${dims.join(' ')} \n`)
  // one slice: [readout, phase, coil], from the channel-major readouts
  const slice = new Float32Array(2 * samples * matrix * coils)
  for (let y = 0; y < matrix; y++) {
    const data = scan.acquisition(0, y).data
    for (let c = 0; c < coils; c++) slice.set(data.subarray(2 * c * samples, 2 * (c + 1) * samples), 2 * samples * (y + matrix * c))
  }
  const file = await open(`${base}.cfl`, 'w')
  try {
    const bytes = new Uint8Array(slice.buffer)
    for (let s = 0; s < slices; s++) await file.write(bytes)
  } finally {
    await file.close()
  }
}
