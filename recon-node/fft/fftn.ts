// Multi-dimensional FFTs along the axes picked by a bitmask, BART style: `(dims, flags, dst, src)`, arrays
// of complex float32 interleaved re/im, column-major (dimension 0 fastest), any length on every axis.
//
// Conventions, matching BART (checked against `bart fft`, see fftn.bart.test.ts):
// - `fft` / `ifft`: unnormalised forward exp(-2 pi i jk/n) / inverse exp(+2 pi i jk/n), no centring
//   (= `bart fft -n`, `bart fft -n -i`). ifft(fft(x)) = N x, N the product of the transformed lengths.
// - `fftc` / `ifftc`: centred, fftshift(fft(ifftshift(x))) per axis: index floor(n/2) is the origin in
//   both domains (k = 0 and x = 0). Equal to `bart fft` / `bart fft -i` for even AND odd lengths: BART
//   multiplies by a chirp ("fftmod") before and after instead of shifting, which for odd n is the same
//   shift by floor(n/2) expressed as a linear phase, so the results agree to rounding (scale 1).
// - `fftuc` / `ifftuc`: the centred ones times 1/sqrt(N) (= `bart fft -u`, `bart fft -u -i`).
// ISMRMRD's `ismrmrd_recon_cartesian_2d` uses FFTW_BACKWARD unnormalised between two fftshifts, i.e.
// `ifftc` exactly for even lengths (for odd lengths its first shift is fftshift, not ifftshift, which
// moves its image by one pixel); its phantom generator uses the unitary `fftuc`.
//
// Each line is copied into a double-precision buffer, transformed, and written back; the centring
// shifts and the conjugations of the inverse happen in those copies, so they cost nothing extra.
import { getPlan } from './plan.ts'

export interface FftOptions {
  /** exp(+2 pi i jk/n) instead of exp(-2 pi i jk/n); still unnormalised unless `unitary`. */
  inverse?: boolean
  /** ifftshift before and fftshift after, per transformed axis. */
  centred?: boolean
  /** Scale by 1/sqrt(n) per transformed axis. */
  unitary?: boolean
}

/**
 * A strided view of complex float32 data: element (i0, i1, ...) is at complex index
 * offset + sum(i_a * strides[a]), i.e. data[2 * that] is its real part and data[2 * that + 1] its imaginary.
 */
export interface StridedView {
  data: Float32Array
  offset: number
  dims: readonly number[]
  strides: readonly number[]
}

/** Thrown when dims and data disagree. */
export class FftShapeError extends Error {
  override name = 'FftShapeError'
}

/** Product of the dims. */
export function elementCount (dims: readonly number[]): number {
  let n = 1
  for (const d of dims) n *= d
  return n
}

/** Column-major strides (in complex elements) of contiguous data of these dims. */
export function contiguousStrides (dims: readonly number[]): number[] {
  const strides: number[] = []
  let s = 1
  for (const d of dims) {
    strides.push(s)
    s *= d
  }
  return strides
}

/** Bitmask of the axes in `flags` whose length is more than one (the only ones an FFT changes). */
export function activeFlags (dims: readonly number[], flags: number): number {
  let active = 0
  for (let a = 0; a < dims.length; a++) if ((flags & (1 << a)) !== 0 && dims[a] > 1) active |= 1 << a
  return active
}

/** Lines transformed together along a strided axis, so that each read touches whole cache lines. */
const BLOCK = 8

interface LineBuffers {
  n: number
  /** BLOCK gathered lines of 2n doubles each, and their transforms */
  lines: Float64Array[]
  spectra: Float64Array[]
}

/** Line buffers per length, kept like the plans (a 2-D FFT of a non-square image alternates two). */
const bufferCache = new Map<number, LineBuffers>()

function lineBuffers (n: number): LineBuffers {
  let buffers = bufferCache.get(n)
  if (buffers === undefined) {
    const lines = new Float64Array(2 * n * BLOCK)
    const spectra = new Float64Array(2 * n * BLOCK)
    buffers = {
      n,
      lines: Array.from({ length: BLOCK }, (_, q) => lines.subarray(2 * n * q, 2 * n * (q + 1))),
      spectra: Array.from({ length: BLOCK }, (_, q) => spectra.subarray(2 * n * q, 2 * n * (q + 1)))
    }
    bufferCache.set(n, buffers)
  }
  return buffers
}

/**
 * Transforms, in place, the lines of `view` along one axis. Lines are taken in blocks of up to BLOCK
 * neighbours along axis 0 (adjacent in memory when `axis` is another one): gathering a strided
 * axis one line at a time would read one value per cache line, and power-of-two strides make those
 * lines collide in the cache.
 */
function transformAxis (view: StridedView, axis: number, options: FftOptions): void {
  const { data, dims, strides } = view
  const n = dims[axis]
  const stride = strides[axis]
  const plan = getPlan(n)
  const { lines: bufs, spectra: outs } = lineBuffers(n)
  const sign = options.inverse === true ? -1 : 1
  const scale = options.unitary === true ? 1 / Math.sqrt(n) : 1
  const shift = options.centred === true ? Math.floor(n / 2) : 0
  // Line j of the input is element (j + shift) mod n (ifftshift); output k goes to (k + shift) mod n
  // (fftshift). For even n both shifts are n/2; for odd n, floor(n/2) both ways is still right because
  // ifftshift moves element floor(n/2) to 0 and fftshift moves 0 back to floor(n/2).
  const head = n - shift
  const outScaleIm = sign * scale
  const blocked = axis !== 0 && dims[0] > 1
  const blockAxis = blocked ? 0 : -1
  const inner = blocked ? dims[0] : 1
  const step0 = blocked ? strides[0] : 0

  // An odometer over every axis but `axis` (and axis 0 when blocked), tracking the complex offset
  // of each line's (or block's) first element.
  const rank = dims.length
  const counters = new Array<number>(rank).fill(0)
  let outer = 1
  for (let a = 0; a < rank; a++) if (a !== axis && a !== blockAxis) outer *= dims[a]
  let base = view.offset
  for (let o = 0; o < outer; o++) {
    if (!blocked) {
      // one line, contiguous or along axis 0: the wrap of the shifts split into two plain loops
      const buf = bufs[0]
      const out = outs[0]
      const step = 2 * stride
      let src = 2 * (base + shift * stride)
      let j = 0
      for (; j < 2 * head; j += 2, src += step) {
        buf[j] = data[src]
        buf[j + 1] = sign * data[src + 1]
      }
      src = 2 * base
      for (; j < 2 * n; j += 2, src += step) {
        buf[j] = data[src]
        buf[j + 1] = sign * data[src + 1]
      }
      plan.forward(buf, out)
      let dst = 2 * (base + shift * stride)
      let k = 0
      for (; k < 2 * head; k += 2, dst += step) {
        data[dst] = scale * out[k]
        data[dst + 1] = outScaleIm * out[k + 1]
      }
      dst = 2 * base
      for (; k < 2 * n; k += 2, dst += step) {
        data[dst] = scale * out[k]
        data[dst + 1] = outScaleIm * out[k + 1]
      }
    }
    for (let x0 = 0; blocked && x0 < inner; x0 += BLOCK) {
      const width = Math.min(BLOCK, inner - x0)
      const first = base + x0 * step0
      // gather (with ifftshift and, for the inverse, conjugation)
      for (let j = 0; j < n; j++) {
        let src = 2 * (first + (j < head ? j + shift : j - head) * stride)
        for (let q = 0; q < width; q++, src += 2 * step0) {
          const buf = bufs[q]
          buf[2 * j] = data[src]
          buf[2 * j + 1] = sign * data[src + 1]
        }
      }
      for (let q = 0; q < width; q++) plan.forward(bufs[q], outs[q])
      // scatter (with fftshift, conjugation and scale)
      for (let k = 0; k < n; k++) {
        let dst = 2 * (first + (k < head ? k + shift : k - head) * stride)
        for (let q = 0; q < width; q++, dst += 2 * step0) {
          const out = outs[q]
          data[dst] = scale * out[2 * k]
          data[dst + 1] = outScaleIm * out[2 * k + 1]
        }
      }
    }
    // next line or block
    for (let a = 0; a < rank; a++) {
      if (a === axis || a === blockAxis) continue
      counters[a]++
      base += strides[a]
      if (counters[a] < dims[a]) break
      base -= strides[a] * dims[a]
      counters[a] = 0
    }
  }
}

/** In-place FFT of a strided view along the axes in `flags`. */
export function fftStrided (view: StridedView, flags: number, options: FftOptions = {}): void {
  const active = activeFlags(view.dims, flags)
  for (let a = 0; a < view.dims.length; a++) {
    if ((active & (1 << a)) !== 0) transformAxis(view, a, options)
  }
}

/** FFT of `src` into `dst` (which may be `src`) along the axes in `flags`, as `options` says. */
export function fftn (dims: readonly number[], flags: number, dst: Float32Array, src: Float32Array, options: FftOptions = {}): void {
  const size = elementCount(dims)
  if (src.length !== 2 * size || dst.length !== 2 * size) {
    throw new FftShapeError(`dims [${dims.join(', ')}] need ${2 * size} floats, got src ${src.length}, dst ${dst.length}`)
  }
  if (dst !== src) dst.set(src)
  fftStrided({ data: dst, offset: 0, dims, strides: contiguousStrides(dims) }, flags, options)
}

/** Unnormalised forward FFT, not centred (`bart fft -n`). */
export function fft (dims: readonly number[], flags: number, dst: Float32Array, src: Float32Array): void {
  fftn(dims, flags, dst, src, {})
}

/** Unnormalised inverse FFT, not centred (`bart fft -n -i`). */
export function ifft (dims: readonly number[], flags: number, dst: Float32Array, src: Float32Array): void {
  fftn(dims, flags, dst, src, { inverse: true })
}

/** Centred unnormalised forward FFT (`bart fft`). */
export function fftc (dims: readonly number[], flags: number, dst: Float32Array, src: Float32Array): void {
  fftn(dims, flags, dst, src, { centred: true })
}

/** Centred unnormalised inverse FFT (`bart fft -i`): k-space to image as MRI uses it. */
export function ifftc (dims: readonly number[], flags: number, dst: Float32Array, src: Float32Array): void {
  fftn(dims, flags, dst, src, { centred: true, inverse: true })
}

/** Centred unitary forward FFT (`bart fft -u`). */
export function fftuc (dims: readonly number[], flags: number, dst: Float32Array, src: Float32Array): void {
  fftn(dims, flags, dst, src, { centred: true, unitary: true })
}

/** Centred unitary inverse FFT (`bart fft -u -i`). */
export function ifftuc (dims: readonly number[], flags: number, dst: Float32Array, src: Float32Array): void {
  fftn(dims, flags, dst, src, { centred: true, inverse: true, unitary: true })
}

let cropIn = new Float64Array(0)
let cropSpectrum = new Float64Array(0)
let cropOut = new Float64Array(0)

/**
 * Readout oversampling removal for `lines` contiguous k-space lines of n samples: each becomes the
 * m-sample line whose centred inverse FFT equals the centre m pixels (from floor(n/2) - floor(m/2)) of
 * the centred inverse FFT of the original, values included: ifftc_m(result) = crop(ifftc_n(line)).
 * That is fftc_m(crop(ifftc_n(line))) / m, done in one pass per line, in double precision. `dst` may
 * be the start of `src` itself: each line is read whole before its result is written, at or before it.
 */
export function cropFieldOfView (src: Float32Array, n: number, lines: number, m: number, dst: Float32Array = new Float32Array(2 * m * lines)): Float32Array {
  if (src.length !== 2 * n * lines || dst.length !== 2 * m * lines || m > n || m < 1) {
    throw new FftShapeError(`cropFieldOfView: ${lines} lines of ${n} -> ${m} samples do not fit ${src.length} -> ${dst.length} floats`)
  }
  const big = getPlan(n)
  const small = getPlan(m)
  if (cropIn.length < 2 * n) {
    cropIn = new Float64Array(2 * n)
    cropSpectrum = new Float64Array(2 * n)
    cropOut = new Float64Array(2 * n)
  }
  const input = cropIn
  const z = cropSpectrum
  const out = cropOut
  const hn = Math.floor(n / 2)
  const hm = Math.floor(m / 2)
  const scale = 1 / m
  for (let l = 0; l < lines; l++) {
    const s0 = 2 * n * l
    // conj(ifftshift(line)): the forward plan then gives Z = conj(ifft(ifftshift(line)))
    for (let j = 0; j < n; j++) {
      const from = s0 + 2 * ((j + hn) % n)
      input[2 * j] = src[from]
      input[2 * j + 1] = -src[from + 1]
    }
    big.forward(input, z)
    // image pixel p is conj(Z[(p - hn) mod n]); the crop keeps p = hn - hm + q, and ifftshift_m of the
    // crop is conj(Z[j]) for j < m - hm and conj(Z[n - m + j]) after
    for (let j = 0; j < m; j++) {
      const from = 2 * (j < m - hm ? j : n - m + j)
      input[2 * j] = z[from]
      input[2 * j + 1] = -z[from + 1]
    }
    small.forward(input, out)
    const d0 = 2 * m * l
    for (let k = 0; k < m; k++) {
      const to = d0 + 2 * ((k + hm) % m)
      dst[to] = scale * out[2 * k]
      dst[to + 1] = scale * out[2 * k + 1]
    }
  }
  return dst
}
