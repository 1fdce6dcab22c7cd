// Accumulation of readouts into k-space buffers (Gadgetron's AcquisitionAccumulateTrigger and
// BucketToBuffer in one): one buffer [READ, PHS1, PHS2, COIL] per (slice, contrast, phase,
// repetition, set), each readout placed by kspace_encode_step_1/2 and center_sample. A buffer is
// emitted as soon as it is complete: on LAST_IN_SLICE (that buffer), LAST_IN_REPETITION (every buffer
// of that repetition) or LAST_IN_MEASUREMENT (all); whatever remains is emitted at the end of the
// stream, which is how data whose flags are all 0 (the OSI2 ONE's) is reconstructed.
//
// Placement, in the centred convention of fft/fftn.ts (index floor(N/2) of a buffer of length N is k = 0):
// - readout sample s goes to x = s - center_sample + floor(X/2) (after discard_pre/post are dropped);
// - line e1 goes to y = e1 - c1 + floor(Y/2), c1 = encodingLimits.kspace_encoding_step_1.center
//   (default: half the encoded matrix); partitions likewise with step 2.
// Buffer lengths are the smallest that hold all samples/lines so centred, and at least
// reconMatrix * encodedFov / reconFov: zero-filling to the recon matrix (interpolation), keeping lines
// missing on one side (partial Fourier) or beyond the limits at zero. For 2-D data PHS2 has length 1.
//
// IS_REVERSE readouts are reversed (sample s takes the value of sample n - 1 - s) and then placed like
// the others: center_sample and discard_pre/post count in the reversed order. Lines acquired more than once (averages) are averaged.
// Noise, navigator, phase-correction, feedback and dummy-scan readouts are never image data; neither
// are readouts that are only parallel-imaging calibration, unless `useCalibration` says so. Those
// pass on to the next stage, and their trigger flags still count.
import type { Acquisition, AcquisitionHeader } from '../../protocol/mrd/types.ts'
import { alloc, type ArrayRecycler, type ComplexArray, type Dims } from './complex-array.ts'
import { AcquisitionShapeError, ChannelCountError } from './errors.ts'
import {
  IS_PARALLEL_CALIBRATION, IS_PARALLEL_CALIBRATION_AND_IMAGING, IS_REVERSE, isFlagSet, LAST_IN_MEASUREMENT,
  LAST_IN_REPETITION, LAST_IN_SLICE, NOT_IMAGE_DATA
} from './flags.ts'
import { bufferMetaOf } from './buffer-meta.ts'
import { defineStage, param, type BufferMessage, type Limit, type Message, type ReconHeader } from './stage.ts'

/** The smallest length N that holds indices 0..count-1 with index `centre` at floor(N/2). */
export function centredLength (count: number, centre: number): number {
  return Math.max(count, 2 * centre, 2 * (count - centre) - 1, 1)
}

interface Pending {
  key: string
  array: ComplexArray
  /** readouts added to each (y, z) line */
  counts: Uint32Array
  channels: number
  /** buffer index minus encoding index along PHS1 and PHS2 */
  origin: [number, number]
  /** the header nearest the k-space centre, for the image's position and counters */
  head: AcquisitionHeader
  distance: number
}

export interface AccumulateState {
  pending: Map<string, Pending>
  warned: Set<string>
}

interface AxisPlan {
  /** encoding index (step 1 or 2) of k = 0 */
  centre: number
  lo: number
  hi: number
}

/** Index of k = 0 among the samples kept after discard_pre; 0 (unset) means the middle. */
function readoutCentre (head: AcquisitionHeader): number {
  const used = head.numberOfSamples - head.discardPre - head.discardPost
  return head.centerSample === 0 && used > 1 ? Math.floor(used / 2) : head.centerSample - head.discardPre
}

function keyOf (head: AcquisitionHeader): string {
  const i = head.idx
  return `${i.slice}/${i.contrast}/${i.phase}/${i.repetition}/${i.set}`
}

function warnOnce (state: AccumulateState, warn: (m: string) => void, key: string, message: string): void {
  if (state.warned.has(key)) return
  state.warned.add(key)
  warn(message)
}

function phaseAxis (limit: Limit | undefined, encoded: number, name: string, state: AccumulateState, warn: (m: string) => void): AxisPlan {
  if (limit === undefined) {
    const n = Math.max(encoded, 1)
    return { centre: Math.floor(n / 2), lo: 0, hi: n - 1 }
  }
  let centre = limit.center
  if (centre === 0 && limit.maximum > 0) {
    // A centre of 0 with more than one line is what writers that leave it unset produce.
    centre = Math.floor(Math.max(encoded, limit.maximum + 1) / 2)
    warnOnce(state, warn, `centre-${name}`, `encodingLimits ${name} has centre 0: assuming ${centre}`)
  }
  return { centre, lo: Math.min(limit.minimum, centre), hi: Math.max(limit.maximum, centre) }
}

/** reconMatrix * encodedFov / reconFov along one axis: the length at which pixels have the recon size. */
function targetLength (recon: number, encodedFov: number, reconFov: number): number {
  if (!(recon > 0)) return 1
  return encodedFov > 0 && reconFov > 0 ? Math.round(recon * encodedFov / reconFov) : recon
}

function allocate (acq: Acquisition, key: string, header: ReconHeader, state: AccumulateState, warn: (m: string) => void, arrays: ArrayRecycler | undefined): Pending {
  const head = acq.head
  const { encodedMatrix: em, reconMatrix: rm } = header
  const { encoded: ef, recon: rf } = header.fovMm
  const used = head.numberOfSamples - head.discardPre - head.discardPost
  const centre = readoutCentre(head)
  if (head.centerSample === 0 && used > 1) {
    warnOnce(state, warn, 'center-sample', `center_sample is 0: assuming the readout is centred at ${centre}`)
  }
  const targetX = targetLength(rm.x, ef.x, rf.x)
  const x = Math.max(centredLength(used, centre), targetX)
  const a1 = phaseAxis(header.encodingLimits?.kspaceEncodingStep1, em.y, 'kspace_encoding_step_1', state, warn)
  const y = Math.max(centredLength(a1.hi - a1.lo + 1, a1.centre - a1.lo), targetLength(rm.y, ef.y, rf.y))
  const limit2 = header.encodingLimits?.kspaceEncodingStep2
  const threeD = em.z > 1 || (limit2 !== undefined && limit2.maximum > 0)
  const a2 = threeD ? phaseAxis(limit2, em.z, 'kspace_encoding_step_2', state, warn) : { centre: 0, lo: 0, hi: 0 }
  const z = threeD ? Math.max(centredLength(a2.hi - a2.lo + 1, a2.centre - a2.lo), targetLength(rm.z, ef.z, rf.z)) : 1
  const dims: Dims = [x, y, z, head.activeChannels]
  if (rm.x > 0 && used > targetX) {
    warnOnce(state, warn, 'recon-smaller', `readouts of ${used} samples for a recon matrix of ${rm.x}: images keep the encoded resolution and are cropped`)
  }
  return {
    key,
    array: arrays !== undefined ? arrays.alloc(dims, { shared: true }) : alloc(dims, { shared: true }),
    counts: new Uint32Array(y * z),
    channels: head.activeChannels,
    origin: [Math.floor(y / 2) - a1.centre, Math.floor(z / 2) - a2.centre],
    head,
    distance: Infinity
  }
}

function place (p: Pending, acq: Acquisition, state: AccumulateState, warn: (m: string) => void): void {
  const head = acq.head
  const [nx, ny, nz, channels] = p.array.dims
  const y = head.idx.kspaceEncodeStep1 + p.origin[0]
  const z = nz === 1 ? (head.idx.kspaceEncodeStep2 === 0 ? 0 : -1) : head.idx.kspaceEncodeStep2 + p.origin[1]
  if (y < 0 || y >= ny || z < 0 || z >= nz) {
    warnOnce(state, warn, 'outside', `readout ${head.scanCounter} (step 1 = ${head.idx.kspaceEncodeStep1}, step 2 = ${head.idx.kspaceEncodeStep2}) lies outside the encoding: dropped`)
    return
  }
  const n = head.numberOfSamples
  const first = head.discardPre
  const last = n - head.discardPost
  const reverse = isFlagSet(head, IS_REVERSE)
  // sample s (counted after discard_pre) goes to x = s + shift; the centre may differ between readouts
  const shift = Math.floor(nx / 2) - readoutCentre(head)
  // samples that land inside the buffer
  const lo = Math.max(first, first - shift)
  const hi = Math.min(last, nx - shift + first)
  const data = p.array.data
  const src = acq.data
  const fresh = p.counts[y + ny * z] === 0
  for (let c = 0; c < channels; c++) {
    const row = 2 * (nx * (y + ny * (z + nz * c)))
    const from = 2 * c * n
    const to = row + 2 * (shift - first)
    if (fresh && !reverse) {
      if (hi > lo) data.set(src.subarray(from + 2 * lo, from + 2 * hi), to + 2 * lo)
      continue
    }
    for (let s = lo; s < hi; s++) {
      const at = from + 2 * (reverse ? n - 1 - s : s)
      data[to + 2 * s] += src[at]
      data[to + 2 * s + 1] += src[at + 1]
    }
  }
  p.counts[y + ny * z]++
  const distance = Math.abs(y - Math.floor(ny / 2)) + Math.abs(z - Math.floor(nz / 2))
  if (distance < p.distance) {
    p.distance = distance
    p.head = head
  }
}

function emit (p: Pending, header: ReconHeader): BufferMessage {
  const [nx, ny, nz, channels] = p.array.dims
  const data = p.array.data
  for (let line = 0; line < ny * nz; line++) {
    const count = p.counts[line]
    if (count <= 1) continue
    const scale = 1 / count
    for (let c = 0; c < channels; c++) {
      const row = 2 * nx * (line + ny * nz * c)
      for (let i = row; i < row + 2 * nx; i++) data[i] *= scale
    }
  }
  const h = p.head
  const { encoded: ef, recon: rf } = header.fovMm
  const fov = (e: number, r: number): number => e > 0 ? e : r
  return {
    kind: 'buffer',
    domain: 'kspace',
    array: p.array,
    meta: bufferMetaOf(h, {
      fovMm: [fov(ef.x, rf.x), fov(ef.y, rf.y), fov(ef.z, rf.z)],
      reconMatrix: [header.reconMatrix.x || nx, header.reconMatrix.y || ny, header.reconMatrix.z || nz],
      reconFovMm: [fov(rf.x, ef.x), fov(rf.y, ef.y), fov(rf.z, ef.z)],
      sampled: Uint8Array.from(p.counts, (n) => n > 0 ? 1 : 0)
    })
  }
}

const params = {
  useCalibration: param.boolean('Also put readouts that are only parallel-imaging calibration (IS_PARALLEL_CALIBRATION) into the image buffers', false)
}

export const accumulate = defineStage<typeof params, AccumulateState>({
  name: 'accumulate',
  doc: 'Collects readouts into k-space buffers per slice/contrast/phase/repetition/set, emitted when complete',
  params,
  init: () => ({ pending: new Map(), warned: new Set() }),
  run (input: Message, p, ctx): Message[] {
    if (input.kind !== 'acquisition') return [input]
    const acq = input.acquisition
    const head = acq.head
    const state = ctx.state
    const calibrationOnly = isFlagSet(head, IS_PARALLEL_CALIBRATION) && !isFlagSet(head, IS_PARALLEL_CALIBRATION_AND_IMAGING)
    const image = (head.flags & NOT_IMAGE_DATA) === 0n && (p.useCalibration || !calibrationOnly) && head.numberOfSamples > 0
    const key = keyOf(head)
    if (image) {
      if (acq.data.length !== 2 * head.numberOfSamples * head.activeChannels) {
        throw new AcquisitionShapeError(`acquisition ${head.scanCounter}: ${head.activeChannels} channels x ${head.numberOfSamples} samples need ${2 * head.numberOfSamples * head.activeChannels} floats, got ${acq.data.length}`)
      }
      let pending = state.pending.get(key)
      if (pending === undefined) {
        pending = allocate(acq, key, ctx.header, state, ctx.warn, ctx.arrays)
        state.pending.set(key, pending)
      } else if (head.activeChannels !== pending.channels) {
        throw new ChannelCountError(`acquisition ${head.scanCounter} has ${head.activeChannels} channels, its buffer ${pending.channels}`)
      }
      place(pending, acq, state, ctx.warn)
    }
    // what is not image data passes on (noise readouts, for a prewhitening stage placed after this one)
    const out: Message[] = image ? [] : [input]
    const release = (p: Pending): void => {
      state.pending.delete(p.key)
      out.push(emit(p, ctx.header))
    }
    if (isFlagSet(head, LAST_IN_MEASUREMENT)) {
      for (const p of [...state.pending.values()]) release(p)
    } else {
      const own = state.pending.get(key)
      if (own !== undefined && isFlagSet(head, LAST_IN_SLICE)) release(own)
      if (isFlagSet(head, LAST_IN_REPETITION)) {
        for (const p of [...state.pending.values()]) if (p.head.idx.repetition === head.idx.repetition) release(p)
      }
    }
    return out
  },
  end (_p, ctx): Message[] {
    const out = [...ctx.state.pending.values()].map((p) => emit(p, ctx.header))
    ctx.state.pending.clear()
    return out
  }
})
