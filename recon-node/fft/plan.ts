// One-dimensional forward DFTs of any length, in double precision, with their tables computed once
// per length and per thread: fft.js (radix-4) for powers of two, Bluestein's chirp-z algorithm for
// every other length. Bluestein computes the exact length-n DFT (a convolution evaluated with a
// power-of-two FFT of length m >= 2n - 1), unlike zero-padding the data, which would change the result.
//
// A plan only transforms forwards, unnormalised: X[k] = sum_j x[j] exp(-2 pi i j k / n). Inverse
// transforms conjugate on the way in and out (ifft(x) = conj(fft(conj(x)))), which the n-d code
// folds into its gather and scatter loops for free.
import FFT from 'fft.js'

/** A forward, unnormalised DFT of one length, on interleaved re/im double arrays of 2n values. */
export interface FftPlan {
  readonly n: number
  /** Writes the DFT of `input` into `output` (two distinct arrays); `input` is left unchanged. */
  forward: (input: Float64Array, output: Float64Array) => void
}

/** Thrown for a length that is not a positive safe integer. */
export class FftSizeError extends Error {
  override name = 'FftSizeError'
}

export function isPowerOfTwo (n: number): boolean {
  return n > 0 && (n & (n - 1)) === 0
}

/** The smallest power of two >= n. */
export function nextPowerOfTwo (n: number): number {
  let m = 1
  while (m < n) m *= 2
  return m
}

class IdentityPlan implements FftPlan {
  readonly n = 1
  forward (input: Float64Array, output: Float64Array): void {
    output[0] = input[0]
    output[1] = input[1]
  }
}

class RadixFourPlan implements FftPlan {
  private readonly fft: FFT
  constructor (readonly n: number) {
    this.fft = new FFT(n)
  }

  forward (input: Float64Array, output: Float64Array): void {
    this.fft.transform(output, input)
  }
}

// X[k] = w[k] * sum_j (x[j] w[j]) conj(w[k - j]) with w[j] = exp(-i pi j^2 / n), because
// jk = (j^2 + k^2 - (k - j)^2) / 2. The sum is a linear convolution of length 2n - 1, done as a
// circular one of the power-of-two length m.
class BluesteinPlan implements FftPlan {
  private readonly m: number
  private readonly inner: FFT
  /** w[j], interleaved. */
  private readonly chirp: Float64Array
  /** FFT_m of the circularly wrapped conj(w), times 1/m so that the inverse needs no scaling. */
  private readonly kernel: Float64Array
  private readonly padded: Float64Array
  private readonly spectrum: Float64Array
  private readonly convolved: Float64Array

  constructor (readonly n: number) {
    const m = nextPowerOfTwo(2 * n - 1)
    this.m = m
    this.inner = new FFT(m)
    const chirp = new Float64Array(2 * n)
    const period = 2 * n
    for (let j = 0; j < n; j++) {
      // j^2 mod 2n keeps the angle small, so cos and sin stay exact to double precision for large j.
      const angle = Math.PI * ((j * j) % period) / n
      chirp[2 * j] = Math.cos(angle)
      chirp[2 * j + 1] = -Math.sin(angle)
    }
    this.chirp = chirp
    const wrapped = new Float64Array(2 * m)
    for (let j = 0; j < n; j++) {
      const re = chirp[2 * j]
      const im = -chirp[2 * j + 1]
      wrapped[2 * j] = re
      wrapped[2 * j + 1] = im
      if (j > 0) {
        wrapped[2 * (m - j)] = re
        wrapped[2 * (m - j) + 1] = im
      }
    }
    const kernel = new Float64Array(2 * m)
    this.inner.transform(kernel, wrapped)
    for (let i = 0; i < 2 * m; i++) kernel[i] /= m
    this.kernel = kernel
    this.padded = new Float64Array(2 * m)
    this.spectrum = new Float64Array(2 * m)
    this.convolved = new Float64Array(2 * m)
  }

  forward (input: Float64Array, output: Float64Array): void {
    const { n, m, chirp, kernel, padded, spectrum, convolved } = this
    for (let j = 0; j < 2 * n; j += 2) {
      const xr = input[j]
      const xi = input[j + 1]
      const wr = chirp[j]
      const wi = chirp[j + 1]
      padded[j] = xr * wr - xi * wi
      padded[j + 1] = xr * wi + xi * wr
    }
    // padded[2n..2m) stays zero: nothing else writes there.
    this.inner.transform(spectrum, padded)
    // Multiply by the kernel and conjugate: the next forward FFT then computes the conjugate of the
    // inverse FFT, which the last loop conjugates back.
    for (let k = 0; k < 2 * m; k += 2) {
      const ar = spectrum[k]
      const ai = spectrum[k + 1]
      const br = kernel[k]
      const bi = kernel[k + 1]
      spectrum[k] = ar * br - ai * bi
      spectrum[k + 1] = -(ar * bi + ai * br)
    }
    this.inner.transform(convolved, spectrum)
    for (let k = 0; k < 2 * n; k += 2) {
      const cr = convolved[k]
      const ci = -convolved[k + 1]
      const wr = chirp[k]
      const wi = chirp[k + 1]
      output[k] = cr * wr - ci * wi
      output[k + 1] = cr * wi + ci * wr
    }
  }
}

const plans = new Map<number, FftPlan>()

/** The plan for length n, made on first use and kept for the life of the thread. */
export function getPlan (n: number): FftPlan {
  let plan = plans.get(n)
  if (plan !== undefined) return plan
  if (!Number.isSafeInteger(n) || n < 1) throw new FftSizeError(`FFT length must be a positive integer, got ${n}`)
  if (n === 1) plan = new IdentityPlan()
  else if (isPowerOfTwo(n)) plan = new RadixFourPlan(n)
  else plan = new BluesteinPlan(n)
  plans.set(n, plan)
  return plan
}
