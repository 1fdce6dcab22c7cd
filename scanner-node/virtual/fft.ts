// A small in-place radix-2 complex FFT for the calibration helpers (spectra of FIDs) and the tests of the
// virtual scanner. Reconstruction has its own stages; this one only needs to be correct and dependency-free.

/** Thrown when a transform length is not a power of two. */
export class FftLengthError extends Error {
  constructor (length: number) {
    super(`FFT length ${length} is not a power of two`)
    this.name = 'FftLengthError'
  }
}

/**
 * In-place DFT of n = re.length complex values: X[m] = Σ_k x[k]·exp(∓i2π km/n), with the minus sign
 * for `inverse` false. No scaling in either direction: the caller divides by n where it wants to.
 */
export function fft (re: Float64Array, im: Float64Array, inverse = false): void {
  const n = re.length
  if (n !== im.length || n === 0 || (n & (n - 1)) !== 0) throw new FftLengthError(n)
  for (let i = 1, j = 0; i < n; i++) {
    let bit = n >> 1
    for (; j & bit; bit >>= 1) j ^= bit
    j ^= bit
    if (i < j) {
      let t = re[i]; re[i] = re[j]; re[j] = t
      t = im[i]; im[i] = im[j]; im[j] = t
    }
  }
  const sign = inverse ? 1 : -1
  for (let size = 2; size <= n; size <<= 1) {
    const half = size >> 1
    const step = (sign * 2 * Math.PI) / size
    for (let k = 0; k < half; k++) {
      const wr = Math.cos(step * k)
      const wi = Math.sin(step * k)
      for (let start = k; start < n; start += size) {
        const j = start + half
        const tr = wr * re[j] - wi * im[j]
        const ti = wr * im[j] + wi * re[j]
        re[j] = re[start] - tr
        im[j] = im[start] - ti
        re[start] += tr
        im[start] += ti
      }
    }
  }
}

/**
 * Centred inverse DFT of one line, scaled by 1/n: the sample at index n/2 is k = 0 and the output pixel
 * at index n/2 is r = 0 (ifftshift, inverse FFT, fftshift). With k-space scaled as the simulator scales
 * it, this returns the weighted proton density of each pixel.
 */
export function centredInverseDft (re: Float64Array, im: Float64Array): void {
  const n = re.length
  // Shifting by n/2 before and after equals multiplying by (−1)^k before and (−1)^m after for even n.
  for (let k = 1; k < n; k += 2) { re[k] = -re[k]; im[k] = -im[k] }
  fft(re, im, true)
  const scale = 1 / n
  for (let m = 0; m < n; m++) {
    const s = (m & 1) === 1 ? -scale : scale
    re[m] *= s
    im[m] *= s
  }
  // The two shifts also leave a factor (−1)^(n/2); undo it for n/2 odd.
  if (((n >> 1) & 1) === 1) for (let m = 0; m < n; m++) { re[m] = -re[m]; im[m] = -im[m] }
}
