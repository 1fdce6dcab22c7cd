// Gridding onto an oversampled Cartesian grid and interpolation from it, with a separable
// Kaiser–Bessel kernel (kaiser-bessel.ts). Conventions are those of the centred FFT (fft/fftn.ts):
// on a grid of M points, index floor(M/2) is k = 0, so a sample at normalised k (cycles per pixel of the
// reconstructed matrix, ±0.5 at its edge) lies at u = floor(M/2) + M·k in grid cells. The grid is
// periodic (what the FFT assumes): a kernel reaching past one edge continues at the other.
import { kaiserBessel, kernelTransform, TABLE_PER_CELL, type KaiserBessel } from './kaiser-bessel.ts'
import type { SampleSet } from './samples.ts'

/** Thrown for a grid that cannot be planned (no image size). */
export class GridPlanError extends Error {
  override name = 'GridPlanError'
}

export interface GridPlan {
  /** Image size (the reconstructed matrix), x and y. */
  image: [number, number]
  /** Oversampled grid size, x and y (even). */
  grid: [number, number]
  kernel: KaiserBessel
  /** 1 / (ĉ(x / Mx) · ĉ(y / My)) per image pixel, x fastest: the deapodisation. */
  deapodisation: Float64Array
}

/** A grid of at least `oversampling` · n points, even, so that its centre is unambiguous. */
export function oversampledLength (n: number, oversampling: number): number {
  return 2 * Math.ceil(oversampling * n / 2)
}

export function planGrid (nx: number, ny: number, oversampling: number, width: number): GridPlan {
  if (!(Number.isInteger(nx) && nx >= 1 && Number.isInteger(ny) && ny >= 1)) {
    throw new GridPlanError(`image matrix ${nx} x ${ny}: non-Cartesian reconstruction needs the reconstructed matrix size (reconSpace matrixSize) of the ISMRMRD header`)
  }
  const mx = oversampledLength(nx, oversampling)
  const my = oversampledLength(ny, oversampling)
  const kernel = kaiserBessel(width, Math.min(mx / nx, my / ny))
  const deapodisation = new Float64Array(nx * ny)
  const column = Float64Array.from({ length: nx }, (_, x) => kernelTransform(kernel, (x - Math.floor(nx / 2)) / mx))
  for (let y = 0; y < ny; y++) {
    const row = kernelTransform(kernel, (y - Math.floor(ny / 2)) / my)
    for (let x = 0; x < nx; x++) deapodisation[x + nx * y] = 1 / (column[x] * row)
  }
  return { image: [nx, ny], grid: [mx, my], kernel, deapodisation }
}

/**
 * The grid points a sample at `u` (grid cells) touches along one axis and the kernel's value at each:
 * W points from ceil(u − W/2), wrapped into [0, M).
 */
function footprint (kernel: KaiserBessel, u: number, m: number, index: Int32Array, weight: Float64Array): void {
  const w = kernel.width
  const table = kernel.table
  const last = table.length - 1
  const start = Math.ceil(u - w / 2)
  for (let t = 0; t < w; t++) {
    const i = start + t
    const x = Math.abs(i - u) * TABLE_PER_CELL
    const j = Math.floor(x)
    weight[t] = j >= last ? 0 : table[j] + (x - j) * (table[j + 1] - table[j])
    index[t] = ((i % m) + m) % m
  }
}

/**
 * Where each sample's kernel lands: per sample and axis the W grid indices it touches (wrapped) and the
 * kernel's value at each, computed once per trajectory and shared by the density iterations and the
 * gridding of every coil.
 */
export interface Footprints {
  count: number
  width: number
  /** count · W indices along x (index of point t of sample s at s · W + t); likewise y */
  ix: Int32Array
  iy: Int32Array
  /** the kernel's values at those points */
  wx: Float32Array
  wy: Float32Array
}

/** The footprints of samples at normalised (kx, ky): grid position u = floor(M/2) + M·k. */
export function footprints (kx: Float32Array, ky: Float32Array, count: number, plan: GridPlan): Footprints {
  const [mx, my] = plan.grid
  const w = plan.kernel.width
  const cx = Math.floor(mx / 2)
  const cy = Math.floor(my / 2)
  const out: Footprints = {
    count, width: w, ix: new Int32Array(count * w), iy: new Int32Array(count * w), wx: new Float32Array(count * w), wy: new Float32Array(count * w)
  }
  const index = new Int32Array(w)
  const weight = new Float64Array(w)
  for (let s = 0; s < count; s++) {
    footprint(plan.kernel, cx + mx * kx[s], mx, index, weight)
    out.ix.set(index, s * w)
    out.wx.set(weight, s * w)
    footprint(plan.kernel, cy + my * ky[s], my, index, weight)
    out.iy.set(index, s * w)
    out.wy.set(weight, s * w)
  }
  return out
}

/**
 * Adds weight[s] · value of every coil of every sample, spread by the kernel, to plane `z` of `grid`, a
 * complex [Mx, My, planes, coils] array (coil-major, as the FFT takes it). `weights` null means 1.
 */
export function gridSamples (samples: SampleSet, f: Footprints, weights: Float32Array | null, plan: GridPlan, grid: Float32Array, z = 0, planes = 1): void {
  const [mx, my] = plan.grid
  const w = f.width
  const coils = samples.coils
  const plane = 2 * mx * my
  if (grid.length !== plane * planes * coils || z < 0 || z >= planes) throw new RangeError(`plane ${z} of a grid of ${grid.length} floats for ${mx} x ${my} x ${planes} x ${coils} coils`)
  if (f.count !== samples.count) throw new RangeError(`${f.count} footprints for ${samples.count} samples`)
  const { ix, iy, wx, wy } = f
  const data = samples.data
  for (let s = 0; s < samples.count; s++) {
    const scale = weights === null ? 1 : weights[s]
    if (scale === 0) continue
    const at0 = s * w
    for (let c = 0; c < coils; c++) {
      const re = scale * data[2 * (coils * s + c)]
      const im = scale * data[2 * (coils * s + c) + 1]
      const base = plane * (z + planes * c)
      for (let ty = 0; ty < w; ty++) {
        const vr = re * wy[at0 + ty]
        const vi = im * wy[at0 + ty]
        const row = base + 2 * mx * iy[at0 + ty]
        for (let tx = 0; tx < w; tx++) {
          const at = row + 2 * ix[at0 + tx]
          const k = wx[at0 + tx]
          grid[at] += vr * k
          grid[at + 1] += vi * k
        }
      }
    }
  }
}

/** Spreads real values (one per sample) onto a real grid of Mx · My (x fastest). */
export function gridReal (f: Footprints, values: Float64Array, plan: GridPlan, grid: Float64Array): void {
  const mx = plan.grid[0]
  const w = f.width
  const { ix, iy, wx, wy } = f
  for (let s = 0; s < f.count; s++) {
    const v = values[s]
    const at0 = s * w
    for (let ty = 0; ty < w; ty++) {
      const row = mx * iy[at0 + ty]
      const vy = v * wy[at0 + ty]
      for (let tx = 0; tx < w; tx++) grid[row + ix[at0 + tx]] += vy * wx[at0 + tx]
    }
  }
}

/** The kernel-weighted sum of a real grid around each sample: the transpose of gridReal. */
export function interpolateReal (f: Footprints, grid: Float64Array, plan: GridPlan, out: Float64Array): void {
  const mx = plan.grid[0]
  const w = f.width
  const { ix, iy, wx, wy } = f
  for (let s = 0; s < f.count; s++) {
    const at0 = s * w
    let sum = 0
    for (let ty = 0; ty < w; ty++) {
      const row = mx * iy[at0 + ty]
      let line = 0
      for (let tx = 0; tx < w; tx++) line += grid[row + ix[at0 + tx]] * wx[at0 + tx]
      sum += line * wy[at0 + ty]
    }
    out[s] = sum
  }
}
