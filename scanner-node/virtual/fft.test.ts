import { describe, expect, it } from 'vitest'
import { centredInverseDft, fft } from './fft.ts'
import { SeededRandom } from './random.ts'

function naiveDft (re: Float64Array, im: Float64Array, sign: number): [Float64Array, Float64Array] {
  const n = re.length
  const outRe = new Float64Array(n)
  const outIm = new Float64Array(n)
  for (let m = 0; m < n; m++) {
    for (let k = 0; k < n; k++) {
      const phi = (sign * 2 * Math.PI * k * m) / n
      outRe[m] += re[k] * Math.cos(phi) - im[k] * Math.sin(phi)
      outIm[m] += re[k] * Math.sin(phi) + im[k] * Math.cos(phi)
    }
  }
  return [outRe, outIm]
}

describe('fft', () => {
  it('equals the naive DFT in both directions', () => {
    const random = new SeededRandom(3)
    for (const n of [1, 2, 8, 64]) {
      const re = Float64Array.from({ length: n }, () => random.normal())
      const im = Float64Array.from({ length: n }, () => random.normal())
      for (const inverse of [false, true]) {
        const [er, ei] = naiveDft(re, im, inverse ? 1 : -1)
        const r = re.slice()
        const i = im.slice()
        fft(r, i, inverse)
        for (let m = 0; m < n; m++) {
          expect(r[m]).toBeCloseTo(er[m], 10)
          expect(i[m]).toBeCloseTo(ei[m], 10)
        }
      }
    }
  })

  it('centred inverse: sample n/2 is k = 0 and pixel n/2 is r = 0, for n/2 even and odd', () => {
    for (const n of [8, 2]) {
      const re = new Float64Array(n)
      const im = new Float64Array(n)
      re[n / 2] = n // a constant image of 1
      centredInverseDft(re, im)
      for (let m = 0; m < n; m++) expect(re[m]).toBeCloseTo(1, 14)
      const re2 = new Float64Array(n).fill(1) // a delta at r = 0
      const im2 = new Float64Array(n)
      centredInverseDft(re2, im2)
      expect(re2[n / 2]).toBeCloseTo(1, 14)
    }
  })

  it('rejects lengths that are not powers of two with FftLengthError', () => {
    expect(() => fft(new Float64Array(6), new Float64Array(6))).toThrow(expect.objectContaining({ name: 'FftLengthError' }))
  })
})

describe('SeededRandom', () => {
  it('is reproducible and gives standard normal deviates', () => {
    const a = new SeededRandom(42)
    const b = new SeededRandom(42)
    expect(Array.from({ length: 10 }, () => a.nextUint32())).toEqual(Array.from({ length: 10 }, () => b.nextUint32()))
    const r = new SeededRandom(0)
    const n = 100000
    let sum = 0
    let sq = 0
    for (let i = 0; i < n; i++) {
      const v = r.normal()
      sum += v
      sq += v * v
    }
    expect(Math.abs(sum / n)).toBeLessThan(0.02)
    expect(Math.abs(sq / n - 1)).toBeLessThan(0.02)
  })
})
