// Regularised complex least squares through the normal equations: (G + μI) W = B with G = AᴴA
// Hermitian positive semi-definite, solved by a Cholesky factorisation G + μI = L Lᴴ. Matrices are
// Float64Array, re/im interleaved, row-major (element (i, j) of an n × m matrix at 2 (i m + j)).
// float64 throughout: the Gram matrix squares the condition number of A, which float32 would not hold.

/** The matrix is not positive definite even after regularisation (a NaN, or μ of 0 on a singular G). */
export class NotPositiveDefiniteError extends Error {
  override name = 'NotPositiveDefiniteError'
}

/** Sum of the real diagonal of an n × n complex matrix (the sum of its eigenvalues when Hermitian). */
export function trace (g: Float64Array, n: number): number {
  let t = 0
  for (let i = 0; i < n; i++) t += g[2 * (i * n + i)]
  return t
}

/**
 * Factorises the Hermitian n × n matrix g + mu·I in place into its lower Cholesky factor L (the upper
 * triangle is left as it was and never read again). Only the lower triangle of g is read.
 */
export function choleskyInPlace (g: Float64Array, n: number, mu = 0): void {
  for (let j = 0; j < n; j++) {
    const jj = 2 * (j * n + j)
    let d = g[jj] + mu
    for (let k = 0; k < j; k++) {
      const re = g[2 * (j * n + k)]
      const im = g[2 * (j * n + k) + 1]
      d -= re * re + im * im
    }
    if (!(d > 0)) throw new NotPositiveDefiniteError(`pivot ${j} of ${n} is ${d}: the matrix is not positive definite`)
    const ljj = Math.sqrt(d)
    g[jj] = ljj
    g[jj + 1] = 0
    for (let i = j + 1; i < n; i++) {
      // L[i][j] = (g[i][j] - Σ_k L[i][k] conj(L[j][k])) / L[j][j]
      let re = g[2 * (i * n + j)]
      let im = g[2 * (i * n + j) + 1]
      const ri = 2 * i * n
      const rj = 2 * j * n
      for (let k = 0; k < j; k++) {
        const ar = g[ri + 2 * k]
        const ai = g[ri + 2 * k + 1]
        const br = g[rj + 2 * k]
        const bi = g[rj + 2 * k + 1]
        re -= ar * br + ai * bi
        im -= ai * br - ar * bi
      }
      g[2 * (i * n + j)] = re / ljj
      g[2 * (i * n + j) + 1] = im / ljj
    }
  }
}

/**
 * Solves L Lᴴ X = B in place for the m right-hand sides of the n × m matrix b, with L from
 * choleskyInPlace.
 */
export function choleskySolveInPlace (l: Float64Array, n: number, b: Float64Array, m: number): void {
  // forward: L Y = B
  for (let i = 0; i < n; i++) {
    const lii = l[2 * (i * n + i)]
    for (let c = 0; c < m; c++) {
      let re = b[2 * (i * m + c)]
      let im = b[2 * (i * m + c) + 1]
      for (let k = 0; k < i; k++) {
        const lr = l[2 * (i * n + k)]
        const li = l[2 * (i * n + k) + 1]
        const yr = b[2 * (k * m + c)]
        const yi = b[2 * (k * m + c) + 1]
        re -= lr * yr - li * yi
        im -= lr * yi + li * yr
      }
      b[2 * (i * m + c)] = re / lii
      b[2 * (i * m + c) + 1] = im / lii
    }
  }
  // backward: Lᴴ X = Y, (Lᴴ)[i][k] = conj(L[k][i])
  for (let i = n - 1; i >= 0; i--) {
    const lii = l[2 * (i * n + i)]
    for (let c = 0; c < m; c++) {
      let re = b[2 * (i * m + c)]
      let im = b[2 * (i * m + c) + 1]
      for (let k = i + 1; k < n; k++) {
        const lr = l[2 * (k * n + i)]
        const li = -l[2 * (k * n + i) + 1]
        const xr = b[2 * (k * m + c)]
        const xi = b[2 * (k * m + c) + 1]
        re -= lr * xr - li * xi
        im -= lr * xi + li * xr
      }
      b[2 * (i * m + c)] = re / lii
      b[2 * (i * m + c) + 1] = im / lii
    }
  }
}

/**
 * W = (G + λ·tr(G)/n·I)⁻¹ B: Tikhonov-regularised normal equations, λ relative to the mean eigenvalue
 * of G so that it does not depend on the data's scale. g (n × n, lower triangle read) is overwritten
 * by its factor, b (n × m) by the solution.
 */
export function solveRegularisedNormalEquations (g: Float64Array, n: number, b: Float64Array, m: number, lambda: number): void {
  const t = trace(g, n)
  // all-zero calibration data: G = 0, nothing to learn; the zero solution is the honest one
  const mu = t > 0 ? lambda * t / n : 1
  choleskyInPlace(g, n, mu)
  choleskySolveInPlace(g, n, b, m)
}
