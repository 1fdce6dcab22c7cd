// The Kaiser–Bessel gridding kernel (Jackson et al., IEEE TMI 1991; Beatty et al., IEEE TMI 2005):
// c(u) = I0(β·sqrt(1 − (2u/W)²)) / I0(β) for |u| ≤ W/2 (u in grid cells of the oversampled grid), zero
// beyond. Its Fourier transform is known in closed form, which is what deapodisation divides by:
//   ĉ(ν) = ∫ c(u) e^(−i2πνu) du = W · sinh(z)/z / I0(β),  z = sqrt(β² − (πWν)²)
// (sin(|z|)/|z| where the root is imaginary), ν in cycles per grid cell.
//
// Beatty's β for oversampling σ and width W minimises the aliasing error of the gridding:
//   β = π · sqrt((W/σ)² (σ − 1/2)² − 0.8).
// The kernel is read from a table of `TABLE_PER_CELL` values per grid cell, linearly interpolated: its
// error (below 1e-6 of the peak) is far under the kernel's own aliasing error (about 1e-3 at W = 4, σ = 2).

/** Values of the kernel table per grid cell of distance. */
export const TABLE_PER_CELL = 1024

/** Thrown for a kernel that cannot be built (width or oversampling out of range). */
export class KernelParameterError extends Error {
  override name = 'KernelParameterError'
}

/** Modified Bessel function of the first kind, order 0 (power series; converges for every x, ample for x < 50). */
export function besselI0 (x: number): number {
  const q = (x * x) / 4
  let term = 1
  let sum = 1
  for (let k = 1; k < 500; k++) {
    term *= q / (k * k)
    sum += term
    if (term < sum * 1e-17) break
  }
  return sum
}

/** Beatty's β for kernel width W (grid cells) and oversampling σ. */
export function beattyBeta (width: number, oversampling: number): number {
  const r = (width / oversampling) ** 2 * (oversampling - 0.5) ** 2 - 0.8
  if (!(r > 0)) throw new KernelParameterError(`a Kaiser–Bessel kernel of width ${width} at oversampling ${oversampling} has no Beatty β: widen the kernel or oversample more`)
  return Math.PI * Math.sqrt(r)
}

export interface KaiserBessel {
  /** Width W in cells of the oversampled grid: each sample touches W points per axis. */
  width: number
  beta: number
  /** c(d) at d = i / TABLE_PER_CELL, i = 0 .. W/2 · TABLE_PER_CELL, plus a trailing 0 for interpolation. */
  table: Float64Array
}

export function kaiserBessel (width: number, oversampling: number): KaiserBessel {
  if (!Number.isInteger(width) || width < 2) throw new KernelParameterError(`kernel width ${width}: an integer of at least 2 grid cells`)
  const beta = beattyBeta(width, oversampling)
  const half = width / 2
  const n = Math.round(half * TABLE_PER_CELL)
  const table = new Float64Array(n + 2)
  const norm = besselI0(beta)
  for (let i = 0; i <= n; i++) {
    const r = i / (n)
    table[i] = besselI0(beta * Math.sqrt(Math.max(0, 1 - r * r))) / norm
  }
  return { width, beta, table }
}

/** c(d) for a distance d ≥ 0 (cells), from the table. */
export function kernelValue (kernel: KaiserBessel, d: number): number {
  const x = d * TABLE_PER_CELL
  const i = Math.floor(x)
  if (i >= kernel.table.length - 1) return 0
  const f = x - i
  return kernel.table[i] + f * (kernel.table[i + 1] - kernel.table[i])
}

/** ĉ(ν), the kernel's Fourier transform at ν cycles per grid cell (real: the kernel is even). */
export function kernelTransform (kernel: KaiserBessel, nu: number): number {
  const { width, beta } = kernel
  const a = Math.PI * width * nu
  const s = beta * beta - a * a
  let ratio: number
  if (s > 1e-12) {
    const z = Math.sqrt(s)
    ratio = Math.sinh(z) / z
  } else if (s < -1e-12) {
    const z = Math.sqrt(-s)
    ratio = Math.sin(z) / z
  } else ratio = 1
  return width * ratio / besselI0(beta)
}
