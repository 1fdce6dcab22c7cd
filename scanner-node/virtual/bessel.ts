// Bessel function of the first kind, order 1, in double precision. The analytic k-space of an ellipse
// is J1(2πκ)/κ, evaluated millions of times per scan at arguments from 0 to a few hundred, so it must
// be accurate everywhere on that range and cheap for large arguments, where most samples fall.

/** Below this argument J1 comes from Miller's backward recurrence; at and above, from Hankel's expansion. */
const ASYMPTOTIC_FROM = 20

/**
 * Below this argument besselJ1 reads a table of Chebyshev pieces (one per unit interval, degree 12)
 * fitted at load time to the exact methods: a quarter of the time of the recurrence, and no less accurate
 * (the truncation error of such a piece is below (1/4)^13/13! ≈ 2e-18). Arguments below 40 are where
 * the small ellipses of a phantom put most of their samples.
 */
const TABLE_UNTIL = 40
const DEGREE = 12
const TABLE = buildTable()

/**
 * J1(x), absolute error below 1e-14 (Bessel's integral is the check in the tests) and relative error
 * about 1e-16 below 1, where the power series is used. From 1 to 40 it reads the table fitted to the
 * exact methods, which are:
 *
 * - |x| < 20: Miller's backward recurrence J(n−1) = (2n/x)·J(n) − J(n+1) from an order well above x,
 *   normalised with the identity J0 + 2·(J2 + J4 + …) = 1. It is stable where the power series loses
 *   digits to cancellation (the series' largest term grows like e^x/x).
 * - |x| ≥ 20: Hankel's asymptotic expansion J1 = √(2/(πx))·(P cos χ − Q sin χ), χ = x − 3π/4, summed
 *   until its terms stop shrinking; at x = 20 the smallest term is below 1e-16.
 * J1 is odd: J1(−x) = −J1(x).
 */
export function besselJ1 (x: number): number {
  if (x < 0) return -besselJ1(-x)
  if (x === 0) return 0
  if (!Number.isFinite(x)) return Number.isNaN(x) ? Number.NaN : 0
  if (x < 1) return smallJ1(x)
  if (x < TABLE_UNTIL) {
    const piece = Math.floor(x)
    const t = 2 * (x - piece) - 1
    const base = piece * (DEGREE + 1)
    // Clenshaw's recurrence for Σ c_j T_j(t).
    let b1 = 0
    let b2 = 0
    for (let j = DEGREE; j >= 1; j--) {
      const b0 = 2 * t * b1 - b2 + TABLE[base + j]
      b2 = b1
      b1 = b0
    }
    return t * b1 - b2 + TABLE[base]
  }
  return hankelJ1(x)
}

/** J1 by the exact methods alone (Miller below 20, Hankel above), which the table is fitted to. */
export function besselJ1Exact (x: number): number {
  if (x < 0) return -besselJ1Exact(-x)
  if (x === 0) return 0
  return x < ASYMPTOTIC_FROM ? millerJ1(x) : hankelJ1(x)
}

/**
 * The power series Σ (−1)^k (x/2)^(2k+1)/(k!(k+1)!) for x < 1, where its terms fall by more than 8× each
 * and it keeps full relative precision down to x → 0 (the table's error is absolute).
 */
function smallJ1 (x: number): number {
  const q = -(x * x) / 4
  let term = x / 2
  let sum = term
  for (let k = 1; k < 12; k++) {
    term *= q / (k * (k + 1))
    sum += term
    if (Math.abs(term) < 1e-17 * Math.abs(sum)) break
  }
  return sum
}

function buildTable (): Float64Array {
  const n = DEGREE + 1
  const table = new Float64Array(TABLE_UNTIL * n)
  const values = new Float64Array(n)
  for (let piece = 0; piece < TABLE_UNTIL; piece++) {
    for (let k = 0; k < n; k++) {
      const node = Math.cos((Math.PI * (k + 0.5)) / n)
      values[k] = besselJ1Exact(piece + (node + 1) / 2)
    }
    for (let j = 0; j < n; j++) {
      let sum = 0
      for (let k = 0; k < n; k++) sum += values[k] * Math.cos((Math.PI * j * (k + 0.5)) / n)
      table[piece * n + j] = ((j === 0 ? 1 : 2) / n) * sum
    }
  }
  return table
}

/** J1(x)/x, with its limit 1/2 at 0: the radial profile of a disc's Fourier transform. */
export function besselJ1OverX (x: number): number {
  const ax = Math.abs(x)
  if (ax < 1e-4) {
    // J1(x)/x = 1/2 − x²/16 + x⁴/384 − …; the next term is below 1e-18 here.
    const x2 = x * x
    return 0.5 - x2 / 16 + (x2 * x2) / 384
  }
  return besselJ1(ax) / ax
}

function millerJ1 (x: number): number {
  if (x < 1e-8) return x / 2
  // Start far enough above x that J(start) is negligible: J(n)(x) ≈ (x/2)^n/n! once n ≫ x, and from
  // n = x + 16 + 4√x on it is below 1e-17 for every x < 20 (checked against Bessel's integral in the tests).
  const start = 2 * Math.ceil((x + 16 + 4 * Math.sqrt(x)) / 2)
  let jNext = 0 // J(n+1)
  let j = 1e-30 // J(n), arbitrary scale
  let sumEven = 0 // J2 + J4 + … on the same scale
  let j1 = 0
  const twoOverX = 2 / x
  for (let n = start; n > 0; n--) {
    const jPrev = n * twoOverX * j - jNext // J(n−1)
    jNext = j
    j = jPrev
    // After the step, j = J(n−1) and jNext = J(n).
    if (n - 1 === 1) j1 = j
    if ((n - 1) % 2 === 0 && n - 1 > 0) sumEven += j
    // Rescale to stay within floating range; the ratio is all that matters.
    if (Math.abs(j) > 1e250) {
      j *= 1e-250
      jNext *= 1e-250
      sumEven *= 1e-250
      j1 *= 1e-250
    }
  }
  // j is now J0.
  return j1 / (j + 2 * sumEven)
}

function hankelJ1 (x: number): number {
  const mu = 4 // 4ν², ν = 1
  const eightX = 8 * x
  let p = 1
  let q = 0
  // term_k = Π_{j=1..k} (μ − (2j−1)²) / (j·8x); P takes the even k with alternating signs, Q the odd.
  let term = 1
  let previous = Number.POSITIVE_INFINITY
  for (let k = 1; k < 200; k++) {
    const odd = 2 * k - 1
    term *= (mu - odd * odd) / (k * eightX)
    const size = Math.abs(term)
    if (size >= previous) break
    previous = size
    const sign = (Math.floor(k / 2) % 2 === 0) ? 1 : -1
    if (k % 2 === 1) q += sign * term
    else p += sign * term
    if (size < 1e-17) break
  }
  const chi = x - 0.75 * Math.PI
  return Math.sqrt(2 / (Math.PI * x)) * (p * Math.cos(chi) - q * Math.sin(chi))
}
