import { describe, expect, it } from 'vitest'
import { activeFlags, fft, fftc, fftn, fftStrided, FftShapeError, ifft, ifftc, ifftuc, fftuc } from './fftn.ts'
import { getPlan, FftSizeError, nextPowerOfTwo } from './plan.ts'
import { nrmse, randomComplex } from './test-support.ts'

/** The n-d DFT straight from its definition, in double precision (column-major, all axes in `flags`). */
function naiveDft (dims: number[], flags: number, x: Float32Array, inverse = false): Float64Array {
  const size = dims.reduce((a, b) => a * b, 1)
  const out = new Float64Array(2 * size)
  const sign = inverse ? 1 : -1
  const idx = (i: number): number[] => {
    const c: number[] = []
    for (const d of dims) { c.push(i % d); i = Math.floor(i / d) }
    return c
  }
  const coords = Array.from({ length: size }, (_, i) => idx(i))
  for (let k = 0; k < size; k++) {
    const kc = coords[k]
    let re = 0
    let im = 0
    for (let j = 0; j < size; j++) {
      const jc = coords[j]
      let phase = 0
      let match = true
      for (let a = 0; a < dims.length; a++) {
        if ((flags & (1 << a)) !== 0) phase += (jc[a] * kc[a]) / dims[a]
        else if (jc[a] !== kc[a]) { match = false; break }
      }
      if (!match) continue
      const angle = sign * 2 * Math.PI * (phase - Math.floor(phase))
      const c = Math.cos(angle)
      const s = Math.sin(angle)
      re += x[2 * j] * c - x[2 * j + 1] * s
      im += x[2 * j] * s + x[2 * j + 1] * c
    }
    out[2 * k] = re
    out[2 * k + 1] = im
  }
  return out
}

/** numpy's ifftshift/fftshift on one axis of a 1-D complex array. */
function roll (x: Float32Array, by: number): Float32Array {
  const n = x.length / 2
  const out = new Float32Array(x.length)
  for (let j = 0; j < n; j++) {
    const to = (((j + by) % n) + n) % n
    out[2 * to] = x[2 * j]
    out[2 * to + 1] = x[2 * j + 1]
  }
  return out
}

describe('1-D plans', () => {
  it('transforms every length 1..130 like the DFT definition (relative error < 1e-5)', () => {
    let worst = 0
    for (let n = 1; n <= 130; n++) {
      const x = randomComplex(n, n)
      const y = new Float32Array(2 * n)
      fft([n], 1, y, x)
      const err = nrmse(y, naiveDft([n], 1, x))
      worst = Math.max(worst, err)
      expect(err, `n = ${n}`).toBeLessThan(1e-5)
    }
    // double precision inside: the only error left is the float32 output
    expect(worst).toBeLessThan(3e-7)
  })

  it('keeps the Bluestein convolution exact for lengths whose chirp angle j^2 grows large', () => {
    for (const n of [1000, 4095, 10007]) {
      const x = randomComplex(n, 7)
      const y = new Float32Array(2 * n)
      fft([n], 1, y, x)
      // compare a few bins against the definition
      for (const k of [0, 1, n >> 1, n - 1]) {
        let re = 0
        let im = 0
        for (let j = 0; j < n; j++) {
          const a = -2 * Math.PI * ((j * k) % n) / n
          re += x[2 * j] * Math.cos(a) - x[2 * j + 1] * Math.sin(a)
          im += x[2 * j] * Math.sin(a) + x[2 * j + 1] * Math.cos(a)
        }
        const scale = Math.sqrt(n)
        expect(Math.abs(y[2 * k] - re) / scale).toBeLessThan(1e-5)
        expect(Math.abs(y[2 * k + 1] - im) / scale).toBeLessThan(1e-5)
      }
    }
  })

  it('caches one plan per length and refuses lengths that are not positive integers', () => {
    expect(getPlan(100)).toBe(getPlan(100))
    expect(() => getPlan(0)).toThrow(FftSizeError)
    expect(() => getPlan(2.5)).toThrow(FftSizeError)
    expect(nextPowerOfTwo(199)).toBe(256)
  })
})

describe('n-d FFT', () => {
  const shapes: Array<[number[], number]> = [
    [[5, 6, 7], 7],
    [[12, 10, 9], 7],
    [[4, 3, 5, 2], 1 | 4],
    [[7, 1, 6], 7],
    [[8, 8, 3], 2],
    [[3, 5, 2, 4], 1 | 2 | 8]
  ]
  it.each(shapes)('matches the DFT definition on %j along flags %i', (dims, flags) => {
    const size = dims.reduce((a, b) => a * b, 1)
    const x = randomComplex(size, size + flags)
    const y = new Float32Array(2 * size)
    fft(dims, flags, y, x)
    expect(nrmse(y, naiveDft(dims, flags, x))).toBeLessThan(1e-5)
    ifft(dims, flags, y, x)
    expect(nrmse(y, naiveDft(dims, flags, x, true))).toBeLessThan(1e-5)
  })

  it('inverts: ifft(fft(x)) = N x, ifftc(fftc(x)) = N x, ifftuc(fftuc(x)) = x', () => {
    for (const dims of [[100, 100, 10], [64, 48, 1, 3], [17, 1, 31], [2, 2, 2]]) {
      const size = dims.reduce((a, b) => a * b, 1)
      const x = randomComplex(size, dims[0])
      const flags = 7
      const n = dims.slice(0, 3).reduce((a, b) => a * b, 1)
      const y = new Float32Array(2 * size)
      fft(dims, flags, y, x)
      ifft(dims, flags, y, y)
      expect(nrmse(y.map((v) => v / n), x)).toBeLessThan(1e-6)
      fftc(dims, flags, y, x)
      ifftc(dims, flags, y, y)
      expect(nrmse(y.map((v) => v / n), x)).toBeLessThan(1e-6)
      fftuc(dims, flags, y, x)
      ifftuc(dims, flags, y, y)
      expect(nrmse(y, x)).toBeLessThan(1e-6)
    }
  })

  it('centres as fftshift(fft(ifftshift(x))) for even and odd lengths', () => {
    for (const n of [1, 2, 5, 6, 9, 10, 100, 101]) {
      const x = randomComplex(n, 3 * n)
      const h = Math.floor(n / 2)
      const expected = new Float32Array(2 * n)
      fft([n], 1, expected, roll(x, -h))
      const y = new Float32Array(2 * n)
      fftc([n], 1, y, x)
      expect(nrmse(y, roll(expected, h)), `n = ${n}`).toBeLessThan(1e-6)
    }
  })

  it('puts a centred k-space delta at index floor(n/2) into a flat image', () => {
    for (const n of [6, 7]) {
      const k = new Float32Array(2 * n)
      k[2 * Math.floor(n / 2)] = 1
      const img = new Float32Array(2 * n)
      ifftc([n], 1, img, k)
      for (let i = 0; i < n; i++) {
        expect(img[2 * i]).toBeCloseTo(1, 6)
        expect(img[2 * i + 1]).toBeCloseTo(0, 6)
      }
    }
  })

  it('transforms strided sub-blocks in place and leaves the rest alone', () => {
    const dims = [6, 5, 4]
    const size = 120
    const x = randomComplex(size, 11)
    const whole = new Float32Array(x)
    fftn(dims, 3, whole, whole, { centred: true, inverse: true })
    const parts = new Float32Array(x)
    // partitions 1..2 then 0 and 3, as a worker pool would
    fftStrided({ data: parts, offset: 30, dims: [6, 5, 2], strides: [1, 6, 30] }, 3, { centred: true, inverse: true })
    expect(parts.subarray(0, 60)).toEqual(x.subarray(0, 60))
    fftStrided({ data: parts, offset: 0, dims: [6, 5, 1], strides: [1, 6, 30] }, 3, { centred: true, inverse: true })
    fftStrided({ data: parts, offset: 90, dims: [6, 5, 1], strides: [1, 6, 30] }, 3, { centred: true, inverse: true })
    expect(nrmse(parts, whole)).toBe(0)
  })

  it('copies when no axis is transformed and checks the sizes', () => {
    const x = randomComplex(12, 1)
    const y = new Float32Array(24)
    fft([3, 4], 0, y, x)
    expect(y).toEqual(x)
    expect(activeFlags([3, 1, 4], 7)).toBe(5)
    expect(() => fft([3, 4], 1, new Float32Array(10), x)).toThrow(FftShapeError)
  })
})
