import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { compressShape, decompressShape, SHAPE_QUANTUM, ShapeFormatError } from './shapes.ts'

describe('decompressShape', () => {
  it('decodes the examples of the specification', () => {
    // Example 1: ramp up, plateau, ramp down.
    const ramp = [0, 0.1, 0.15, 0.25, 0.5, 0, 0, 4, -0.25, -0.25, 2]
    const expected = [0, 0.1, 0.25, 0.5, 1, 1, 1, 1, 1, 1, 1, 0.75, 0.5, 0.25, 0]
    const out = decompressShape(ramp, 15)
    expect(out.length).toBe(15)
    for (let i = 0; i < 15; i++) expect(out[i]).toBeCloseTo(expected[i], 12)
    // Example 2: 100 zeros; example 3: a constant 1.0 of 100 samples.
    expect([...decompressShape([0, 0, 98], 100)]).toEqual(new Array(100).fill(0))
    expect([...decompressShape([1, 0, 0, 97], 100)]).toEqual(new Array(100).fill(1))
  })

  it('refuses streams that do not give the declared number of samples', () => {
    expect(() => decompressShape([0, 0, 98], 99)).toThrow(ShapeFormatError)
    expect(() => decompressShape([0, 0, 98], 101)).toThrow(/decompresses to 100 samples/)
    expect(() => decompressShape([1, 1], 5)).toThrow(/repeat count/)
    expect(() => decompressShape([1, 1, 2.5], 5)).toThrow(/not a non-negative integer/)
    expect(() => decompressShape([1, 1, -1], 5)).toThrow(ShapeFormatError)
  })

  it('refuses a huge repeat count at once, without allocating for it', () => {
    const t0 = performance.now()
    expect(() => decompressShape([0, 0, 999_999_999_999], 10)).toThrow(/more than the declared 10/)
    expect(performance.now() - t0).toBeLessThan(50)
  })
})

describe('compressShape', () => {
  it('compresses a plateau to four numbers', () => {
    const c = compressShape(new Float64Array(3000).fill(1))
    expect(c.compressed).toBe(true)
    expect(c.values).toEqual([1, 0, 0, 2997])
  })

  it('keeps a shape uncompressed when compression does not make it shorter', () => {
    expect(compressShape([0.3, 0.1]).compressed).toBe(false)
    expect(compressShape([0, 1, 0.5, 0.7]).values).toEqual([0, 1, 0.5, 0.7])
  })

  it('round-trips any shape to within the quantum', () => {
    const shape = fc.array(fc.oneof(
      fc.double({ min: -1, max: 1, noNaN: true }),
      fc.constantFrom(0, 1, -1, 0.5)
    ), { minLength: 1, maxLength: 400 })
    fc.assert(fc.property(shape, (samples) => {
      const c = compressShape(samples)
      const back = c.compressed ? decompressShape(c.values, samples.length) : Float64Array.from(c.values)
      expect(back.length).toBe(samples.length)
      for (let i = 0; i < samples.length; i++) expect(Math.abs(back[i] - samples[i])).toBeLessThanOrEqual(SHAPE_QUANTUM)
    }))
  })

  it('does not accumulate error along a long ramp', () => {
    const n = 100_000
    const ramp = Float64Array.from({ length: n }, (_, i) => i / (n - 1))
    const c = compressShape(ramp)
    expect(c.values.length).toBeLessThan(n / 2)
    const back = decompressShape(c.values, n)
    let worst = 0
    for (let i = 0; i < n; i++) worst = Math.max(worst, Math.abs(back[i] - ramp[i]))
    expect(worst).toBeLessThan(SHAPE_QUANTUM)
  })
})
