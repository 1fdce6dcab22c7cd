// Partial Fourier reconstruction of k-space buffers (Gadgetron's PartialFourierHandler / POCS, BART's
// `homodyne`): a scan that acquires one side of ky (and/or kz) only partly, e.g. 5/8 of the lines, relies
// on the conjugate symmetry of the k-space of a real object. Real objects have a smooth phase instead,
// so the missing lines are estimated with that phase, taken from the symmetric centre of k-space.
//
// What is partial: along PHS1 and PHS2, from meta.sampled (per line y + ny·z), the acquired lines span
// [lo, hi] around the centre c = floor(n/2) (accumulate's k = 0). With left = c − lo and right = hi − c,
// the mirror of the longer side reaches c + left (or c − right); lines between it and the acquired edge
// (within the buffer) are missing by partial Fourier and get filled. Lines beyond the mirror (zero
// filling to a larger matrix) stay 0. A buffer acquired symmetrically (or fully, or with one line more on
// one side, as even line counts are centred) passes through, as do buffers without `sampled`.
//
// Methods (per coil, over the whole 2-D/3-D image):
// - pocs (default): Haacke's projection onto convex sets. The phase θ comes from the symmetric centre
//   (2·min(left, right) + 1 lines on each partial axis) under a Hann window; from the zero-filled
//   k-space K0 repeat: image = iFFT(K); image = |image|·exp(iθ); K = FFT(image), then K = K0 on the
//   acquired lines and 0 beyond the mirror. The acquired lines are kept as they were.
// - homodyne (Noll et al. 1991): one partial axis only. K0 weighted by 2 on the far part of the longer
//   side, 0 on the missing side and a linear ramp 2 → 0 across the symmetric centre (so that
//   w(k) + w(−k) = 2), then image = Re{iFFT(w·K0)·exp(−iθ)}·exp(iθ), back to k-space. The result is
//   real up to θ: acquired lines change too.
// - zerofill: the missing lines stay 0 (blurring along the partial axis); the buffer passes unchanged.
// Filled lines are marked in meta.sampled.
//
// Refused (PartialFourierError): a symmetric centre with fewer than `minCentreLines` lines on a partial
// axis (θ cannot be estimated), lines missing inside the acquired region (undersampling: a parallel-
// imaging stage must fill them first), and homodyne with two partial axes.
import { alloc, PHS1_FLAG, PHS2_FLAG, READ_FLAG, type ComplexArray, type Dims } from './complex-array.ts'
import { ReconRefusedError } from './errors.ts'
import { defineStage, param, type BufferMessage, type Message, type StageContext } from './stage.ts'

/** The buffer's sampling does not allow a partial Fourier reconstruction with these parameters. */
export class PartialFourierError extends ReconRefusedError {
  override name = 'PartialFourierError'
}

/** Fewest lines missing on one side for a buffer to count as partial Fourier (see isPartial). */
const MIN_MISSING_LINES = 2

/** How one phase-encoding axis was sampled. */
export interface AxisCoverage {
  /** buffer length and k = 0 index */
  length: number
  centre: number
  /** first and last acquired line */
  lo: number
  hi: number
  /** lines to fill: [fillLo, fillHi] (empty when fillHi < fillLo) */
  fillLo: number
  fillHi: number
  /** half-width h of the symmetric centre [centre − h, centre + h] */
  half: number
}

export function axisCoverage (covered: Uint8Array): AxisCoverage | null {
  const length = covered.length
  const centre = Math.floor(length / 2)
  let lo = -1
  let hi = -1
  for (let i = 0; i < length; i++) {
    if (covered[i] !== 0) {
      if (lo < 0) lo = i
      hi = i
    }
  }
  if (lo < 0) return null
  const left = centre - lo
  const right = hi - centre
  let fillLo = 0
  let fillHi = -1
  if (left > right) {
    fillLo = hi + 1
    fillHi = Math.min(length - 1, centre + left)
  } else if (right > left) {
    fillLo = Math.max(0, centre - right)
    fillHi = lo - 1
  }
  return { length, centre, lo, hi, fillLo, fillHi, half: Math.min(left, right) }
}

/**
 * Whether lines are missing on one side. A single line is not partial Fourier: it is how an even number
 * of lines sits around a centre that is not n/2 (one side has a line more), and filling it would only
 * change images of fully sampled data.
 */
function isPartial (a: AxisCoverage | null): a is AxisCoverage {
  return a !== null && a.fillHi - a.fillLo + 1 >= MIN_MISSING_LINES
}

/** Along each partial axis: 1 on the lines of the symmetric centre, tapering (Hann) to 0 at its edges. */
function centreWindow (a: AxisCoverage | null, length: number): Float64Array {
  const w = new Float64Array(length)
  if (!isPartial(a)) return w.fill(1)
  for (let d = -a.half; d <= a.half; d++) w[a.centre + d] = 0.5 * (1 + Math.cos(Math.PI * d / (a.half + 1)))
  return w
}

/** Homodyne weights along one partial axis (file header). */
function homodyneWeights (a: AxisCoverage): Float64Array {
  const w = new Float64Array(a.length)
  const longerBelow = a.fillLo > a.hi
  for (let i = 0; i < a.length; i++) {
    const d = (i - a.centre) * (longerBelow ? 1 : -1)
    if (d < -a.half) w[i] = 2
    else if (d <= a.half) w[i] = 1 - d / (a.half + 1)
  }
  return w
}

/** The acquired lines and those to fill along one axis, [first, last]. */
function extent (a: AxisCoverage | null, length: number): [number, number] {
  if (a === null) return [0, length - 1]
  return a.fillHi - a.fillLo + 1 >= MIN_MISSING_LINES ? [Math.min(a.lo, a.fillLo), Math.max(a.hi, a.fillHi)] : [a.lo, a.hi]
}

/** Per line (y + ny·z): 0 outside, 1 acquired, 2 to fill. */
function lineRoles (dims: Dims, sampled: Uint8Array, ay: AxisCoverage | null, az: AxisCoverage | null): Uint8Array {
  const [, ny, nz] = dims
  const roles = new Uint8Array(ny * nz)
  const [ylo, yhi] = extent(ay, ny)
  const [zlo, zhi] = extent(az, nz)
  for (let z = zlo; z <= zhi; z++) {
    for (let y = ylo; y <= yhi; y++) roles[y + ny * z] = sampled[y + ny * z] !== 0 ? 1 : 2
  }
  return roles
}

function describe (meta: BufferMessage['meta']): string {
  return `slice ${meta.slice}, contrast ${meta.contrast}, repetition ${meta.repetition}`
}

/** Unit phasors exp(iθ) of the low-resolution image of the symmetric centre, per coil. */
async function centrePhase (k0: ComplexArray, wy: Float64Array, wz: Float64Array, flags: number, ctx: StageContext<unknown>): Promise<Float32Array> {
  const [nx, ny, nz, nc] = k0.dims
  let low = alloc(k0.dims, { shared: true }).data
  for (let c = 0; c < nc; c++) {
    for (let z = 0; z < nz; z++) {
      for (let y = 0; y < ny; y++) {
        const w = wy[y] * wz[z]
        if (w === 0) continue
        const row = 2 * nx * (y + ny * (z + nz * c))
        for (let i = row; i < row + 2 * nx; i++) low[i] = k0.data[i] * w
      }
    }
  }
  low = await ctx.fft.fftn(k0.dims, flags, low, { inverse: true, centred: true })
  for (let i = 0; i < low.length; i += 2) {
    const m = Math.hypot(low[i], low[i + 1])
    if (m > 0) {
      low[i] /= m
      low[i + 1] /= m
    } else {
      low[i] = 1
      low[i + 1] = 0
    }
  }
  return low
}

async function pocs (k0: ComplexArray, roles: Uint8Array, phase: Float32Array, iterations: number, flags: number, ctx: StageContext<unknown>): Promise<ComplexArray> {
  const dims = k0.dims
  const [nx, ny, nz, nc] = dims
  const scale = 1 / (nx * ny * nz)
  let k = alloc(dims, { shared: true }).data
  k.set(k0.data)
  for (let it = 0; it < iterations; it++) {
    k = await ctx.fft.fftn(dims, flags, k, { inverse: true, centred: true })
    for (let i = 0; i < k.length; i += 2) {
      const m = Math.hypot(k[i], k[i + 1]) * scale
      k[i] = m * phase[i]
      k[i + 1] = m * phase[i + 1]
    }
    k = await ctx.fft.fftn(dims, flags, k, { centred: true })
    for (let c = 0; c < nc; c++) {
      for (let line = 0; line < ny * nz; line++) {
        const role = roles[line]
        if (role === 2) continue
        const row = 2 * nx * (line + ny * nz * c)
        if (role === 1) k.set(k0.data.subarray(row, row + 2 * nx), row)
        else k.fill(0, row, row + 2 * nx)
      }
    }
  }
  return { dims, data: k }
}

async function homodyne (k0: ComplexArray, weights: Float64Array, axis: 1 | 2, phase: Float32Array, flags: number, ctx: StageContext<unknown>): Promise<ComplexArray> {
  const dims = k0.dims
  const [nx, ny, nz, nc] = dims
  let k = alloc(dims, { shared: true }).data
  for (let c = 0; c < nc; c++) {
    for (let z = 0; z < nz; z++) {
      for (let y = 0; y < ny; y++) {
        const w = weights[axis === 1 ? y : z]
        if (w === 0) continue
        const row = 2 * nx * (y + ny * (z + nz * c))
        for (let i = row; i < row + 2 * nx; i++) k[i] = k0.data[i] * w
      }
    }
  }
  k = await ctx.fft.fftn(dims, flags, k, { inverse: true, centred: true })
  const scale = 1 / (nx * ny * nz)
  for (let i = 0; i < k.length; i += 2) {
    // Re{image · exp(−iθ)} · exp(iθ)
    const real = (k[i] * phase[i] + k[i + 1] * phase[i + 1]) * scale
    k[i] = real * phase[i]
    k[i + 1] = real * phase[i + 1]
  }
  k = await ctx.fft.fftn(dims, flags, k, { centred: true })
  return { dims, data: k }
}

const params = {
  method: param.choice('How the missing side is filled: POCS, homodyne (one partial axis), or left zero', ['pocs', 'homodyne', 'zerofill'] as const, 'pocs'),
  iterations: param.integer('POCS iterations', 10, { min: 1, max: 200 }),
  // 6 lets a 16-partition slab at 6/8 (7 centre lines) through and refuses 5/8 of it (3 lines)
  minCentreLines: param.integer('Fewest lines of the symmetric k-space centre, per partial axis, to estimate the phase from', 6, { min: 3 })
}

export const partialFourier = defineStage({
  name: 'partial-fourier',
  doc: 'Fills the missing side of partial-Fourier k-space (POCS or homodyne) with the phase of the symmetric centre',
  params,
  async run (input: Message, p, ctx): Promise<Message[]> {
    if (input.kind !== 'buffer' || input.domain !== 'kspace' || input.meta.sampled === undefined) return [input]
    const { dims } = input.array
    const [, ny, nz] = dims
    const sampled = input.meta.sampled
    if (sampled.length !== ny * nz) return [input]
    const coveredY = new Uint8Array(ny)
    const coveredZ = new Uint8Array(nz)
    for (let z = 0; z < nz; z++) {
      for (let y = 0; y < ny; y++) {
        if (sampled[y + ny * z] !== 0) {
          coveredY[y] = 1
          coveredZ[z] = 1
        }
      }
    }
    const ay = axisCoverage(coveredY)
    const az = nz > 1 ? axisCoverage(coveredZ) : null
    if (!isPartial(ay) && !isPartial(az)) return [input]
    if (p.method === 'zerofill') return [input]
    const where = describe(input.meta)
    for (const [name, a] of [['PHS1', ay], ['PHS2', az]] as const) {
      if (!isPartial(a)) continue
      const lines = 2 * a.half + 1
      if (a.half < 0 || lines < p.minCentreLines) {
        throw new PartialFourierError(`${where}: partial Fourier along ${name} needs at least ${p.minCentreLines} lines acquired symmetrically around the k-space centre to estimate the phase, there were ${Math.max(lines, 0)} (lines ${a.lo}..${a.hi} of ${a.length}, centre ${a.centre}); acquire more of the short side or lower partial-fourier.minCentreLines`)
      }
    }
    // the acquired region must be whole: holes are undersampling, not partial Fourier
    const yr = ay ?? { lo: 0, hi: ny - 1 }
    const zr = az ?? { lo: 0, hi: nz - 1 }
    let holes = 0
    for (let z = zr.lo; z <= zr.hi; z++) for (let y = yr.lo; y <= yr.hi; y++) if (sampled[y + ny * z] === 0) holes++
    if (holes > 0) {
      throw new PartialFourierError(`${where}: ${holes} lines are missing inside the acquired region (undersampling): partial Fourier needs them filled first, by a parallel-imaging stage before partial-fourier`)
    }
    if (p.method === 'homodyne' && isPartial(ay) && isPartial(az)) {
      throw new PartialFourierError(`${where}: homodyne handles one partial-Fourier axis, this buffer is partial along PHS1 and PHS2: use method pocs`)
    }
    const flags = READ_FLAG | PHS1_FLAG | (nz > 1 ? PHS2_FLAG : 0)
    const wy = centreWindow(ay, ny)
    const wz = centreWindow(az, nz)
    const phase = await centrePhase(input.array, wy, wz, flags, ctx)
    const roles = lineRoles(dims, sampled, ay, az)
    const array = p.method === 'homodyne'
      ? await homodyne(input.array, homodyneWeights(isPartial(ay) ? ay : az as AxisCoverage), isPartial(ay) ? 1 : 2, phase, flags, ctx)
      : await pocs(input.array, roles, phase, p.iterations, flags, ctx)
    ctx.arrays?.release(input.array)
    const filled = Uint8Array.from(roles, (r) => r === 0 ? 0 : 1)
    for (let i = 0; i < filled.length; i++) filled[i] |= sampled[i]
    return [{ ...input, array, meta: { ...input.meta, sampled: filled } }]
  }
})
