import { describe, expect, it } from 'vitest'
import { autoWindow, distance, edgeMarkers, ellipseStats, orientationLetters, probe, rectangleStats, toRgba, INITIAL_VIEW } from './image-math.ts'
import type { Frame } from './image-math.ts'

function frame (values: number[], columns: number, slope = 1, intercept = 0): Frame {
  return { pixels: Int16Array.from(values), offset: 0, rows: values.length / columns, columns, slope, intercept }
}

describe('windowing', () => {
  it('follows the DICOM linear VOI function', () => {
    const f = frame([0, 50, 100, 150, 200], 5)
    const rgba = toRgba(f, { center: 100.5, width: 101 })
    expect([rgba[0], rgba[4], rgba[8], rgba[12], rgba[16]]).toEqual([0, 0, 128, 255, 255])
    const inverted = toRgba(f, { center: 100.5, width: 101 }, { invert: true })
    expect(inverted[0]).toBe(255)
  })

  it('auto-windows over the rescaled range', () => {
    expect(autoWindow(frame([10, 20, 30, 40], 2, 2, -10))).toEqual({ center: 40, width: 60 })
  })
})

describe('measurements', () => {
  it('computes mean and std inside a rectangle, and its area in mm²', () => {
    const f = frame([1, 2, 3, 4, 5, 6, 7, 8, 9], 3)
    const s = rectangleStats(f, { x: 0, y: 0 }, { x: 2, y: 2 }, [0.5, 2])
    expect(s.count).toBe(4)
    expect(s.mean).toBe(3)
    expect(s.std).toBeCloseTo(Math.sqrt(2.5), 10)
    expect(s.area).toBe(4)
    expect(s.areaUnit).toBe('mm²')
  })

  it('measures lengths with anisotropic pixel spacing', () => {
    expect(distance({ x: 0, y: 0 }, { x: 3, y: 4 })).toEqual({ value: 5, unit: 'px' })
    expect(distance({ x: 0, y: 0 }, { x: 4, y: 3 }, [2, 1])).toEqual({ value: Math.hypot(4, 6), unit: 'mm' })
  })

  it('probes the pixel under a point', () => {
    const f = frame([1, 2, 3, 4], 2, 10, 1)
    expect(probe(f, { x: 1.5, y: 0.2 })).toBe(21)
    expect(probe(f, { x: 2, y: 0 })).toBeUndefined()
  })
})

describe('orientation', () => {
  it('names axial images R/L, A/P, and follows flips and rotation', () => {
    expect(orientationLetters([1, 0, 0])).toBe('L')
    expect(orientationLetters([0.7, 0.7, 0])).toMatch(/^(LP|PL)$/)
    const axial: [number, number, number, number, number, number] = [1, 0, 0, 0, 1, 0]
    expect(edgeMarkers(axial, INITIAL_VIEW)).toEqual({ left: 'R', right: 'L', top: 'A', bottom: 'P' })
    expect(edgeMarkers(axial, { ...INITIAL_VIEW, flipH: true })).toMatchObject({ left: 'L', right: 'R' })
    expect(edgeMarkers(axial, { ...INITIAL_VIEW, rotation: 1 })).toEqual({ left: 'P', right: 'A', top: 'R', bottom: 'L' })
  })
})

describe('ellipse ROI', () => {
  it('averages the pixels whose centres are inside the inscribed ellipse', () => {
    // 8×8: 100 in the inner 4×4 square, 0 around it
    const values = Array.from({ length: 64 }, (_, i) => (i % 8 >= 2 && i % 8 < 6 && Math.floor(i / 8) >= 2 && Math.floor(i / 8) < 6) ? 100 : 0)
    const inner = ellipseStats(frame(values, 8), { x: 2, y: 2 }, { x: 6, y: 6 })
    // a circle of radius 2 centred at (4, 4) holds the 12 centres of the square's pixels but its corners
    expect(inner.count).toBe(12)
    expect(inner.mean).toBe(100)
    expect(inner.std).toBe(0)
    expect(inner.area).toBeCloseTo(Math.PI * 4)
    expect(inner.areaUnit).toBe('px')
    const whole = ellipseStats(frame(values, 8), { x: 0, y: 0 }, { x: 8, y: 8 }, [0.5, 2])
    expect(whole.mean).toBeGreaterThan(0)
    expect(whole.mean).toBeLessThan(100)
    expect(whole.std).toBeGreaterThan(0)
    expect(whole.area).toBeCloseTo(Math.PI * 16)
    expect(whole.areaUnit).toBe('mm²')
  })

  it('gives the standard deviation of two values and nothing for a flat ellipse', () => {
    const f = frame([0, 10, 0, 10], 2, 2, 1)
    const s = ellipseStats(f, { x: 0, y: 0 }, { x: 2, y: 2 })
    expect(s.count).toBe(4)
    expect(s.mean).toBe(11)
    expect(s.std).toBe(10)
    expect(ellipseStats(f, { x: 0, y: 1 }, { x: 2, y: 1 }).count).toBe(0)
  })
})
