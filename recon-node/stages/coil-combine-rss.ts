// Coil combination by root sum of squares, sqrt(sum_c |x_c|^2) (BART's `rss`, Gadgetron's
// CombineGadget without sensitivities): turns an image-space buffer [X, Y, Z, C] into a magnitude
// image [X, Y, Z]. Also the way a single-coil buffer becomes a magnitude image.
import { size, type ComplexArray } from './complex-array.ts'
import { defineStage, type Message, type Triple } from './stage.ts'

/**
 * Root sum of squares over the axes in `flags` (BART: `rss(dims, flags, dst, src)`); `dst` has the
 * real results in column-major order of the dims with the flagged axes removed.
 */
export function rss (dims: readonly number[], flags: number, dst: Float32Array, src: Float32Array): void {
  const outDims = dims.map((d, a) => ((flags & (1 << a)) !== 0 ? 1 : d))
  const outSize = size(outDims)
  if (dst.length !== outSize) throw new RangeError(`rss: dst needs ${outSize} values, got ${dst.length}`)
  const sum = new Float64Array(outSize)
  const total = size(dims)
  const counters = new Array<number>(dims.length).fill(0)
  // walk the input in order, keeping the output index in step
  const outStrides: number[] = []
  let s = 1
  for (const d of outDims) { outStrides.push(s); s *= d }
  let o = 0
  for (let i = 0; i < total; i++) {
    const re = src[2 * i]
    const im = src[2 * i + 1]
    sum[o] += re * re + im * im
    for (let a = 0; a < dims.length; a++) {
      counters[a]++
      if ((flags & (1 << a)) === 0) o += outStrides[a]
      if (counters[a] < dims[a]) break
      if ((flags & (1 << a)) === 0) o -= outStrides[a] * dims[a]
      counters[a] = 0
    }
  }
  for (let i = 0; i < outSize; i++) dst[i] = Math.sqrt(sum[i])
}

/** sqrt(sum over coils of |x|^2) of a [X, Y, Z, C] array: the fast path of rss(dims, COIL_FLAG). */
export function rssCoils (array: ComplexArray): Float32Array {
  const [x, y, z, coils] = array.dims
  const n = x * y * z
  const sum = new Float64Array(n)
  const data = array.data
  for (let c = 0; c < coils; c++) {
    const base = 2 * n * c
    for (let i = 0; i < n; i++) {
      const re = data[base + 2 * i]
      const im = data[base + 2 * i + 1]
      sum[i] += re * re + im * im
    }
  }
  const out = new Float32Array(n)
  for (let i = 0; i < n; i++) out[i] = Math.sqrt(sum[i])
  return out
}

export const coilCombineRss = defineStage({
  name: 'coil-combine-rss',
  doc: 'Combines coils by root sum of squares into a magnitude image',
  params: {},
  run (input: Message, _p, ctx): Message[] {
    if (input.kind !== 'buffer' || input.domain !== 'image') return [input]
    const dims: Triple = [input.array.dims[0], input.array.dims[1], input.array.dims[2]]
    const pixels = rssCoils(input.array)
    ctx.arrays?.release(input.array)
    return [{ kind: 'image', dims, pixels, meta: input.meta }]
  }
})
