// The one array type of the reconstruction, BART style: complex float32, re/im interleaved, with a
// fixed order of named axes, column-major (axis 0 fastest), the layout of BART's .cfl files and of
// ISMRMRD's NDArray. Element (x, y, z, c) is at complex index x + X * (y + Y * (z + Z * c)).
//
// Axes (BART's first four, src/misc/mri.h):
//   READ = 0   readout, k_x / image x (image columns)
//   PHS1 = 1   first phase encoding, k_y / image y (image rows)
//   PHS2 = 2   second phase encoding (3-D) or 1 (2-D), k_z / image partitions
//   COIL = 3   receive channel
// Everything else that tells buffers apart (slice, contrast, phase, repetition, set) is metadata of
// the message carrying the array, not an axis: every stage works on one such buffer at a time.
// Flags pick axes as in BART: bit a selects axis a (READ_FLAG | PHS1_FLAG is a 2-D FFT).

export const READ = 0
export const PHS1 = 1
export const PHS2 = 2
export const COIL = 3
export const DIMS = 4

export const READ_FLAG = 1 << READ
export const PHS1_FLAG = 1 << PHS1
export const PHS2_FLAG = 1 << PHS2
export const COIL_FLAG = 1 << COIL

/** [READ, PHS1, PHS2, COIL] lengths. */
export type Dims = [number, number, number, number]

export interface ComplexArray {
  dims: Dims
  /** 2 * product(dims) floats: re, im of each element in column-major order. */
  data: Float32Array
}

/** Thrown when dims, indices or data lengths do not fit together. */
export class ArrayShapeError extends Error {
  override name = 'ArrayShapeError'
}

export interface AllocOptions {
  /**
   * Put the data on a SharedArrayBuffer, so that the FFT pool's workers can transform parts of it in
   * place, with no copy and no transfer.
   */
  shared?: boolean
}

/** Number of complex elements. */
export function size (dims: readonly number[]): number {
  let n = 1
  for (const d of dims) n *= d
  return n
}

/** Column-major strides in complex elements. */
export function strides (dims: Dims): Dims {
  return [1, dims[0], dims[0] * dims[1], dims[0] * dims[1] * dims[2]]
}

function checkDims (dims: readonly number[]): void {
  if (dims.length !== DIMS || dims.some((d) => !Number.isSafeInteger(d) || d < 1)) {
    throw new ArrayShapeError(`dims must be ${DIMS} positive integers, got [${dims.join(', ')}]`)
  }
}

/** A zero-filled array. */
export function alloc (dims: Dims, options: AllocOptions = {}): ComplexArray {
  checkDims(dims)
  const bytes = 8 * size(dims)
  const buffer = options.shared === true ? new SharedArrayBuffer(bytes) : new ArrayBuffer(bytes)
  return { dims: [...dims], data: new Float32Array(buffer) }
}

/** Wraps existing interleaved data, checking its length. */
export function fromData (dims: Dims, data: Float32Array): ComplexArray {
  checkDims(dims)
  if (data.length !== 2 * size(dims)) throw new ArrayShapeError(`dims [${dims.join(', ')}] need ${2 * size(dims)} floats, got ${data.length}`)
  return { dims: [...dims], data }
}

/** Complex index of element (x, y, z, c); data[2 * i] is its real part, data[2 * i + 1] its imaginary. */
export function index (dims: Dims, x: number, y: number, z: number, c: number): number {
  return x + dims[0] * (y + dims[1] * (z + dims[2] * c))
}

/** A copy of positions [start, end) along `axis`. */
export function sliceAxis (array: ComplexArray, axis: number, start: number, end: number = start + 1): ComplexArray {
  const { dims, data } = array
  if (axis < 0 || axis >= DIMS || start < 0 || end > dims[axis] || end <= start) {
    throw new ArrayShapeError(`cannot take [${start}, ${end}) of axis ${axis} of [${dims.join(', ')}]`)
  }
  const outDims = [...dims] as Dims
  outDims[axis] = end - start
  const out = alloc(outDims)
  // Below `axis` elements are contiguous runs of `inner`; above it, `outer` such blocks.
  let inner = 1
  for (let a = 0; a < axis; a++) inner *= dims[a]
  let outer = 1
  for (let a = axis + 1; a < DIMS; a++) outer *= dims[a]
  const run = 2 * inner * (end - start)
  for (let o = 0; o < outer; o++) {
    const from = 2 * inner * (o * dims[axis] + start)
    out.data.set(data.subarray(from, from + run), o * run)
  }
  return out
}

/**
 * A copy of the centred block of `outDims`: along each axis where the array is longer, the block
 * keeps index floor(n/2) (the origin of the centred FFT) at floor(m/2); axes must not be shorter.
 */
export function cropCentre (array: ComplexArray, outDims: Dims, recycler?: ArrayRecycler): ComplexArray {
  const { dims, data } = array
  checkDims(outDims)
  if (outDims.every((d, a) => d === dims[a])) return array
  const start = dims.map((d, a) => {
    if (outDims[a] > d) throw new ArrayShapeError(`cannot crop axis ${a} from ${d} to ${outDims[a]}`)
    return Math.floor(d / 2) - Math.floor(outDims[a] / 2)
  })
  const out = recycler !== undefined ? recycler.alloc(outDims, { zero: false }) : alloc(outDims)
  const run = 2 * outDims[0]
  let o = 0
  for (let c = 0; c < outDims[3]; c++) {
    for (let z = 0; z < outDims[2]; z++) {
      for (let y = 0; y < outDims[1]; y++) {
        const from = 2 * index(dims, start[0], y + start[1], z + start[2], c + start[3])
        out.data.set(data.subarray(from, from + run), o)
        o += run
      }
    }
  }
  return out
}

/**
 * Reuses the memory of arrays that stages are done with. Allocating a large buffer costs little, but
 * touching its pages the first time costs more than filling them (a k-space buffer of 256 x 256 x 8
 * coils is 4 MiB, about 1000 page faults), and a reconstruction allocates the same sizes again and
 * again. One recycler serves one run of the pipeline; its memory goes when the run ends.
 */
export class ArrayRecycler {
  private readonly free = new Map<string, Array<ArrayBuffer | SharedArrayBuffer>>()

  constructor (private readonly keepPerSize = 4) {}

  /** Like alloc; zero-filled unless `zero` is false (for arrays that will be overwritten entirely). */
  alloc (dims: Dims, options: AllocOptions & { zero?: boolean } = {}): ComplexArray {
    const shared = options.shared === true
    const key = `${shared ? 's' : 'a'}${8 * size(dims)}`
    const buffer = this.free.get(key)?.pop()
    if (buffer === undefined) return alloc(dims, options)
    const data = new Float32Array(buffer)
    if (options.zero !== false) data.fill(0)
    return { dims: [...dims], data }
  }

  /** Hands back an array nobody uses any more (not even through another view of its buffer). */
  release (array: ComplexArray): void {
    const buffer = array.data.buffer
    if (array.data.byteOffset !== 0 || array.data.byteLength !== buffer.byteLength || buffer.byteLength === 0) return
    const key = `${buffer instanceof SharedArrayBuffer ? 's' : 'a'}${buffer.byteLength}`
    const list = this.free.get(key) ?? []
    if (list.length < this.keepPerSize) list.push(buffer)
    this.free.set(key, list)
  }
}
