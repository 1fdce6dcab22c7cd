// Ramp-sampling regridding of EPI readouts (Gadgetron's EPIReconXGadget with a trapezoidal trajectory):
// an EPI readout that keeps sampling while its gradient ramps up and down has samples that are not
// uniform in kx. Every readout that carries a trajectory (trajectory_dimensions >= 1, first component kx)
// is resampled onto the uniform grid the rest of the chain assumes, and leaves without trajectory.
//
// Grid: header.encodedMatrix.x samples N, k = 0 at sample c = floor(N/2), spacing Δk = 1/encodedFov_x.
// The trajectory is in ISMRMRD's normalised units k·Δx with Δx = reconFov_x/reconMatrix_x (±0.5 at the
// edge of the recon matrix), so one grid step in those units is
//   Δk·Δx = (1/encodedFov_x)·(reconFov_x/reconMatrix_x) = reconFov_x/(encodedFov_x·reconMatrix_x),
// i.e. 1/(2·reconMatrix_x) with readout oversampling by 2 (the same extent sampled twice as densely) and
// 1/reconMatrix_x without. Without fields of view (zeros), reconFov/encodedFov is taken as
// reconMatrix_x/encodedMatrix_x (equal pixel sizes), so the step is 1/encodedMatrix_x.
//
// Interpolation: the object lies inside the encoded field of view, so a readout is a trigonometric
// polynomial in kx with N coefficients (the N pixels of the encoded FOV along x, band-limited
// interpolation). The coefficients are fitted to the acquired samples by least squares with a small
// Tikhonov term, and evaluated on the grid: out = G (EᴴE + λI)⁻¹ Eᴴ d, E the model at the acquired kx,
// G at the grid. Least squares weighs every sample alike, which is right for samples of equal noise and
// replaces the density compensation of convolution gridding (the denser ramp samples are not counted
// twice; they simply constrain the fit more). The operator depends only on the trajectory: it is built
// once per distinct trajectory (an EPI has two, one per polarity) and reused.
//
// Refused: readouts whose kx samples leave gaps wider than a grid step (the encoded FOV would alias),
// and readouts whose ky (or kz) changes along the readout by more than half a line (not a Cartesian
// line: radial, spiral or blipped-during-readout trajectories need a 2-D gridding this stage is not).
// Grid points beyond the sampled kx extent (by more than half a step) are set to 0, not extrapolated.
//
// Direction: the output keeps the acquired order, so an IS_REVERSE readout's samples still run from +kx
// to −kx and accumulate flips it: sample i of a reversed readout is grid point N−1−i. center_sample is
// c in the order accumulate reads it. discard_pre/post are honoured (in accumulate's order: for
// IS_REVERSE counted from the reversed end) by leaving those samples out of the fit; the output has none.
// Noise readouts (no k positions) pass through unchanged.
import type { Acquisition, AcquisitionHeader } from '../../protocol/mrd/types.ts'
import { AcquisitionShapeError, ReconRefusedError } from './errors.ts'
import { IS_NOISE_MEASUREMENT, IS_REVERSE, isFlagSet } from './flags.ts'
import { defineStage, param, type Message, type ReconHeader } from './stage.ts'

/** The trajectory cannot be regridded onto the uniform Cartesian readout grid. */
export class RampRegridError extends ReconRefusedError {
  override name = 'RampRegridError'
}

/** Operators kept per run: more distinct trajectories than this are rebuilt as they come. */
const MAX_CACHED_OPERATORS = 64

/** A readout-to-grid operator: out[j] = Σ_m R[j, m] d[m] over the samples kept. */
export interface RegridOperator {
  /** grid samples N */
  n: number
  /** acquired samples used, in acquisition order (indices into the readout) */
  used: Int32Array
  /** N × used.length complex, row-major, re/im interleaved (double precision) */
  r: Float64Array
}

export interface RampRegridState {
  operators: Map<string, RegridOperator>
  warnedDirection: boolean
}

/** The grid step in ISMRMRD normalised trajectory units (see the file header). */
export function gridStep (header: ReconHeader): number {
  const n = header.encodedMatrix.x
  if (!(n >= 1)) throw new RampRegridError(`encodedSpace matrixSize x is ${n}: the regridding needs the number of readout samples to produce`)
  const { encoded, recon } = header.fovMm
  const reconX = header.reconMatrix.x > 0 ? header.reconMatrix.x : n
  if (encoded.x > 0 && recon.x > 0) return recon.x / (encoded.x * reconX)
  return 1 / n
}

/** Lower Cholesky factor of a Hermitian positive definite matrix (row-major complex, double). */
function cholesky (a: Float64Array, n: number): Float64Array {
  const l = new Float64Array(2 * n * n)
  for (let j = 0; j < n; j++) {
    let d = a[2 * (j * n + j)]
    for (let k = 0; k < j; k++) d -= l[2 * (j * n + k)] ** 2 + l[2 * (j * n + k) + 1] ** 2
    if (!(d > 0)) throw new RampRegridError('the regridding system is singular: the trajectory does not determine the readout')
    const ljj = Math.sqrt(d)
    l[2 * (j * n + j)] = ljj
    for (let i = j + 1; i < n; i++) {
      let re = a[2 * (i * n + j)]
      let im = a[2 * (i * n + j) + 1]
      for (let k = 0; k < j; k++) {
        // L[i][k] · conj(L[j][k])
        const ar = l[2 * (i * n + k)]
        const ai = l[2 * (i * n + k) + 1]
        const br = l[2 * (j * n + k)]
        const bi = l[2 * (j * n + k) + 1]
        re -= ar * br + ai * bi
        im -= ai * br - ar * bi
      }
      l[2 * (i * n + j)] = re / ljj
      l[2 * (i * n + j) + 1] = im / ljj
    }
  }
  return l
}

/** Solves L Lᴴ x = b in place (b: n complex values). */
function choleskySolve (l: Float64Array, n: number, b: Float64Array): void {
  for (let i = 0; i < n; i++) {
    let re = b[2 * i]
    let im = b[2 * i + 1]
    for (let k = 0; k < i; k++) {
      const lr = l[2 * (i * n + k)]
      const li = l[2 * (i * n + k) + 1]
      re -= lr * b[2 * k] - li * b[2 * k + 1]
      im -= lr * b[2 * k + 1] + li * b[2 * k]
    }
    const d = l[2 * (i * n + i)]
    b[2 * i] = re / d
    b[2 * i + 1] = im / d
  }
  for (let i = n - 1; i >= 0; i--) {
    let re = b[2 * i]
    let im = b[2 * i + 1]
    for (let k = i + 1; k < n; k++) {
      // conj(L[k][i]) · x[k]
      const lr = l[2 * (k * n + i)]
      const li = l[2 * (k * n + i) + 1]
      re -= lr * b[2 * k] + li * b[2 * k + 1]
      im -= lr * b[2 * k + 1] - li * b[2 * k]
    }
    const d = l[2 * (i * n + i)]
    b[2 * i] = re / d
    b[2 * i + 1] = im / d
  }
}

/**
 * The operator from samples at `u` (kx in grid steps, k = 0 at 0) to the N-point grid at j − floor(N/2),
 * by regularised least squares on the band-limited model (file header). `lambda` is relative to the
 * number of samples (the diagonal of EᴴE).
 */
export function regridOperator (u: Float64Array, n: number, lambda: number): Omit<RegridOperator, 'used'> {
  const m = u.length
  const c = Math.floor(n / 2)
  // EᴴE is Toeplitz: entry (p, q) = Σ_m exp(+i2π u_m (p − q)/N)
  const toeplitz = new Float64Array(2 * (2 * n - 1))
  for (let d = -(n - 1); d <= n - 1; d++) {
    let re = 0
    let im = 0
    for (let s = 0; s < m; s++) {
      const phi = 2 * Math.PI * u[s] * d / n
      re += Math.cos(phi)
      im += Math.sin(phi)
    }
    toeplitz[2 * (d + n - 1)] = re
    toeplitz[2 * (d + n - 1) + 1] = im
  }
  const a = new Float64Array(2 * n * n)
  for (let p = 0; p < n; p++) {
    for (let q = 0; q < n; q++) {
      a[2 * (p * n + q)] = toeplitz[2 * (p - q + n - 1)]
      a[2 * (p * n + q) + 1] = toeplitz[2 * (p - q + n - 1) + 1]
    }
    a[2 * (p * n + p)] += lambda * m
  }
  const l = cholesky(a, n)
  // Y = (EᴴE + λI)⁻¹ Eᴴ, column by column; Eᴴ[p, s] = exp(+i2π u_s (p − c)/N)
  const y = new Float64Array(2 * n * m)
  const column = new Float64Array(2 * n)
  for (let s = 0; s < m; s++) {
    for (let p = 0; p < n; p++) {
      const phi = 2 * Math.PI * u[s] * (p - c) / n
      column[2 * p] = Math.cos(phi)
      column[2 * p + 1] = Math.sin(phi)
    }
    choleskySolve(l, n, column)
    for (let p = 0; p < n; p++) {
      y[2 * (p * m + s)] = column[2 * p]
      y[2 * (p * m + s) + 1] = column[2 * p + 1]
    }
  }
  // R = G Y, G[j, p] = exp(−i2π (j − c)(p − c)/N); grid points outside the sampled extent stay 0
  let lo = Infinity
  let hi = -Infinity
  for (let s = 0; s < m; s++) {
    lo = Math.min(lo, u[s])
    hi = Math.max(hi, u[s])
  }
  const r = new Float64Array(2 * n * m)
  const gRe = new Float64Array(n)
  const gIm = new Float64Array(n)
  for (let j = 0; j < n; j++) {
    const k = j - c
    if (k < lo - 0.5 || k > hi + 0.5) continue
    for (let p = 0; p < n; p++) {
      const phi = -2 * Math.PI * k * (p - c) / n
      gRe[p] = Math.cos(phi)
      gIm[p] = Math.sin(phi)
    }
    const row = 2 * j * m
    for (let p = 0; p < n; p++) {
      const gr = gRe[p]
      const gi = gIm[p]
      const from = 2 * p * m
      for (let s = 0; s < m; s++) {
        const yr = y[from + 2 * s]
        const yi = y[from + 2 * s + 1]
        r[row + 2 * s] += gr * yr - gi * yi
        r[row + 2 * s + 1] += gr * yi + gi * yr
      }
    }
  }
  return { n, r }
}

/** The samples a readout keeps, in acquisition order: discard_pre/post as accumulate counts them. */
function keptSamples (head: AcquisitionHeader): [number, number] {
  const n = head.numberOfSamples
  return isFlagSet(head, IS_REVERSE) ? [head.discardPost, n - head.discardPre] : [head.discardPre, n - head.discardPost]
}

/** kx (grid steps) of the kept samples, after checking that the readout is a Cartesian line. */
function readoutPositions (acq: Acquisition, header: ReconHeader): { u: Float64Array, used: Int32Array } {
  const head = acq.head
  const dims = head.trajectoryDimensions
  const n = head.numberOfSamples
  if (acq.traj.length !== dims * n) {
    throw new AcquisitionShapeError(`acquisition ${head.scanCounter}: trajectory of ${dims} dimensions x ${n} samples needs ${dims * n} floats, got ${acq.traj.length}`)
  }
  const step = gridStep(header)
  const [first, last] = keptSamples(head)
  const count = last - first
  if (count < 2) throw new RampRegridError(`acquisition ${head.scanCounter}: ${count} samples left after discard_pre/post, too few to regrid`)
  const u = new Float64Array(count)
  const used = new Int32Array(count)
  for (let s = first; s < last; s++) {
    u[s - first] = acq.traj[dims * s] / step
    used[s - first] = s
  }
  // ky (and kz) must stay on one line: half a line spacing, in the same normalised units
  const lineStep = [
    lineSpacing(header.fovMm.recon.y, header.fovMm.encoded.y, header.reconMatrix.y, header.encodedMatrix.y),
    lineSpacing(header.fovMm.recon.z, header.fovMm.encoded.z, header.reconMatrix.z, header.encodedMatrix.z)
  ]
  for (let d = 1; d < Math.min(dims, 3); d++) {
    let lo = Infinity
    let hi = -Infinity
    for (let s = first; s < last; s++) {
      lo = Math.min(lo, acq.traj[dims * s + d])
      hi = Math.max(hi, acq.traj[dims * s + d])
    }
    if (hi - lo > 0.5 * lineStep[d - 1]) {
      throw new RampRegridError(`acquisition ${head.scanCounter}: k${d === 1 ? 'y' : 'z'} changes by ${(hi - lo).toPrecision(3)} along the readout (a line is ${lineStep[d - 1].toPrecision(3)}): not a Cartesian line; this trajectory needs a non-Cartesian gridding stage`)
    }
  }
  const sorted = Float64Array.from(u).sort()
  let gap = 0
  for (let s = 1; s < sorted.length; s++) gap = Math.max(gap, sorted[s] - sorted[s - 1])
  if (gap > 1.001) {
    throw new RampRegridError(`acquisition ${head.scanCounter}: kx samples are up to ${gap.toFixed(3)} grid steps apart; the encoded field of view (${header.encodedMatrix.x} samples) needs at most 1: the header's encodedSpace does not match the trajectory`)
  }
  return { u, used }
}

function lineSpacing (reconFov: number, encodedFov: number, reconMatrix: number, encodedMatrix: number): number {
  const matrix = reconMatrix > 0 ? reconMatrix : Math.max(encodedMatrix, 1)
  return reconFov > 0 && encodedFov > 0 ? reconFov / (encodedFov * matrix) : 1 / matrix
}

function cacheKey (u: Float64Array, used: Int32Array): string {
  // the kx values alone decide the operator (ky changes from line to line; it is only checked)
  const kx = Float32Array.from(u)
  return `${used[0]}:${used.length}:${Buffer.from(kx.buffer).toString('base64')}`
}

/** Applies the operator to every channel of a readout; IS_REVERSE readouts get the grid in reverse. */
export function applyRegrid (op: RegridOperator, data: Float32Array, samples: number, channels: number, reverse: boolean): Float32Array {
  const { n, used, r } = op
  const m = used.length
  const out = new Float32Array(2 * n * channels)
  const d = new Float64Array(2 * m)
  for (let ch = 0; ch < channels; ch++) {
    const base = 2 * samples * ch
    for (let s = 0; s < m; s++) {
      d[2 * s] = data[base + 2 * used[s]]
      d[2 * s + 1] = data[base + 2 * used[s] + 1]
    }
    for (let j = 0; j < n; j++) {
      let re = 0
      let im = 0
      const row = 2 * j * m
      for (let s = 0; s < m; s++) {
        const rr = r[row + 2 * s]
        const ri = r[row + 2 * s + 1]
        re += rr * d[2 * s] - ri * d[2 * s + 1]
        im += rr * d[2 * s + 1] + ri * d[2 * s]
      }
      const at = 2 * (n * ch + (reverse ? n - 1 - j : j))
      out[at] = re
      out[at + 1] = im
    }
  }
  return out
}

const params = {
  regularization: param.number('Tikhonov weight of the least-squares fit, relative to the number of samples (guards against noise amplification where samples are sparse)', 1e-4, { min: 0, max: 1 })
}

export const epiRampRegrid = defineStage<typeof params, RampRegridState>({
  name: 'epi-ramp-regrid',
  doc: 'Resamples readouts that carry a trajectory (ramp-sampled EPI) onto the uniform kx grid of the encoded matrix',
  params,
  init: () => ({ operators: new Map(), warnedDirection: false }),
  run (input: Message, p, ctx): Message[] {
    if (input.kind !== 'acquisition') return [input]
    const acq = input.acquisition
    const head = acq.head
    if (head.trajectoryDimensions < 1 || isFlagSet(head, IS_NOISE_MEASUREMENT)) return [input]
    if (acq.data.length !== 2 * head.numberOfSamples * head.activeChannels) {
      throw new AcquisitionShapeError(`acquisition ${head.scanCounter}: ${head.activeChannels} channels x ${head.numberOfSamples} samples need ${2 * head.numberOfSamples * head.activeChannels} floats, got ${acq.data.length}`)
    }
    const { u, used } = readoutPositions(acq, ctx.header)
    const reverse = isFlagSet(head, IS_REVERSE)
    const descending = u[u.length - 1] < u[0]
    if (descending !== reverse && !ctx.state.warnedDirection) {
      ctx.state.warnedDirection = true
      ctx.warn(`acquisition ${head.scanCounter}: the trajectory runs ${descending ? 'from +kx to -kx' : 'from -kx to +kx'} but IS_REVERSE is ${reverse ? 'set' : 'not set'}; regridded by the trajectory, laid out as the flag says (navigator-based phase correction relies on the flag)`)
    }
    const key = cacheKey(u, used)
    let op = ctx.state.operators.get(key)
    if (op === undefined) {
      const n = ctx.header.encodedMatrix.x
      op = { ...regridOperator(u, n, p.regularization), used }
      if (ctx.state.operators.size >= MAX_CACHED_OPERATORS) ctx.state.operators.clear()
      ctx.state.operators.set(key, op)
    }
    const data = applyRegrid(op, acq.data, head.numberOfSamples, head.activeChannels, reverse)
    const regridded: Acquisition = {
      head: {
        ...head,
        numberOfSamples: op.n,
        centerSample: Math.floor(op.n / 2),
        discardPre: 0,
        discardPost: 0,
        trajectoryDimensions: 0
      },
      traj: new Float32Array(0),
      data
    }
    return [{ kind: 'acquisition', acquisition: regridded, owned: true }]
  }
})
