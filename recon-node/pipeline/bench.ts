// A micro-benchmark of the whole chain on synthetic data, to compare with BART or Gadgetron on the
// same sizes: 2-D multi-slice Cartesian, readout oversampling, one noise readout, flags as a scanner
// sets them. The readouts of one slice are generated once and reused for every slice (stages never
// modify their input), so generating the data costs almost nothing and is not timed; neither is
// starting the worker threads.
import type { Acquisition, AcquisitionHeader } from '../../protocol/mrd/types.ts'
import { contiguousStrides } from '../fft/fftn.ts'
import { sharedFftPool, type FftRunner } from '../fft/pool.ts'
import { flagsOf, FIRST_IN_SLICE, IS_NOISE_MEASUREMENT, LAST_IN_MEASUREMENT, LAST_IN_SLICE } from '../stages/flags.ts'
import type { ReconHeader } from '../stages/stage.ts'
import { DEFAULT_CHAIN, type Chain } from './chain.ts'
import { runPipeline } from './run.ts'

export interface BenchmarkInit {
  /** default 64 */
  slices?: number
  /** default 8 */
  coils?: number
  /** recon matrix (square); default 256 */
  matrix?: number
  /** readout oversampling factor; default 2 */
  oversampling?: number
  /** default DEFAULT_CHAIN */
  chain?: Chain
  /** default the process-wide pool */
  fft?: FftRunner
}

function random (seed: number): () => number {
  let s = seed >>> 0
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0
    return s / 4294967296 - 0.5
  }
}

function head (init: Partial<AcquisitionHeader> & Pick<AcquisitionHeader, 'numberOfSamples' | 'activeChannels' | 'flags'>, step1: number, slice: number): AcquisitionHeader {
  return {
    version: 1,
    measurementUid: 1,
    scanCounter: 0,
    acquisitionTimeStamp: 0,
    physiologyTimeStamp: [0, 0, 0],
    availableChannels: init.activeChannels,
    channelMask: new Array<bigint>(16).fill(0n),
    discardPre: 0,
    discardPost: 0,
    centerSample: init.numberOfSamples >> 1,
    encodingSpaceRef: 0,
    trajectoryDimensions: 0,
    sampleTimeUs: 5,
    position: [0, 0, 5 * slice],
    readDir: [1, 0, 0],
    phaseDir: [0, 1, 0],
    sliceDir: [0, 0, 1],
    patientTablePosition: [0, 0, 0],
    idx: { kspaceEncodeStep1: step1, kspaceEncodeStep2: 0, average: 0, slice, contrast: 0, phase: 0, repetition: 0, set: 0, segment: 0, user: new Array<number>(8).fill(0) },
    userInt: new Array<number>(8).fill(0),
    userFloat: new Array<number>(8).fill(0),
    ...init
  }
}

/** Seconds the chain takes to reconstruct the synthetic scan, from first readout to last image. */
export async function benchmarkRecon (init: BenchmarkInit = {}): Promise<number> {
  const slices = init.slices ?? 64
  const coils = init.coils ?? 8
  const matrix = init.matrix ?? 256
  const oversampling = init.oversampling ?? 2
  const fft = init.fft ?? sharedFftPool()
  const samples = Math.round(matrix * oversampling)
  const rand = random(12345)
  const lines = Array.from({ length: matrix }, () => Float32Array.from({ length: 2 * samples * coils }, rand))
  const noise = Float32Array.from({ length: 2 * samples * coils }, rand)
  const header: ReconHeader = {
    encodedMatrix: { x: samples, y: matrix, z: 1 },
    reconMatrix: { x: matrix, y: matrix, z: 1 },
    fovMm: { encoded: { x: 300 * samples / matrix, y: 300, z: 5 }, recon: { x: 300, y: 300, z: 5 } },
    encodingLimits: { kspaceEncodingStep1: { minimum: 0, maximum: matrix - 1, center: matrix >> 1 } },
    expectedAcquisitions: 1 + slices * matrix
  }
  function * scan (): Iterable<Acquisition> {
    yield { head: head({ numberOfSamples: samples, activeChannels: coils, flags: flagsOf(IS_NOISE_MEASUREMENT) }, 0, 0), traj: new Float32Array(0), data: noise }
    for (let s = 0; s < slices; s++) {
      for (let y = 0; y < matrix; y++) {
        const flags = y === 0 ? flagsOf(FIRST_IN_SLICE) : y === matrix - 1 ? (s === slices - 1 ? flagsOf(LAST_IN_SLICE, LAST_IN_MEASUREMENT) : flagsOf(LAST_IN_SLICE)) : 0n
        yield { head: head({ numberOfSamples: samples, activeChannels: coils, flags }, y, s), traj: new Float32Array(0), data: lines[y] }
      }
    }
  }
  // start every worker before timing
  const parallel = Math.max(1, fft.size ?? 1)
  const warmDims = [128, 128, 1, parallel]
  const warm = new Float32Array(new SharedArrayBuffer(8 * contiguousStrides(warmDims)[3] * parallel))
  await fft.fftn(warmDims, 3, warm)

  let images = 0
  const started = performance.now()
  await runPipeline(scan(), header, init.chain ?? DEFAULT_CHAIN, { onImage: () => { images++ }, fft, onWarning: () => {} })
  const seconds = (performance.now() - started) / 1000
  if (images !== slices) throw new Error(`benchmark: expected ${slices} images, got ${images}`)
  return seconds
}
