import { describe, expect, it } from 'vitest'
import { classifyTwoFinger, pinchFactor, scrollSlices } from './gestures.ts'

const start = { a: { x: 100, y: 100 }, b: { x: 200, y: 100 } }

describe('two-finger gestures', () => {
  it('waits until the fingers have moved', () => {
    expect(classifyTwoFinger(start, { a: { x: 102, y: 103 }, b: { x: 198, y: 104 } })).toBeUndefined()
  })

  it('tells a pinch from a drag', () => {
    const pinch = { a: { x: 70, y: 102 }, b: { x: 230, y: 99 } }
    expect(classifyTwoFinger(start, pinch)).toBe('zoom')
    expect(pinchFactor(start, pinch)).toBeCloseTo(1.6, 1)
    const drag = { a: { x: 103, y: 160 }, b: { x: 201, y: 162 } }
    expect(classifyTwoFinger(start, drag)).toBe('scroll')
    expect(scrollSlices(start, drag)).toBe(3)
    expect(scrollSlices(start, { a: { x: 100, y: 55 }, b: { x: 200, y: 55 } })).toBe(-2)
  })
})
