// GRAPPA kernels: a missing k-space point of every coil is a linear combination of the acquired points
// around it, of all coils: `sources` lines along PHS1 × `readout` neighbouring points along READ ×
// coils. The weights are learned on the fully sampled calibration block, where both the sources and
// the targets are known, by Tikhonov-regularised least squares (normal equations, Cholesky, float64),
// and are the same at every READ position (shift invariance of the coil sensitivities' convolution
// in k-space) and in every partition the caller trains them on (the stage trains 3-D buffers
// partition by partition in hybrid space). Memory is bounded: the training matrix is built and folded
// into the Gram matrix a chunk of rows at a time.
import { solveRegularisedNormalEquations } from '../linalg/complex-cholesky.ts'
import type { ComplexArray } from './complex-array.ts'

/** Missing lines that share one kernel: the same source lines relative to them. */
export interface KernelGroup {
  /** Source lines relative to the lowest one (sources[0] = 0), ascending. */
  sources: number[]
  /** Target lines relative to the lowest source. */
  targets: number[]
  /** Lines to fill: the absolute line of the lowest source, and the index of the target. */
  fills: Array<{ base: number, target: number }>
}

export interface KernelOptions {
  /** Points along READ, odd. */
  readout: number
  /** Tikhonov λ relative to the mean eigenvalue of the Gram matrix. */
  lambda: number
  /** Training rows at most (partitions nearest the centre first). */
  maxSamples: number
}

/** The lowest and highest line of a group's window, relative to its lowest source. */
export function windowOf (group: Pick<KernelGroup, 'sources' | 'targets'>): { low: number, high: number } {
  return {
    low: Math.min(0, ...group.targets),
    high: Math.max(group.sources[group.sources.length - 1], ...group.targets)
  }
}

/** Values of the lowest source line at which the whole window lies in the calibration block. */
export function trainingBases (group: Pick<KernelGroup, 'sources' | 'targets'>, calibration: { start: number, count: number }): { first: number, count: number } {
  const { low, high } = windowOf(group)
  return { first: calibration.start - low, count: Math.max(0, calibration.count - (high - low)) }
}

/** Rows of training data per calibration window position: READ positions × partitions. */
export function rowsPerBase (nx: number, readout: number, partitions: number): number {
  return Math.max(0, nx - (readout - 1)) * partitions
}

const CHUNK = 512

/**
 * Weights W (n × m, n = sources × readout × coils in the order (source, readout offset, coil), m =
 * targets × coils) such that target = Σ source_i W[i, ·], fitted on the calibration block.
 */
export function fitKernel (array: ComplexArray, group: KernelGroup, calibration: { start: number, count: number }, partitions: readonly number[], options: KernelOptions): Float64Array {
  const [nx, ny, nz, coils] = array.dims
  const data = array.data
  const kx = options.readout
  const half = (kx - 1) >> 1
  const S = group.sources.length
  const T = group.targets.length
  const n = S * kx * coils
  const m = T * coils
  const bases = trainingBases(group, calibration)
  const perPartition = bases.count * Math.max(0, nx - 2 * half)
  // partitions nearest the centre carry the most signal: train on those first
  const centre = Math.floor(nz / 2)
  const ordered = [...partitions].sort((a, b) => Math.abs(a - centre) - Math.abs(b - centre))
  const used = ordered.slice(0, Math.max(1, Math.ceil(options.maxSamples / Math.max(1, perPartition))))

  const g = new Float64Array(2 * n * n)
  const b = new Float64Array(2 * n * m)
  // column-major chunk: column i holds source i of each row, so that Gram entries are dot products of
  // contiguous columns
  const vr = new Float64Array(n * CHUNK)
  const vi = new Float64Array(n * CHUNK)
  const tr = new Float64Array(m * CHUNK)
  const ti = new Float64Array(m * CHUNK)
  let rows = 0

  const fold = (): void => {
    for (let i = 0; i < n; i++) {
      const ci = i * CHUNK
      for (let j = 0; j <= i; j++) {
        const cj = j * CHUNK
        let re = 0
        let im = 0
        for (let r = 0; r < rows; r++) {
          const ar = vr[ci + r]
          const ai = vi[ci + r]
          const br = vr[cj + r]
          const bi = vi[cj + r]
          // conj(v_i) v_j summed over rows: entry (i, j) of Vᴴ V
          re += ar * br + ai * bi
          im += ar * bi - ai * br
        }
        g[2 * (i * n + j)] += re
        g[2 * (i * n + j) + 1] += im
      }
      for (let c = 0; c < m; c++) {
        const cc = c * CHUNK
        let re = 0
        let im = 0
        for (let r = 0; r < rows; r++) {
          const ar = vr[ci + r]
          const ai = vi[ci + r]
          const br = tr[cc + r]
          const bi = ti[cc + r]
          re += ar * br + ai * bi
          im += ar * bi - ai * br
        }
        b[2 * (i * m + c)] += re
        b[2 * (i * m + c) + 1] += im
      }
    }
    rows = 0
  }

  for (const z of used) {
    for (let base = bases.first; base < bases.first + bases.count; base++) {
      for (let x = half; x < nx - half; x++) {
        let i = 0
        for (const s of group.sources) {
          for (let dx = -half; dx <= half; dx++) {
            for (let c = 0; c < coils; c++) {
              const at = 2 * (x + dx + nx * (base + s + ny * (z + nz * c)))
              vr[i * CHUNK + rows] = data[at]
              vi[i * CHUNK + rows] = data[at + 1]
              i++
            }
          }
        }
        let k = 0
        for (const t of group.targets) {
          for (let c = 0; c < coils; c++) {
            const at = 2 * (x + nx * (base + t + ny * (z + nz * c)))
            tr[k * CHUNK + rows] = data[at]
            ti[k * CHUNK + rows] = data[at + 1]
            k++
          }
        }
        rows++
        if (rows === CHUNK) fold()
      }
    }
  }
  if (rows > 0) fold()
  solveRegularisedNormalEquations(g, n, b, m, options.lambda)
  return b
}

/** Writes the kernel's estimate into every line of group.fills, in every partition of `partitions`. */
export function applyKernel (array: ComplexArray, group: KernelGroup, weights: Float64Array, partitions: readonly number[], readout: number): void {
  const [nx, ny, nz, coils] = array.dims
  const data = array.data
  const half = (readout - 1) >> 1
  const S = group.sources.length
  const n = S * readout * coils
  const m = group.targets.length * coils
  const v = new Float64Array(2 * n)
  const rowOf = new Int32Array(S * coils)
  for (const fill of group.fills) {
    const y = fill.base + group.targets[fill.target]
    const column = fill.target * coils
    for (const z of partitions) {
      for (let s = 0; s < S; s++) {
        for (let c = 0; c < coils; c++) rowOf[s * coils + c] = 2 * nx * (fill.base + group.sources[s] + ny * (z + nz * c))
      }
      for (let x = 0; x < nx; x++) {
        let i = 0
        for (let s = 0; s < S; s++) {
          for (let dx = -half; dx <= half; dx++) {
            const xx = x + dx
            const inside = xx >= 0 && xx < nx
            for (let c = 0; c < coils; c++) {
              // beyond the readout's ends k-space is taken as zero
              const at = rowOf[s * coils + c] + 2 * xx
              v[2 * i] = inside ? data[at] : 0
              v[2 * i + 1] = inside ? data[at + 1] : 0
              i++
            }
          }
        }
        for (let d = 0; d < coils; d++) {
          let re = 0
          let im = 0
          for (let j = 0; j < n; j++) {
            const wr = weights[2 * (j * m + column + d)]
            const wi = weights[2 * (j * m + column + d) + 1]
            const sr = v[2 * j]
            const si = v[2 * j + 1]
            re += sr * wr - si * wi
            im += sr * wi + si * wr
          }
          const at = 2 * (x + nx * (y + ny * (z + nz * d)))
          data[at] = re
          data[at + 1] = im
        }
      }
    }
  }
}
