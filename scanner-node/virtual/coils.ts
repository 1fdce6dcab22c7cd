// Receive coils whose sensitivities are short sums of plane waves, so that the k-space each coil sees
// stays analytic (Guerquin-Kern et al., IEEE TMI 31:626, 2012; BART's `phantom -s` does the same with
// 5×5 tabulated coefficients):
//   s_c(r) = Σ_j w_cj · exp(+i2π f_j·r)   ⇒   S_c(k) = FT{s_c·ρ}(k) = Σ_j w_cj · S(k − f_j).
// The maps are those of a birdcage (ISMRMRD's utilities/ismrmrd_phantom.cpp, after Fessler's
// mri_birdcage.m): coil c at radius R_coil and angle 2πc/N, magnitude 1/distance, phase the angle around
// the coil minus the coil's own angle. Divided by their root-sum-of-squares, they are fitted by least
// squares with plane waves of period 4·R (R the radius of the object), as BART's period is twice its
// field of view. So the rss of the fitted sensitivities is close to 1 inside the object, and the rss
// image of the coil images is the object itself.
//
// Sensitivities do not vary along z: a birdcage is long compared to a head.

/** Thrown for a coil count or geometry the model cannot represent. */
export class InvalidCoilsError extends Error {
  constructor (message: string) {
    super(message)
    this.name = 'InvalidCoilsError'
  }
}

/** N coils as plane-wave sums over a shared set of spatial frequencies. */
export interface CoilArray {
  count: number
  /** spatial frequencies f_j, cycles per metre, [fx, fy, fz] per component */
  frequencies: Array<[number, number, number]>
  /** weights w_cj, coil-major: weights[c][2j] + i·weights[c][2j + 1] */
  weights: Float64Array[]
}

export interface BirdcageOptions {
  count: number
  /** radius of the object the sensitivities must fit, metres */
  objectRadiusM: number
  /** coil radius over object radius; ISMRMRD's generator uses 1.5; default 1.5 */
  coilRadiusRatio?: number
  /** highest harmonic per axis: (2H + 1)² plane waves; default 2 (25, as BART) */
  harmonics?: number
}

/** One coil of uniform sensitivity 1: what a body coil receiving alone looks like. */
export function uniformCoil (): CoilArray {
  return { count: 1, frequencies: [[0, 0, 0]], weights: [Float64Array.of(1, 0)] }
}

/** Birdcage coils fitted as plane-wave sums (see the header of this file). One coil is uniform. */
export function birdcageCoils (options: BirdcageOptions): CoilArray {
  const { count, objectRadiusM } = options
  if (!Number.isInteger(count) || count < 1 || count > 1024) throw new InvalidCoilsError(`coil count ${count}: needs an integer from 1 to 1024`)
  if (!(objectRadiusM > 0)) throw new InvalidCoilsError(`object radius ${objectRadiusM} m`)
  if (count === 1) return uniformCoil()
  const ratio = options.coilRadiusRatio ?? 1.5
  if (!(ratio > 1)) throw new InvalidCoilsError(`coils must lie outside the object: radius ratio ${ratio}`)
  const h = options.harmonics ?? 2
  const period = 4 * objectRadiusM
  const frequencies: Array<[number, number, number]> = []
  for (let q = -h; q <= h; q++) for (let p = -h; p <= h; p++) frequencies.push([p / period, q / period, 0])

  // Fit points: a grid over the disc of radius R (slightly beyond it, so edges of the object fit too).
  const grid = 33
  const reach = 1.05 * objectRadiusM
  const points: Array<[number, number]> = []
  for (let j = 0; j < grid; j++) {
    for (let i = 0; i < grid; i++) {
      const x = reach * (2 * i / (grid - 1) - 1)
      const y = reach * (2 * j / (grid - 1) - 1)
      if (x * x + y * y <= reach * reach) points.push([x, y])
    }
  }
  const targets = points.map(([x, y]) => normalisedBirdcage(x, y, count, ratio * objectRadiusM))
  const basis = points.map(([x, y]) => frequencies.map(([fx, fy]) => {
    const phi = 2 * Math.PI * (fx * x + fy * y)
    return [Math.cos(phi), Math.sin(phi)] as [number, number]
  }))
  const weights = complexLeastSquares(basis, targets)
  return { count, frequencies, weights }
}

/** Birdcage maps at (x, y) divided by their rss: unit rss everywhere, the shape of each coil kept. */
function normalisedBirdcage (x: number, y: number, count: number, coilRadiusM: number): Array<[number, number]> {
  const maps: Array<[number, number]> = []
  let sum = 0
  for (let c = 0; c < count; c++) {
    const angle = (2 * Math.PI * c) / count
    const dx = x - coilRadiusM * Math.cos(angle)
    const dy = y - coilRadiusM * Math.sin(angle)
    const magnitude = 1 / Math.hypot(dx, dy)
    const phase = Math.atan2(dx, -dy) - angle
    maps.push([magnitude * Math.cos(phase), magnitude * Math.sin(phase)])
    sum += magnitude * magnitude
  }
  const rss = Math.sqrt(sum)
  return maps.map(([re, im]) => [re / rss, im / rss])
}

/**
 * Least-squares weights minimising Σ_p |Σ_j A[p][j]·w_cj − B[p][c]|² for every column c at once, through
 * the normal equations (AᴴA)w_c = Aᴴb_c solved by Gauss-Jordan elimination with partial pivoting. AᴴA is
 * at most 49×49 here and well conditioned (plane waves whose period is twice the fitted region are nearly
 * orthogonal on it).
 */
function complexLeastSquares (a: Array<Array<[number, number]>>, b: Array<Array<[number, number]>>): Float64Array[] {
  const n = a[0].length
  const k = b[0].length
  const width = n + k
  // Augmented matrix [AᴴA | AᴴB], complex entries as re/im pairs.
  const m: Float64Array[] = Array.from({ length: n }, () => new Float64Array(2 * width))
  for (let p = 0; p < a.length; p++) {
    const row = a[p]
    const rhs = b[p]
    for (let i = 0; i < n; i++) {
      const [ar, ai] = row[i] // conj(A[p][i]) = ar − i·ai
      const mi = m[i]
      for (let j = 0; j < n; j++) {
        const [br, bi] = row[j]
        mi[2 * j] += ar * br + ai * bi
        mi[2 * j + 1] += ar * bi - ai * br
      }
      for (let c = 0; c < k; c++) {
        const [tr, ti] = rhs[c]
        mi[2 * (n + c)] += ar * tr + ai * ti
        mi[2 * (n + c) + 1] += ar * ti - ai * tr
      }
    }
  }
  for (let col = 0; col < n; col++) {
    let pivot = col
    for (let r = col + 1; r < n; r++) if (Math.hypot(m[r][2 * col], m[r][2 * col + 1]) > Math.hypot(m[pivot][2 * col], m[pivot][2 * col + 1])) pivot = r
    ;[m[col], m[pivot]] = [m[pivot], m[col]]
    const pr = m[col][2 * col]
    const pi = m[col][2 * col + 1]
    const d = pr * pr + pi * pi
    if (d === 0) throw new InvalidCoilsError('coil fit is singular')
    for (let r = 0; r < n; r++) {
      if (r === col) continue
      // factor = m[r][col] / m[col][col]
      const xr = m[r][2 * col]
      const xi = m[r][2 * col + 1]
      const fr = (xr * pr + xi * pi) / d
      const fi = (xi * pr - xr * pi) / d
      if (fr === 0 && fi === 0) continue
      const target = m[r]
      const source = m[col]
      for (let j = col; j < width; j++) {
        const yr = source[2 * j]
        const yi = source[2 * j + 1]
        target[2 * j] -= fr * yr - fi * yi
        target[2 * j + 1] -= fr * yi + fi * yr
      }
    }
  }
  const weights: Float64Array[] = []
  for (let c = 0; c < k; c++) {
    const w = new Float64Array(2 * n)
    for (let i = 0; i < n; i++) {
      const pr = m[i][2 * i]
      const pi = m[i][2 * i + 1]
      const d = pr * pr + pi * pi
      const xr = m[i][2 * (n + c)]
      const xi = m[i][2 * (n + c) + 1]
      w[2 * i] = (xr * pr + xi * pi) / d
      w[2 * i + 1] = (xi * pr - xr * pi) / d
    }
    weights.push(w)
  }
  return weights
}

/** Sensitivity of coil c at a point (metres): Σ_j w_cj·exp(+i2π f_j·r). */
export function sensitivityAt (coils: CoilArray, c: number, x: number, y: number, z = 0): [number, number] {
  const w = coils.weights[c]
  let re = 0
  let im = 0
  for (let j = 0; j < coils.frequencies.length; j++) {
    const [fx, fy, fz] = coils.frequencies[j]
    const phi = 2 * Math.PI * (fx * x + fy * y + fz * z)
    const cr = Math.cos(phi)
    const ci = Math.sin(phi)
    re += w[2 * j] * cr - w[2 * j + 1] * ci
    im += w[2 * j] * ci + w[2 * j + 1] * cr
  }
  return [re, im]
}
