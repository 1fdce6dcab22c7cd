import { describe, expect, it } from 'vitest'
import { MAX_STORED_VALUE, maxMagnitude, scaleToStored } from './scale.ts'

describe('scaleToStored', () => {
  it('maps the maximum to 4095 and keeps zero at zero', () => {
    const { pixels, scale, min, max } = scaleToStored(Float32Array.from([0, 0.5, 1, 2]))
    expect(Array.from(pixels)).toEqual([0, 1024, 2048, 4095])
    expect(scale).toBeCloseTo(MAX_STORED_VALUE / 2)
    expect([min, max]).toEqual([0, 4095])
  })

  it('shares a scale across images when given the series maximum, clipping above it', () => {
    expect(Array.from(scaleToStored(Float32Array.from([1, 2]), 4).pixels)).toEqual([1024, 2048])
    expect(Array.from(scaleToStored(Float32Array.from([1, 8]), 4).pixels)).toEqual([1024, 4095])
  })

  it('turns negative values, NaN and infinities into 0 or the clip value without failing', () => {
    const { pixels } = scaleToStored(Float32Array.from([-1, Number.NaN, 3, Number.POSITIVE_INFINITY]))
    expect(maxMagnitude(Float32Array.from([-1, Number.NaN, 3, Number.POSITIVE_INFINITY]))).toBe(3)
    expect(Array.from(pixels)).toEqual([0, 0, 4095, 4095])
  })

  it('writes an all-zero image as zeros', () => {
    expect(scaleToStored(new Float32Array(4))).toMatchObject({ scale: 0, min: 0, max: 0 })
    expect(scaleToStored(new Float32Array(0))).toMatchObject({ min: 0, max: 0 })
  })
})
