// Non-Cartesian 2-D reconstruction by gridding (the adjoint NUFFT with density compensation), for
// radial, golden-angle radial, centre-out (UTE) half-spokes, spirals or any other 2-D trajectory whose
// readouts carry the k-space position of each sample, and for stacks of them along Cartesian partitions
// (stack of stars: kspace_encode_step_2 numbers the partition, placed as accumulate places it). The
// positions are ISMRMRD's traj, (kx, ky[, kz]) per sample in normalised units k·Δx, ±0.5 at the edge of
// the reconstructed matrix (reconSpace matrixSize), kx along the readout direction and ky along the
// phase direction (how the virtual scanner and Gadgetron's radial examples write it). It takes the
// place of accumulate and fft in a chain.
//
// Image readouts are collected per (slice, contrast, phase, repetition, set), as accumulate does, and
// an image is made on the same triggers: LAST_IN_SLICE (that image), LAST_IN_REPETITION (every image of
// the repetition), LAST_IN_MEASUREMENT (all), and the end of the stream. Readouts that are not image
// data (noise, navigators, ...) pass on untouched, so that prewhitening may follow or precede; so do
// readouts that are only parallel-imaging calibration (IS_PARALLEL_CALIBRATION), as in accumulate. Each image
// is a buffer in image space, [reconMatrix.x, reconMatrix.y, reconMatrix.z (1 in 2-D), coils], that
// coil combination and scaling take as they take the Cartesian chain's. A stack's partitions are
// transformed along kz by the FFT (zero-filled to reconMatrix.z at the encoded FOV's partition
// thickness, then cropped, like accumulate and crop-to-recon-space); each partition's density weights
// are its own (2-D), computed once while the partitions repeat the same trajectory.
//
// Steps (recon-node/gridding): Pipe–Menon density weights, Kaiser–Bessel gridding onto a grid
// oversampled `oversampling` times, centred inverse FFT on the worker pool, crop, deapodisation.
// Scale: with density `pipe` the image is Σ w·d·exp(+i2πk·x), w the k-space area of each sample in
// cells of the encoded field of view's k-space lattice (1/FOV_encoded per axis): the scale of the
// Cartesian chain (accumulate and fft sum the samples of that lattice, and remove-oversampling keeps
// it), so the same object gives the same values scanned either way. Readout oversampling, which the
// header records as an encoded FOV twice the recon FOV, doubles the image as it does the Cartesian
// one. With `none` every weight is 1 (data already compensated) and nothing is rescaled.
//
// Refused, with a named error rather than a wrong image: image readouts without a trajectory, 1-D
// trajectories, 3-D ones (a kz that is not the Cartesian kz of the readout's partition, or partitions
// in a 2-D encoding), partitions outside the encoded matrix, trajectories that reach beyond 0.75
// (not in normalised units: BART's k·N, radians, 1/m). Samples between 0.5 and 0.75 lie outside the
// reconstructed matrix's k-space and are dropped, with a warning. IS_REVERSE is not applied: the
// trajectory places every sample. Memory: only the samples of the images not yet made, plus one
// oversampled grid per image while it is made.
import type { Acquisition, AcquisitionHeader } from '../../protocol/mrd/types.ts'
import { adjointNufft, type Partition } from '../gridding/adjoint.ts'
import { pipeMenonWeights } from '../gridding/density.ts'
import { footprints, planGrid, type Footprints, type GridPlan } from '../gridding/grid.ts'
import { SampleSet } from '../gridding/samples.ts'
import { centredLength } from './accumulate.ts'
import { AcquisitionShapeError, ChannelCountError } from './errors.ts'
import { IS_PARALLEL_CALIBRATION, IS_PARALLEL_CALIBRATION_AND_IMAGING, isFlagSet, LAST_IN_MEASUREMENT, LAST_IN_REPETITION, LAST_IN_SLICE, NOT_IMAGE_DATA } from './flags.ts'
import { MissingTrajectoryError, TrajectoryScaleError, UnsupportedTrajectoryError } from './nufft-errors.ts'
import { bufferMetaOf } from './buffer-meta.ts'
import { defineStage, param, type BufferMessage, type Message, type ParamValues, type ReconHeader, type StageContext } from './stage.ts'

/** |k| (normalised) beyond which a trajectory is taken to be in other units and refused. */
export const TRAJECTORY_LIMIT = 0.75

/** |k| (normalised) of the edge of the reconstructed matrix's k-space. */
const EDGE = 0.5

/** How far (normalised units) a stored kz may lie from its partition's Cartesian kz. */
const KZ_TOLERANCE = 1e-3

interface Pending {
  key: string
  coils: number
  /** the samples of each k-space partition, by its index in the stack (0 in 2-D) */
  partitions: Map<number, SampleSet>
  /** the header of the readout that passes nearest k = 0, for the image's position and counters */
  head: AcquisitionHeader
  distance: number
}

/** Where the partitions of a stack go: k-space plane z = kspace_encode_step_2 + origin of `planes`. */
interface Stack {
  planes: number
  origin: number
  /** image partitions kept (reconMatrix.z) */
  depth: number
  /** normalised kz of one partition step (for checking stored kz) */
  kzStep: number
}

/**
 * The kernel footprints and density weights of the last trajectory, reused while the trajectory
 * repeats (partitions, slices, repetitions); weights null until the density is asked for.
 */
interface TrajectoryCache {
  kx: Float32Array
  ky: Float32Array
  footprints: Footprints
  weights: Float32Array | null
}

export interface NufftState {
  pending: Map<string, Pending>
  warned: Set<string>
  plan: GridPlan | null
  stack: Stack | null
  trajectory: TrajectoryCache | null
}

const params = {
  oversampling: param.number('Oversampling of the gridding grid (the grid has at least this many times the image matrix, even)', 2, { min: 1.25, max: 4 }),
  kernelWidth: param.integer('Width of the Kaiser–Bessel kernel in cells of the oversampled grid (β after Beatty)', 4, { min: 2, max: 8 }),
  density: param.choice('Density compensation: pipe (Pipe–Menon iteration, any trajectory) or none (the data are already weighted)', ['pipe', 'none'] as const, 'pipe'),
  densityIterations: param.integer('Iterations of the Pipe–Menon density compensation', 10, { min: 1, max: 100 })
}

type Params = ParamValues<typeof params>

function keyOf (head: AcquisitionHeader): string {
  const i = head.idx
  return `${i.slice}/${i.contrast}/${i.phase}/${i.repetition}/${i.set}`
}

function warnOnce (state: NufftState, warn: (m: string) => void, key: string, message: string): void {
  if (state.warned.has(key)) return
  state.warned.add(key)
  warn(message)
}

/** The partitions of the encoding, as accumulate lays them out (one plane for 2-D). */
function planStack (header: ReconHeader): Stack {
  const { encodedMatrix: em, reconMatrix: rm } = header
  const limit = header.encodingLimits?.kspaceEncodingStep2
  const threeD = em.z > 1 || rm.z > 1 || (limit !== undefined && limit.maximum > 0)
  if (!threeD) return { planes: 1, origin: 0, depth: 1, kzStep: 0 }
  const encoded = Math.max(em.z, 1)
  let centre = limit?.center ?? Math.floor(encoded / 2)
  if (limit !== undefined && centre === 0 && limit.maximum > 0) centre = Math.floor(Math.max(encoded, limit.maximum + 1) / 2)
  const lo = Math.min(limit?.minimum ?? 0, centre)
  const hi = Math.max(limit?.maximum ?? encoded - 1, centre)
  const { encoded: ef, recon: rf } = header.fovMm
  const depth = rm.z > 0 ? rm.z : encoded
  // partitions are ef.z / planes thick; zero-filled to as many as make recon-sized ones, then cropped
  const target = ef.z > 0 && rf.z > 0 ? Math.round(depth * ef.z / rf.z) : depth
  const planes = Math.max(centredLength(hi - lo + 1, centre - lo), target, depth)
  // normalised kz = k·Δz, Δz the recon partition thickness; one partition step is 1/ef.z
  const kzStep = ef.z > 0 && rf.z > 0 ? (rf.z / depth) / ef.z : 1 / planes
  return { planes, origin: Math.floor(planes / 2) - centre, depth, kzStep }
}

/** Checks that an image readout can be gridded; throws the named error that says why not. */
function checkReadout (acq: Acquisition, stack: Stack): number {
  const head = acq.head
  const d = head.trajectoryDimensions
  if (d === 0) {
    throw new MissingTrajectoryError(`acquisition ${head.scanCounter} carries no k-space trajectory (trajectory_dimensions 0): non-Cartesian reconstruction (nufft) needs the k-space position of every sample. Cartesian data are reconstructed by accumulate and fft instead; a stage before nufft that changes the readouts (remove-oversampling) drops the trajectory and must be left out of a non-Cartesian chain`)
  }
  if (d === 1) {
    throw new UnsupportedTrajectoryError(`acquisition ${head.scanCounter} has a 1-D trajectory: nufft reconstructs 2-D trajectories (kx, ky per sample)`)
  }
  if (acq.traj.length !== d * head.numberOfSamples) {
    throw new AcquisitionShapeError(`acquisition ${head.scanCounter}: a ${d}-D trajectory of ${head.numberOfSamples} samples has ${d * head.numberOfSamples} values, got ${acq.traj.length}`)
  }
  if (acq.data.length !== 2 * head.numberOfSamples * head.activeChannels) {
    throw new AcquisitionShapeError(`acquisition ${head.scanCounter}: ${head.activeChannels} channels x ${head.numberOfSamples} samples need ${2 * head.numberOfSamples * head.activeChannels} floats, got ${acq.data.length}`)
  }
  const step2 = head.idx.kspaceEncodeStep2
  if (stack.planes === 1 && step2 !== 0) {
    throw new UnsupportedTrajectoryError(`acquisition ${head.scanCounter} has kspace_encode_step_2 = ${step2} in a 2-D encoding (encoded matrix z = 1): its partition has no place; the header should describe the stack's partitions`)
  }
  const z = step2 + stack.origin
  if (z < 0 || z >= stack.planes) {
    throw new AcquisitionShapeError(`acquisition ${head.scanCounter}: partition ${step2} (kspace_encode_step_2) lies outside the ${stack.planes} partitions of the encoding`)
  }
  if (d >= 3) {
    const kz = (z - Math.floor(stack.planes / 2)) * stack.kzStep
    for (let s = 0; s < head.numberOfSamples; s++) {
      if (Math.abs(acq.traj[d * s + 2] - kz) > KZ_TOLERANCE) {
        throw new UnsupportedTrajectoryError(`acquisition ${head.scanCounter} has kz = ${acq.traj[d * s + 2]} at sample ${s}, not its partition's ${kz}: nufft reconstructs 2-D trajectories and stacks of them along Cartesian partitions, not 3-D trajectories`)
      }
    }
  }
  return z
}

function add (state: NufftState, acq: Acquisition, header: ReconHeader, warn: (m: string) => void): void {
  const head = acq.head
  state.stack ??= planStack(header)
  const z = checkReadout(acq, state.stack)
  const key = keyOf(head)
  let p = state.pending.get(key)
  if (p === undefined) {
    p = { key, coils: head.activeChannels, partitions: new Map(), head, distance: Infinity }
    state.pending.set(key, p)
  } else if (p.coils !== head.activeChannels) {
    throw new ChannelCountError(`acquisition ${head.scanCounter} has ${head.activeChannels} channels, the other readouts of its image ${p.coils}`)
  }
  let samples = p.partitions.get(z)
  if (samples === undefined) {
    samples = new SampleSet(head.activeChannels)
    p.partitions.set(z, samples)
  }
  let nearest = Infinity
  let dropped = 0
  const keep = (kx: number, ky: number): boolean => {
    const r = Math.max(Math.abs(kx), Math.abs(ky))
    if (!(r <= TRAJECTORY_LIMIT)) {
      throw new TrajectoryScaleError(`acquisition ${head.scanCounter} has a sample at k = (${kx}, ${ky}): ISMRMRD trajectories are in units of k·Δx, ±0.5 at the edge of the reconstructed matrix (${header.reconMatrix.x} x ${header.reconMatrix.y}); this one looks scaled otherwise (BART's k·N, radians or 1/m), or the reconstructed matrix is far coarser than the data`)
    }
    const r2 = kx * kx + ky * ky
    if (r2 < nearest) nearest = r2
    if (r > EDGE) { dropped++; return false }
    return true
  }
  samples.addReadout(acq.traj, head.trajectoryDimensions, acq.data, head.numberOfSamples, head.discardPre, head.numberOfSamples - head.discardPost, keep)
  if (dropped > 0) {
    warnOnce(state, warn, 'beyond-edge', `samples beyond |k| = ${EDGE} (outside the k-space of the ${header.reconMatrix.x} x ${header.reconMatrix.y} reconstructed matrix) are left out`)
  }
  // nearest k = 0: the central partition first, then the smallest |k| in the plane
  const distance = Math.abs(z - Math.floor(state.stack.planes / 2)) + Math.min(nearest, 0.999)
  if (distance < p.distance) {
    p.distance = distance
    p.head = head
  }
}

function sameTrajectory (cache: TrajectoryCache, samples: SampleSet): boolean {
  if (cache.kx.length !== samples.count) return false
  for (let s = 0; s < samples.count; s++) {
    if (cache.kx[s] !== samples.kx[s] || cache.ky[s] !== samples.ky[s]) return false
  }
  return true
}

/** One partition's samples with their footprints and weights, from the cache while the trajectory repeats. */
function partition (samples: SampleSet, params: Params, state: NufftState, plan: GridPlan): Partition {
  let cache = state.trajectory
  if (cache === null || !sameTrajectory(cache, samples)) {
    const kx = samples.kx.slice(0, samples.count)
    const ky = samples.ky.slice(0, samples.count)
    cache = { kx, ky, footprints: footprints(kx, ky, samples.count, plan), weights: null }
    state.trajectory = cache
  }
  if (params.density === 'pipe') cache.weights ??= pipeMenonWeights(cache.footprints, plan, params.densityIterations)
  return { samples, footprints: cache.footprints, weights: params.density === 'pipe' ? cache.weights : null }
}

async function emit (p: Pending, params: Params, ctx: StageContext<NufftState>): Promise<BufferMessage> {
  const header = ctx.header
  const state = ctx.state
  state.plan ??= planGrid(header.reconMatrix.x, header.reconMatrix.y, params.oversampling, params.kernelWidth)
  const plan = state.plan
  const stack = state.stack ?? planStack(header)
  const partitions = Array.from({ length: stack.planes }, (_, z) => {
    const samples = p.partitions.get(z)
    return samples === undefined ? undefined : partition(samples, params, state, plan)
  })
  const { encoded: ef, recon: rf } = header.fovMm
  // Pipe's weights count Nyquist cells of the recon matrix; the encoded lattice's are finer
  const ratio = (e: number, r: number): number => e > 0 && r > 0 ? e / r : 1
  const cells = params.density === 'pipe' ? ratio(ef.x, rf.x) * ratio(ef.y, rf.y) : 1
  const array = await adjointNufft(partitions, p.coils, plan, ctx.fft, { arrays: ctx.arrays, scale: cells, depth: stack.depth })
  const h = p.head
  const fov = (r: number, e: number): number => r > 0 ? r : e
  const reconFov: [number, number, number] = [fov(rf.x, ef.x), fov(rf.y, ef.y), fov(rf.z, ef.z)]
  return {
    kind: 'buffer',
    domain: 'image',
    array,
    meta: bufferMetaOf(h, { fovMm: reconFov, reconMatrix: [header.reconMatrix.x, header.reconMatrix.y, stack.depth], reconFovMm: reconFov })
  }
}

export const nufft = defineStage<typeof params, NufftState>({
  name: 'nufft',
  doc: 'Non-Cartesian reconstruction: readouts with a 2-D k-space trajectory (or stacks of them along Cartesian partitions) gridded (Kaiser–Bessel, Pipe–Menon density compensation) into one image buffer per slice/contrast/phase/repetition/set',
  params,
  init: () => ({ pending: new Map(), warned: new Set(), plan: null, stack: null, trajectory: null }),
  async run (input: Message, p, ctx): Promise<Message[]> {
    if (input.kind !== 'acquisition') return [input]
    const head = input.acquisition.head
    const state = ctx.state
    const calibrationOnly = isFlagSet(head, IS_PARALLEL_CALIBRATION) && !isFlagSet(head, IS_PARALLEL_CALIBRATION_AND_IMAGING)
    const image = (head.flags & NOT_IMAGE_DATA) === 0n && !calibrationOnly && head.numberOfSamples > 0
    if (image) add(state, input.acquisition, ctx.header, ctx.warn)
    const out: Message[] = image ? [] : [input]
    const ready: Pending[] = []
    if (isFlagSet(head, LAST_IN_MEASUREMENT)) ready.push(...state.pending.values())
    else {
      const own = state.pending.get(keyOf(head))
      if (own !== undefined && isFlagSet(head, LAST_IN_SLICE)) ready.push(own)
      if (isFlagSet(head, LAST_IN_REPETITION)) {
        for (const q of state.pending.values()) if (q.head.idx.repetition === head.idx.repetition && !ready.includes(q)) ready.push(q)
      }
    }
    for (const q of ready) {
      state.pending.delete(q.key)
      out.push(await emit(q, p, ctx))
    }
    return out
  },
  async end (p, ctx): Promise<Message[]> {
    const out: Message[] = []
    for (const q of [...ctx.state.pending.values()]) {
      ctx.state.pending.delete(q.key)
      out.push(await emit(q, p, ctx))
    }
    return out
  }
})
