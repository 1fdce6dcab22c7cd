import { describe, expect, it } from 'vitest'
import { seededRandom } from '../fft/test-support.ts'
import { choleskyInPlace, choleskySolveInPlace, NotPositiveDefiniteError, solveRegularisedNormalEquations } from './complex-cholesky.ts'

/** A (rows × n) random complex matrix, row-major interleaved. */
function random (rows: number, cols: number, seed: number): Float64Array {
  const r = seededRandom(seed)
  return Float64Array.from({ length: 2 * rows * cols }, () => 2 * r() - 1)
}

/** AᴴA (n × n) and Aᴴb (n × m). */
function normal (a: Float64Array, rows: number, n: number, b: Float64Array, m: number): { g: Float64Array, h: Float64Array } {
  const g = new Float64Array(2 * n * n)
  const h = new Float64Array(2 * n * m)
  for (let r = 0; r < rows; r++) {
    for (let i = 0; i < n; i++) {
      const ar = a[2 * (r * n + i)]
      const ai = a[2 * (r * n + i) + 1]
      for (let j = 0; j < n; j++) {
        const br = a[2 * (r * n + j)]
        const bi = a[2 * (r * n + j) + 1]
        g[2 * (i * n + j)] += ar * br + ai * bi
        g[2 * (i * n + j) + 1] += ar * bi - ai * br
      }
      for (let c = 0; c < m; c++) {
        const br = b[2 * (r * m + c)]
        const bi = b[2 * (r * m + c) + 1]
        h[2 * (i * m + c)] += ar * br + ai * bi
        h[2 * (i * m + c) + 1] += ar * bi - ai * br
      }
    }
  }
  return { g, h }
}

function multiply (a: Float64Array, rows: number, n: number, x: Float64Array, m: number): Float64Array {
  const out = new Float64Array(2 * rows * m)
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < m; c++) {
      let re = 0
      let im = 0
      for (let k = 0; k < n; k++) {
        const ar = a[2 * (r * n + k)]
        const ai = a[2 * (r * n + k) + 1]
        const xr = x[2 * (k * m + c)]
        const xi = x[2 * (k * m + c) + 1]
        re += ar * xr - ai * xi
        im += ar * xi + ai * xr
      }
      out[2 * (r * m + c)] = re
      out[2 * (r * m + c) + 1] = im
    }
  }
  return out
}

describe('complex Cholesky least squares', () => {
  it('recovers the exact solution of a consistent overdetermined system (λ = 0)', () => {
    const rows = 60
    const n = 12
    const m = 3
    const a = random(rows, n, 1)
    const x = random(n, m, 2)
    const b = multiply(a, rows, n, x, m)
    const { g, h } = normal(a, rows, n, b, m)
    solveRegularisedNormalEquations(g, n, h, m, 0)
    for (let i = 0; i < x.length; i++) expect(h[i]).toBeCloseTo(x[i], 9)
  })

  it('shrinks the solution as λ grows (Tikhonov)', () => {
    const rows = 40
    const n = 8
    const a = random(rows, n, 3)
    const b = random(rows, 1, 4)
    const norms = [0, 0.01, 1].map((lambda) => {
      const { g, h } = normal(a, rows, n, b, 1)
      solveRegularisedNormalEquations(g, n, h, 1, lambda)
      return Math.hypot(...h)
    })
    expect(norms[1]).toBeLessThan(norms[0])
    expect(norms[2]).toBeLessThan(norms[1])
  })

  it('solves L Lᴴ x = b with the factor it computes', () => {
    const n = 6
    const a = random(20, n, 5)
    const { g } = normal(a, 20, n, new Float64Array(40), 1)
    const original = g.slice()
    const x = random(n, 2, 6)
    // b = G x
    const b = new Float64Array(2 * n * 2)
    for (let i = 0; i < n; i++) {
      for (let c = 0; c < 2; c++) {
        for (let k = 0; k < n; k++) {
          const gr = original[2 * (i * n + k)]
          const gi = original[2 * (i * n + k) + 1]
          b[2 * (i * 2 + c)] += gr * x[2 * (k * 2 + c)] - gi * x[2 * (k * 2 + c) + 1]
          b[2 * (i * 2 + c) + 1] += gr * x[2 * (k * 2 + c) + 1] + gi * x[2 * (k * 2 + c)]
        }
      }
    }
    choleskyInPlace(g, n)
    choleskySolveInPlace(g, n, b, 2)
    for (let i = 0; i < x.length; i++) expect(b[i]).toBeCloseTo(x[i], 9)
  })

  it('refuses a matrix that is not positive definite', () => {
    const g = new Float64Array([1, 0, 2, 0, 2, 0, 1, 0])
    expect(() => { choleskyInPlace(g, 2) }).toThrow(NotPositiveDefiniteError)
  })
})
