// The virtual scanner's acquisition: planned readouts in, ISMRMRD (MRD v1) acquisitions out, with the
// analytic k-space of the phantom seen through N receive coils, tissue contrast from the sequence timing,
// off-resonance, B1 scaling, readout oversampling, seeded complex noise and noise-calibration readouts.
//
// Each sample is the phantom's transform at that sample's own k (any trajectory: Cartesian, EPI, radial,
// spiral) weighted by its tissues' signal at that sample's own time since excitation, so the signal
// decays with T2* along a readout and along an echo train (and, for spin echoes, with T2 to each echo).
// An optional readout delay samples k(t − delay) instead of k(t): on alternating readouts this is the
// odd/even shift that gives an echo-planar image its Nyquist ghost, as on a real scanner.
//
// Scaling: a sample is signalScale·S(k), S as in kspace.ts (m² for a slice, m³ for a volume), and
// signalScale defaults to 1/voxel (1/(Δx·Δy) for 2D, 1/(Δx·Δy·Δz) for 3D, Δ = FOV/matrix). Then the
// centred inverse DFT scaled by 1/N along each axis (fft.ts `centredInverseDft`; numpy's ifft) gives each
// pixel its weighted proton density (about 0..1), with or without readout oversampling. `noiseSigma` is
// the standard deviation of the real and of the imaginary part of each sample in those units; after that
// inverse DFT an image's noise is noiseSigma/√(number of samples).
import type { Acquisition, AcquisitionHeader } from '../../protocol/mrd/types.ts'
import { birdcageCoils } from './coils.ts'
import type { CoilArray } from './coils.ts'
import { accumulateKspace, sampleWeights, shapesFor } from './kspace.ts'
import type { Shape } from './kspace.ts'
import { phantomRadiusM } from './phantom.ts'
import type { Phantom } from './phantom.ts'
import { SeededRandom } from './random.ts'
import type { PlannedReadout, ReadoutCounters, SequenceTiming } from './readout-plan.ts'

/** Thrown for options or readouts the simulator cannot turn into a valid acquisition. */
export class SimulationError extends Error {
  constructor (message: string) {
    super(message)
    this.name = 'SimulationError'
  }
}

/** ISMRMRD acquisition flags used here (ismrmrd.h); flag N is bit N − 1. */
export const ACQ_FLAGS = {
  FIRST_IN_ENCODE_STEP1: 1,
  LAST_IN_ENCODE_STEP1: 2,
  FIRST_IN_ENCODE_STEP2: 3,
  LAST_IN_ENCODE_STEP2: 4,
  FIRST_IN_SLICE: 7,
  LAST_IN_SLICE: 8,
  FIRST_IN_REPETITION: 13,
  LAST_IN_REPETITION: 14,
  IS_NOISE_MEASUREMENT: 19,
  IS_PARALLEL_CALIBRATION: 20,
  IS_PARALLEL_CALIBRATION_AND_IMAGING: 21,
  IS_REVERSE: 22,
  IS_NAVIGATION_DATA: 23,
  IS_PHASECORR_DATA: 24,
  LAST_IN_MEASUREMENT: 25
} as const

/** The trajectories an ISMRMRD header names (schema `trajectoryType`). */
export type TrajectoryName = 'cartesian' | 'epi' | 'radial' | 'goldenangle' | 'spiral' | 'other'

/** The 64-bit mask of flag N. */
export function flagBit (flag: number): bigint {
  return 1n << BigInt(flag - 1)
}

/** Whether an acquisition header has flag N. */
export function hasFlag (head: Pick<AcquisitionHeader, 'flags'>, flag: number): boolean {
  return (head.flags & flagBit(flag)) !== 0n
}

/** Where the gradient frame sits in the patient: ISMRMRD position (mm) and unit direction vectors. */
export interface Geometry {
  position: [number, number, number]
  readDir: [number, number, number]
  phaseDir: [number, number, number]
  sliceDir: [number, number, number]
}

export interface SimulateOptions {
  phantom: Phantom
  /** a coil count (birdcage coils fitted to the phantom, coils.ts) or coils made beforehand */
  coils: number | CoilArray
  /** standard deviation of the real and of the imaginary part of each sample (see the file header) */
  noiseSigma: number
  /** 2: every readout sampled twice as densely over the same extent of k (FOV along the readout doubles) */
  oversampling: 1 | 2
  /** metres, [x, y, z] (z: slice thickness in 2D, slab in 3D), or one number for all three */
  fovM: number | [number, number, number]
  /** reconstructed matrix [nx, ny] or [nx, ny, nz]; nz > 1 means a 3D encoding */
  matrix: [number, number] | [number, number, number]
  timing: SequenceTiming
  /** frequency of the spins relative to the receiver, Hz (phase exp(+i2π·Δf·t), t from excitation) */
  offResonanceHz?: number
  /** actual over nominal flip angle */
  b1Scale?: number
  /** seed of the noise generator: the same seed and inputs give the same data */
  seed: number
  /** noise-calibration readouts before the first one of the plan (IS_NOISE_MEASUREMENT, no RF) */
  noiseReadouts: number
  /** default: isocentre, read x, phase y, slice z */
  geometry?: Geometry
  /** multiplies S(k); default 1/voxel volume (see the file header) */
  signalScale?: number
  measurementUid?: number
  /** acquisition_time_stamp of the scan's start, in ISMRMRD ticks of 2.5 ms; default 0 */
  startTimeStamp?: number
  /** the trajectory the XML header names; default 'cartesian' */
  trajectory?: TrajectoryName
  /**
   * Store the k-space position of each sample (trajectory_dimensions 2 or 3), in ISMRMRD's normalised
   * units k·Δx (±0.5 at the edge of the reconstructed matrix, as generate_cartesian_shepp_logan writes
   * them). Default: only for non-Cartesian trajectories (Cartesian and EPI data carry
   * trajectory_dimensions 0; a ramp-sampled EPI must ask for it).
   */
  storeTrajectory?: boolean
  /**
   * Seconds by which the echo lags the ADC (default 0): each sample is taken at k(t − delay), k
   * interpolated along the readout, while the stored trajectory and centre sample stay the nominal
   * ones. Alternating readouts are then shifted in opposite directions, which is what EPI ghost
   * correction (navigators) has to undo.
   */
  readoutDelayS?: number
  /**
   * 3D encodings: the slab along z (gradient frame) that the excitation selects, with an ideal profile;
   * what of a 3D phantom lies outside gives no signal (kspace.ts steps what the faces cut). Default:
   * everything is excited, as by a non-selective pulse, and what lies beyond FOVz folds back.
   */
  slab?: { centreM: number, thicknessM: number }
}

/** An ISMRMRD encoding limit. */
export interface Limit { minimum: number, maximum: number, center: number }

/** What the ISMRMRD XML header's `encoding` must say about data made with these options. */
export interface EncodingDescription {
  encodedMatrix: [number, number, number]
  reconMatrix: [number, number, number]
  encodedFovMm: [number, number, number]
  reconFovMm: [number, number, number]
  limits: {
    kspaceEncodingStep1: Limit
    kspaceEncodingStep2: Limit
    average: Limit
    slice: Limit
    contrast: Limit
    phase: Limit
    repetition: Limit
    set: Limit
    segment: Limit
  }
  trajectory: TrajectoryName
}

const TICK_S = 2.5e-3
const DEFAULT_GEOMETRY: Geometry = { position: [0, 0, 0], readDir: [1, 0, 0], phaseDir: [0, 1, 0], sliceDir: [0, 0, 1] }
const MAX_SAMPLES = 65535
const MAX_CHANNELS = 1024

interface Resolved {
  fov: [number, number, number]
  matrix: [number, number, number]
  encoding: 2 | 3
  scale: number
}

function resolve (opts: SimulateOptions): Resolved {
  const fov: [number, number, number] = typeof opts.fovM === 'number' ? [opts.fovM, opts.fovM, opts.fovM] : [...opts.fovM]
  const matrix: [number, number, number] = [opts.matrix[0], opts.matrix[1], opts.matrix[2] ?? 1]
  if (!fov.every((f) => f > 0 && Number.isFinite(f))) throw new SimulationError(`field of view ${fov.join(' × ')} m`)
  if (!matrix.every((m) => Number.isInteger(m) && m >= 1)) throw new SimulationError(`matrix ${matrix.join(' × ')}`)
  if (opts.oversampling !== 1 && opts.oversampling !== 2) throw new SimulationError(`oversampling ${String(opts.oversampling)}: 1 or 2`)
  if (!(opts.noiseSigma >= 0)) throw new SimulationError(`noise sigma ${opts.noiseSigma}`)
  if (!Number.isInteger(opts.noiseReadouts) || opts.noiseReadouts < 0) throw new SimulationError(`noise readouts ${opts.noiseReadouts}`)
  if (!Number.isFinite(opts.readoutDelayS ?? 0)) throw new SimulationError(`readout delay ${String(opts.readoutDelayS)} s: needs a finite number of seconds`)
  if (opts.slab !== undefined && !(opts.slab.thicknessM > 0 && Number.isFinite(opts.slab.thicknessM) && Number.isFinite(opts.slab.centreM))) {
    throw new SimulationError(`slab of ${opts.slab.thicknessM} m at ${opts.slab.centreM} m: needs a positive thickness and a finite centre`)
  }
  const encoding = matrix[2] > 1 ? 3 : 2
  const voxel = (fov[0] / matrix[0]) * (fov[1] / matrix[1]) * (encoding === 3 ? fov[2] / matrix[2] : 1)
  return { fov, matrix, encoding, scale: opts.signalScale ?? 1 / voxel }
}

/** The factor from S(k) (kspace.ts units) to the samples the simulator writes. */
export function kspaceScale (opts: SimulateOptions): number {
  return resolve(opts).scale
}

/**
 * The encoding section the ISMRMRD XML header must carry for data from `simulateReadouts(readouts, opts)`.
 * Readout oversampling doubles the encoded matrix and FOV along x. Limits come from the readouts'
 * counters when they are given (image and parallel-imaging calibration readouts; not noise or
 * navigators, whose counters say nothing of the image), else from the matrix (one slice, no averages).
 */
export function encodingFor (opts: SimulateOptions, readouts?: Iterable<PlannedReadout>): EncodingDescription {
  const { fov, matrix, encoding } = resolve(opts)
  const os = opts.oversampling
  const mm = fov.map((f) => f * 1000) as [number, number, number]
  const zero = (): Limit => ({ minimum: 0, maximum: 0, center: 0 })
  const limits: EncodingDescription['limits'] = {
    kspaceEncodingStep1: { minimum: 0, maximum: matrix[1] - 1, center: Math.floor(matrix[1] / 2) },
    kspaceEncodingStep2: encoding === 3 ? { minimum: 0, maximum: matrix[2] - 1, center: Math.floor(matrix[2] / 2) } : zero(),
    average: zero(),
    slice: zero(),
    contrast: zero(),
    phase: zero(),
    repetition: zero(),
    set: zero(),
    segment: zero()
  }
  if (readouts !== undefined) {
    const fields: Array<[keyof ReadoutCounters, keyof EncodingDescription['limits']]> = [
      ['line', 'kspaceEncodingStep1'], ['partition', 'kspaceEncodingStep2'], ['average', 'average'], ['slice', 'slice'],
      ['contrast', 'contrast'], ['repetition', 'repetition'], ['set', 'set'], ['segment', 'segment']
    ]
    const seen = new Map<string, [number, number]>()
    for (const r of readouts) {
      if (r.isNoise === true || r.isNavigator === true) continue
      for (const [counter, limit] of fields) {
        const v = r.counters[counter]
        const range = seen.get(limit)
        seen.set(limit, range === undefined ? [v, v] : [Math.min(range[0], v), Math.max(range[1], v)])
      }
    }
    for (const [limit, [min, max]] of seen) {
      const l = limits[limit as keyof EncodingDescription['limits']]
      l.minimum = min
      l.maximum = max
    }
  }
  return {
    encodedMatrix: [matrix[0] * os, matrix[1], matrix[2]],
    reconMatrix: [...matrix],
    encodedFovMm: [mm[0] * os, mm[1], mm[2]],
    reconFovMm: mm,
    limits,
    trajectory: opts.trajectory ?? 'cartesian'
  }
}

/**
 * A planned readout after oversampling: the nominal k positions (what the trajectory says), the k
 * positions the signal is really taken at (the same without a readout delay), and the sample times.
 */
interface Sampled {
  kx: Float64Array
  ky: Float64Array
  kz: Float64Array
  signalK: { kx: Float64Array, ky: Float64Array, kz: Float64Array }
  tS: Float64Array
  dwellS: number
  centre: number
}

/**
 * Resample a readout twice as densely over the same extent: new sample m′ lies at old index
 * c + (m′ − 2c)/2 (c the centre sample), so even samples coincide with the planned ones, k between them
 * is interpolated linearly (gradients are linear over a dwell time) and the last one extrapolated.
 */
function densify (values: Float64Array, centre: number): Float64Array {
  const n = values.length
  const out = new Float64Array(2 * n)
  for (let m = 0; m < 2 * n; m++) {
    const s = centre + (m - 2 * centre) / 2
    if (n === 1) {
      out[m] = values[0]
      continue
    }
    let i = Math.floor(s)
    if (i > n - 2) i = n - 2
    if (i < 0) i = 0
    const f = s - i
    out[m] = values[i] + f * (values[i + 1] - values[i])
  }
  return out
}

/**
 * Values along a readout `shift` samples earlier: value at fractional index m − shift, linear between
 * samples and extrapolated from the end pairs beyond them.
 */
function delayed (values: Float64Array, shift: number): Float64Array {
  const n = values.length
  if (shift === 0 || n === 1) return values
  const out = new Float64Array(n)
  for (let m = 0; m < n; m++) {
    const s = m - shift
    const i = Math.min(Math.max(Math.floor(s), 0), n - 2)
    const f = s - i
    out[m] = values[i] + f * (values[i + 1] - values[i])
  }
  return out
}

function sampleReadout (r: PlannedReadout, os: 1 | 2, nx: number, delayS = 0): Sampled {
  const n = r.kx.length
  if (n === 0 || r.ky.length !== n || r.kz.length !== n) throw new SimulationError(`readout k arrays have lengths ${r.kx.length}, ${r.ky.length}, ${r.kz.length}`)
  if (!(r.dwellS > 0)) throw new SimulationError(`readout dwell ${r.dwellS} s`)
  let centre = r.centerSample ?? Math.floor(n / 2)
  let { kx, ky, kz } = r
  let dwell = r.dwellS
  // A readout that already has os·nx samples was oversampled by the sequence itself (a Pulseq ADC
  // with twice the samples); any other is resampled.
  if (os === 2 && n !== 2 * nx) {
    kx = densify(kx, centre)
    ky = densify(ky, centre)
    kz = densify(kz, centre)
    centre *= 2
    dwell /= 2
  }
  const count = kx.length
  if (count > MAX_SAMPLES) throw new SimulationError(`${count} samples: ISMRMRD's number_of_samples is 16 bits`)
  const tS = new Float64Array(count)
  for (let m = 0; m < count; m++) tS[m] = r.timeFromExcitationS + (m - centre) * dwell
  const shift = delayS / dwell
  const signalK = { kx: delayed(kx, shift), ky: delayed(ky, shift), kz: delayed(kz, shift) }
  return { kx, ky, kz, signalK, tS, dwellS: dwell, centre }
}

/**
 * The spin echo each readout lies around (used by spin-echo timing only): the readout's own
 * `spinEchoTimeS`, else, when the readouts of its excitation alternate in direction (an echo-planar
 * train after one refocusing), the plan's TE, else its own centre (each echo of a turbo spin echo is
 * refocused at the middle of its readout; a single spin echo's centre is TE).
 */
function spinEchoTimes (plan: PlannedReadout[], teS: number): Float64Array {
  const directions = new Map<number, { forward: boolean, reverse: boolean }>()
  for (const r of plan) {
    if (r.isNoise === true || r.excitationTimeS === undefined) continue
    const d = directions.get(r.excitationTimeS) ?? { forward: false, reverse: false }
    if (r.isReverse === true) d.reverse = true
    else d.forward = true
    directions.set(r.excitationTimeS, d)
  }
  return Float64Array.from(plan, (r) => {
    if (r.spinEchoTimeS !== undefined) return r.spinEchoTimeS
    const d = r.excitationTimeS === undefined ? undefined : directions.get(r.excitationTimeS)
    return d !== undefined && d.forward && d.reverse ? teS : r.timeFromExcitationS
  })
}

/**
 * Flags from the readouts' order: first/last of each loop, computed over the whole plan from the image
 * and calibration readouts only (noise and navigators are not part of any slice's k-space), and what
 * each readout is: noise, navigator (phase correction), calibration, reversed.
 */
function planFlags (plan: PlannedReadout[], is3d: boolean): bigint[] {
  const flags = plan.map(() => 0n)
  const c = (r: PlannedReadout): ReadoutCounters => r.counters
  const groups: Array<[first: number, last: number, key: (r: PlannedReadout) => string]> = [
    [ACQ_FLAGS.FIRST_IN_ENCODE_STEP1, ACQ_FLAGS.LAST_IN_ENCODE_STEP1, (r) => [c(r).slice, c(r).partition, c(r).average, c(r).contrast, c(r).repetition, c(r).set].join()],
    [ACQ_FLAGS.FIRST_IN_SLICE, ACQ_FLAGS.LAST_IN_SLICE, (r) => [c(r).slice, c(r).repetition].join()],
    [ACQ_FLAGS.FIRST_IN_REPETITION, ACQ_FLAGS.LAST_IN_REPETITION, (r) => String(c(r).repetition)]
  ]
  if (is3d) groups.push([ACQ_FLAGS.FIRST_IN_ENCODE_STEP2, ACQ_FLAGS.LAST_IN_ENCODE_STEP2, (r) => [c(r).slice, c(r).average, c(r).contrast, c(r).repetition, c(r).set].join()])
  for (const [firstFlag, lastFlag, key] of groups) {
    const first = new Map<string, number>()
    const last = new Map<string, number>()
    plan.forEach((r, i) => {
      if (!isImagingData(r)) return
      const k = key(r)
      if (!first.has(k)) first.set(k, i)
      last.set(k, i)
    })
    for (const i of first.values()) flags[i] |= flagBit(firstFlag)
    for (const i of last.values()) flags[i] |= flagBit(lastFlag)
  }
  for (let i = plan.length - 1; i >= 0; i--) {
    if (isImagingData(plan[i])) {
      flags[i] |= flagBit(ACQ_FLAGS.LAST_IN_MEASUREMENT)
      break
    }
  }
  plan.forEach((r, i) => {
    if (r.isNoise === true) {
      flags[i] = flagBit(ACQ_FLAGS.IS_NOISE_MEASUREMENT)
      return
    }
    if (r.isReverse === true) flags[i] |= flagBit(ACQ_FLAGS.IS_REVERSE)
    if (r.isNavigator === true) flags[i] |= flagBit(ACQ_FLAGS.IS_PHASECORR_DATA)
    if (r.parallelCalibration === 'calibration') flags[i] |= flagBit(ACQ_FLAGS.IS_PARALLEL_CALIBRATION)
    if (r.parallelCalibration === 'calibration-and-imaging') flags[i] |= flagBit(ACQ_FLAGS.IS_PARALLEL_CALIBRATION_AND_IMAGING)
  })
  return flags
}

/** A readout of the image's k-space (calibration lines included), not noise or a navigator. */
function isImagingData (r: PlannedReadout): boolean {
  return r.isNoise !== true && r.isNavigator !== true
}

function channelMask (count: number): bigint[] {
  const mask: bigint[] = new Array<bigint>(16).fill(0n)
  for (let c = 0; c < count; c++) mask[c >> 6] |= 1n << BigInt(c & 63)
  return mask
}

/**
 * The acquisitions a scanner would record for these readouts: first `noiseReadouts` noise-calibration
 * readouts, then one acquisition per planned readout, in order. The plan is read in full first, because
 * the LAST_IN_… flags depend on what comes later (an interleaved multi-slice plan ends each slice late).
 */
export function * simulateReadouts (readouts: Iterable<PlannedReadout>, opts: SimulateOptions): Generator<Acquisition> {
  const { fov, matrix, encoding, scale } = resolve(opts)
  const plan = Array.from(readouts)
  const coils = typeof opts.coils === 'number'
    ? birdcageCoils({ count: opts.coils, objectRadiusM: Math.max(phantomRadiusM(opts.phantom), 1e-3) })
    : opts.coils
  if (coils.count < 1 || coils.count > MAX_CHANNELS) throw new SimulationError(`${coils.count} coils: ISMRMRD's channel mask holds 1 to ${MAX_CHANNELS}`)
  const geometry = opts.geometry ?? DEFAULT_GEOMETRY
  const random = new SeededRandom(opts.seed)
  const sigma = opts.noiseSigma
  const os = opts.oversampling
  const flags = planFlags(plan, encoding === 3)
  const mask = channelMask(coils.count)
  const shapeCache = new Map<number, Shape[]>()
  const weightOptions = { timing: opts.timing, offResonanceHz: opts.offResonanceHz ?? 0, b1Scale: opts.b1Scale ?? 1 }
  const startTicks = opts.startTimeStamp ?? 0
  const trajectoryName = opts.trajectory ?? 'cartesian'
  const trajectoryDimensions = (opts.storeTrajectory ?? (trajectoryName !== 'cartesian' && trajectoryName !== 'epi')) ? encoding : 0
  const delayS = opts.readoutDelayS ?? 0
  const spinEchoes = spinEchoTimes(plan, opts.timing.teS)
  // Steps one partition high where the slab cuts an ellipsoid (kspace.ts): each step is one more
  // ellipse per sample (the 3D head in a 64 mm slab of 16 partitions: 53 shapes instead of 10), and
  // finer steps would change what a partition shows by less than its own partial volume does.
  const slab = encoding === 3 && opts.slab !== undefined ? { ...opts.slab, stepM: fov[2] / matrix[2] } : undefined
  let scanCounter = 1

  const header = (count: number, centre: number, dwellS: number, timeS: number, flagWord: bigint, counters: ReadoutCounters | undefined, sliceOffsetM: number): AcquisitionHeader => ({
    version: 1,
    flags: flagWord,
    measurementUid: opts.measurementUid ?? 0,
    scanCounter: scanCounter++,
    acquisitionTimeStamp: (startTicks + Math.round(timeS / TICK_S)) >>> 0,
    physiologyTimeStamp: [0, 0, 0],
    numberOfSamples: count,
    availableChannels: coils.count,
    activeChannels: coils.count,
    channelMask: [...mask],
    discardPre: 0,
    discardPost: 0,
    centerSample: centre,
    encodingSpaceRef: 0,
    trajectoryDimensions,
    sampleTimeUs: dwellS * 1e6,
    position: [0, 1, 2].map((i) => geometry.position[i] + sliceOffsetM * 1000 * geometry.sliceDir[i]) as [number, number, number],
    readDir: [...geometry.readDir],
    phaseDir: [...geometry.phaseDir],
    sliceDir: [...geometry.sliceDir],
    patientTablePosition: [0, 0, 0],
    idx: {
      kspaceEncodeStep1: counters?.line ?? 0,
      kspaceEncodeStep2: counters?.partition ?? 0,
      average: counters?.average ?? 0,
      slice: counters?.slice ?? 0,
      contrast: counters?.contrast ?? 0,
      phase: 0,
      repetition: counters?.repetition ?? 0,
      set: counters?.set ?? 0,
      segment: counters?.segment ?? 0,
      user: [0, 0, 0, 0, 0, 0, 0, 0]
    },
    userInt: [0, 0, 0, 0, 0, 0, 0, 0],
    userFloat: [0, 0, 0, 0, 0, 0, 0, 0]
  })

  const noiseOnly = (count: number): Float32Array => {
    const data = new Float32Array(2 * count * coils.count)
    for (let i = 0; i < data.length; i++) data[i] = sigma * random.normal()
    return data
  }

  const trajectory = (s: Sampled): Float32Array => {
    if (trajectoryDimensions === 0) return new Float32Array(0)
    const d = trajectoryDimensions
    const traj = new Float32Array(d * s.kx.length)
    const dx = fov[0] / matrix[0]
    const dy = fov[1] / matrix[1]
    const dz = fov[2] / matrix[2]
    for (let m = 0; m < s.kx.length; m++) {
      traj[d * m] = s.kx[m] * dx
      traj[d * m + 1] = s.ky[m] * dy
      if (d === 3) traj[d * m + 2] = s.kz[m] * dz
    }
    return traj
  }

  // Noise calibration: as long as the plan's first readout, before the first excitation.
  const firstSignal = plan.find((r) => r.isNoise !== true) ?? plan[0]
  let noiseTimeS = 0
  if (opts.noiseReadouts > 0) {
    const template = firstSignal !== undefined
      ? sampleReadout(firstSignal, os, matrix[0])
      : sampleReadout({ kx: new Float64Array(matrix[0]), ky: new Float64Array(matrix[0]), kz: new Float64Array(matrix[0]), dwellS: 10e-6, timeFromExcitationS: 0, counters: { line: 0, partition: 0, slice: 0, average: 0, contrast: 0, repetition: 0, set: 0, segment: 0 } }, os, matrix[0])
    const count = template.kx.length
    for (let i = 0; i < opts.noiseReadouts; i++) {
      const head = header(count, template.centre, template.dwellS, noiseTimeS, flagBit(ACQ_FLAGS.IS_NOISE_MEASUREMENT), undefined, 0)
      yield { head, traj: new Float32Array(trajectoryDimensions * count), data: noiseOnly(count) }
      noiseTimeS += count * template.dwellS
    }
  }

  let excitation = 0
  for (let index = 0; index < plan.length; index++) {
    const r = plan[index]
    const s = sampleReadout(r, os, matrix[0], delayS)
    const count = s.kx.length
    const sliceOffsetM = r.sliceOffsetM ?? 0
    const timeS = noiseTimeS + (r.excitationTimeS ?? excitation * opts.timing.trS) + r.timeFromExcitationS
    if (r.isNoise !== true) excitation++
    // ISMRMRD leaves open which order center_sample of an IS_REVERSE readout counts in; ScanHub's
    // reconstruction (and this stream's PROTOCOL.md) counts it in the reversed order, k = 0 being
    // sample n − 1 − c as acquired: for an even readout the two differ by one sample, a phase ramp
    // between odd and even lines that would ghost any EPI without navigators.
    const centreSample = r.isReverse === true ? count - 1 - s.centre : s.centre
    const head = header(count, centreSample, s.dwellS, timeS, flags[index], r.counters, sliceOffsetM)
    if (r.isNoise === true) {
      yield { head, traj: trajectory(s), data: noiseOnly(count) }
      continue
    }
    let shapes = shapeCache.get(sliceOffsetM)
    if (shapes === undefined) {
      shapes = shapesFor(opts.phantom, encoding, sliceOffsetM, slab)
      shapeCache.set(sliceOffsetM, shapes)
    }
    const weights = sampleWeights(shapes, s.tS, { ...weightOptions, spinEchoS: spinEchoes[index] })
    const coilRe = Array.from({ length: coils.count }, () => new Float64Array(count))
    const coilIm = Array.from({ length: coils.count }, () => new Float64Array(count))
    const objRe = new Float64Array(count)
    const objIm = new Float64Array(count)
    for (let j = 0; j < coils.frequencies.length; j++) {
      objRe.fill(0)
      objIm.fill(0)
      accumulateKspace(shapes, weights, s.signalK, coils.frequencies[j], objRe, objIm)
      for (let c = 0; c < coils.count; c++) {
        const wr = coils.weights[c][2 * j]
        const wi = coils.weights[c][2 * j + 1]
        const re = coilRe[c]
        const im = coilIm[c]
        for (let m = 0; m < count; m++) {
          re[m] += wr * objRe[m] - wi * objIm[m]
          im[m] += wr * objIm[m] + wi * objRe[m]
        }
      }
    }
    const data = new Float32Array(2 * count * coils.count)
    for (let c = 0; c < coils.count; c++) {
      const base = 2 * count * c
      for (let m = 0; m < count; m++) {
        data[base + 2 * m] = scale * coilRe[c][m] + sigma * random.normal()
        data[base + 2 * m + 1] = scale * coilIm[c][m] + sigma * random.normal()
      }
    }
    yield { head, traj: trajectory(s), data }
  }
}
