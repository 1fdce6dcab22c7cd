// Noise prewhitening (Gadgetron's NoiseAdjustGadget): from the noise readouts (IS_NOISE_MEASUREMENT,
// the receiver sampled without excitation) estimate the noise covariance across coils,
// Psi = (1/N) sum_s n_s n_s^H, factor it Psi = L L^H (Cholesky), and multiply every later readout,
// or buffer (see whitenBuffer), by L^-1, so that its noise is white: uncorrelated across coils with
// unit variance (E|n|^2 = 1 per channel). Noise readouts are removed from the stream. With no noise
// readouts, everything passes through unchanged; a covariance that is not positive definite (a dead or
// noiseless channel) is reported and the data is passed through too.
//
// Noise variance grows with bandwidth, i.e. as 1/dwell time. When the noise was sampled with another
// dwell time than the data, the whitener is scaled by sqrt(dwell_data / dwell_noise) so that the data's
// noise, not the noise scan's, ends up with unit variance (Gadgetron applies the same ratio, times a
// receiver-bandwidth factor of its own).
import type { Acquisition } from '../../protocol/mrd/types.ts'
import { applyLowerTriangular } from '../fft/channel-matrix.ts'
import { AcquisitionShapeError, ChannelCountError } from './errors.ts'
import { IS_NOISE_MEASUREMENT, isFlagSet } from './flags.ts'
import { defineStage, param, type BufferMessage, type Message, type StageContext } from './stage.ts'

export interface NoiseState {
  channels: number
  /** sum over samples of n n^H, row-major complex channels x channels (double precision). */
  sum: Float64Array
  samples: number
  noiseDwellUs: number
  /** L^-1, lower triangular, row-major complex; null until computed, or when not positive definite. */
  whitener: Float64Array | null
  computed: boolean
  lateNoiseWarned: boolean
}

function checkShape (acq: Acquisition): void {
  const { numberOfSamples, activeChannels } = acq.head
  if (acq.data.length !== 2 * numberOfSamples * activeChannels) {
    throw new AcquisitionShapeError(`acquisition ${acq.head.scanCounter}: ${activeChannels} channels x ${numberOfSamples} samples need ${2 * numberOfSamples * activeChannels} floats, got ${acq.data.length}`)
  }
}

/** Adds the outer products n n^H of one noise readout to the sum (channel-major data). */
export function accumulateNoise (sum: Float64Array, data: Float32Array, channels: number, samples: number): void {
  for (let i = 0; i < channels; i++) {
    const ri = 2 * i * samples
    for (let j = 0; j <= i; j++) {
      const rj = 2 * j * samples
      let re = 0
      let im = 0
      for (let s = 0; s < 2 * samples; s += 2) {
        const ar = data[ri + s]
        const ai = data[ri + s + 1]
        const br = data[rj + s]
        const bi = data[rj + s + 1]
        // a * conj(b)
        re += ar * br + ai * bi
        im += ai * br - ar * bi
      }
      sum[2 * (i * channels + j)] += re
      sum[2 * (i * channels + j) + 1] += im
      if (i !== j) {
        sum[2 * (j * channels + i)] += re
        sum[2 * (j * channels + i) + 1] -= im
      }
    }
  }
}

/**
 * The inverse of the Cholesky factor L (Psi = L L^H, L lower triangular with a real positive
 * diagonal) of a Hermitian matrix, row-major complex; null when Psi is not positive definite.
 */
export function choleskyInverse (psi: Float64Array, n: number): Float64Array | null {
  const l = new Float64Array(2 * n * n)
  const at = (i: number, j: number): number => 2 * (i * n + j)
  for (let j = 0; j < n; j++) {
    let d = psi[at(j, j)]
    for (let k = 0; k < j; k++) d -= l[at(j, k)] ** 2 + l[at(j, k) + 1] ** 2
    // relative to the largest diagonal, so that the test does not depend on units
    if (!(d > 1e-12 * Math.abs(psi[at(0, 0)]) && d > 0)) return null
    const ljj = Math.sqrt(d)
    l[at(j, j)] = ljj
    for (let i = j + 1; i < n; i++) {
      let re = psi[at(i, j)]
      let im = psi[at(i, j) + 1]
      for (let k = 0; k < j; k++) {
        // L[i][k] * conj(L[j][k])
        const ar = l[at(i, k)]
        const ai = l[at(i, k) + 1]
        const br = l[at(j, k)]
        const bi = l[at(j, k) + 1]
        re -= ar * br + ai * bi
        im -= ai * br - ar * bi
      }
      l[at(i, j)] = re / ljj
      l[at(i, j) + 1] = im / ljj
    }
  }
  // forward substitution, column by column: L X = I
  const inv = new Float64Array(2 * n * n)
  for (let j = 0; j < n; j++) {
    inv[at(j, j)] = 1 / l[at(j, j)]
    for (let i = j + 1; i < n; i++) {
      let re = 0
      let im = 0
      for (let k = j; k < i; k++) {
        const ar = l[at(i, k)]
        const ai = l[at(i, k) + 1]
        const br = inv[at(k, j)]
        const bi = inv[at(k, j) + 1]
        re += ar * br - ai * bi
        im += ar * bi + ai * br
      }
      const lii = l[at(i, i)]
      inv[at(i, j)] = -re / lii
      inv[at(i, j) + 1] = -im / lii
    }
  }
  return inv
}

/** scale * W x for each sample of one readout's channel-major data, into a new array or, with `inPlace`, over `data`. */
export function applyWhitener (w: Float64Array, scale: number, data: Float32Array, channels: number, samples: number, inPlace = false): Float32Array {
  const out = inPlace ? data : data.slice()
  applyLowerTriangular(w, scale, out, channels, samples, 0, samples)
  return out
}

/** The whitener, computed on first use; null without noise readouts or when not positive definite. */
function whitenerFor (channels: number, ctx: StageContext<NoiseState>): Float64Array | null {
  const state = ctx.state
  if (state.samples === 0) return null
  if (!state.computed) {
    state.computed = true
    const psi = state.sum.map((v) => v / state.samples)
    state.whitener = choleskyInverse(psi, state.channels)
    if (state.whitener === null) ctx.warn('noise covariance is not positive definite (a dead or noiseless channel?): data not prewhitened')
  }
  if (state.whitener !== null && channels !== state.channels) throw new ChannelCountError(`data with ${channels} channels, noise with ${state.channels}`)
  return state.whitener
}

function dwellScale (enabled: boolean, dwellUs: number, state: NoiseState): number {
  return enabled && dwellUs > 0 && state.noiseDwellUs > 0 ? Math.sqrt(dwellUs / state.noiseDwellUs) : 1
}

// Placed after accumulate (or after the FFT: whitening acts across coils only, so it commutes with
// placing readouts and with FFTs and crops along the other axes), the stage whitens whole buffers on
// the worker pool, which is faster for data that is not streamed in real time.
async function whitenBuffer (input: BufferMessage, dwellTimeScaling: boolean, ctx: StageContext<NoiseState>): Promise<Message[]> {
  const [x, y, z, channels] = input.array.dims
  const whitener = whitenerFor(channels, ctx)
  if (whitener === null) return [input]
  const scale = dwellScale(dwellTimeScaling, input.meta.sampleTimeUs, ctx.state)
  const data = await ctx.fft.applyChannelMatrix(x * y * z, channels, whitener, scale, input.array.data)
  return [{ ...input, array: { dims: input.array.dims, data } }]
}

const params = {
  dwellTimeScaling: param.boolean('Scale by sqrt(data dwell time / noise dwell time) so that the data, not the noise scan, gets unit noise variance', true)
}

export const noisePrewhitening = defineStage<typeof params, NoiseState>({
  name: 'noise-prewhitening',
  doc: 'Whitens the coil noise with the covariance of the noise readouts (removed from the stream)',
  params,
  init: () => ({ channels: 0, sum: new Float64Array(0), samples: 0, noiseDwellUs: 0, whitener: null, computed: false, lateNoiseWarned: false }),
  run (input: Message, p, ctx): Message[] | Promise<Message[]> {
    // buffers asynchronously (on the pool), readouts synchronously: no promise per readout
    if (input.kind === 'buffer') return whitenBuffer(input, p.dwellTimeScaling, ctx)
    if (input.kind !== 'acquisition') return [input]
    const acq = input.acquisition
    const state = ctx.state
    const { activeChannels: channels, numberOfSamples: samples } = acq.head
    if (isFlagSet(acq.head, IS_NOISE_MEASUREMENT)) {
      checkShape(acq)
      if (state.computed) {
        if (!state.lateNoiseWarned) ctx.warn('noise readouts after image data are ignored: the whitener was already computed')
        state.lateNoiseWarned = true
        return []
      }
      if (state.samples === 0) {
        state.channels = channels
        state.sum = new Float64Array(2 * channels * channels)
        state.noiseDwellUs = acq.head.sampleTimeUs
      } else if (channels !== state.channels) {
        throw new ChannelCountError(`noise readouts with ${channels} channels after ones with ${state.channels}`)
      }
      accumulateNoise(state.sum, acq.data, channels, samples)
      state.samples += samples
      return []
    }
    const whitener = whitenerFor(channels, ctx)
    if (whitener === null) return [input]
    checkShape(acq)
    const owned = input.owned === true
    const data = applyWhitener(whitener, dwellScale(p.dwellTimeScaling, acq.head.sampleTimeUs, state), acq.data, channels, samples, owned)
    return [{ kind: 'acquisition', acquisition: { head: acq.head, traj: acq.traj, data }, owned }]
  }
})
