import { describe, expect, it } from 'vitest'
import { linkedIndex, viewportCount } from './layout.ts'

describe('layouts', () => {
  it('counts the viewports of each layout', () => {
    expect(viewportCount('1x1')).toBe(1)
    expect(viewportCount('1x2')).toBe(2)
    expect(viewportCount('2x2')).toBe(4)
  })
})

describe('linked scrolling', () => {
  it('goes to the slice nearest the same position when both stacks know positions', () => {
    const source = { length: 5, positions: [0, 5, 10, 14, 20] }
    const target = { length: 3, positions: [20, 10, 0] }
    expect(linkedIndex(source, 0, target)).toBe(2)
    expect(linkedIndex(source, 2, target)).toBe(1)
    expect(linkedIndex(source, 3, target)).toBe(1)
    expect(linkedIndex(source, 4, target)).toBe(0)
  })

  it('goes to the same fraction of the stack otherwise', () => {
    expect(linkedIndex({ length: 5 }, 4, { length: 9 })).toBe(8)
    expect(linkedIndex({ length: 5 }, 2, { length: 9 })).toBe(4)
    expect(linkedIndex({ length: 5, positions: [0, 1, 2, 3, 4] }, 1, { length: 3, positions: [0, undefined, 2] })).toBe(1)
    expect(linkedIndex({ length: 1 }, 0, { length: 4 })).toBe(0)
    expect(linkedIndex({ length: 4 }, 3, { length: 0 })).toBe(0)
  })

  it('keeps the same slice in two views of one stack', () => {
    const stack = { length: 7, positions: [0, 1, 2, 3, 4, 5, 6] }
    for (let i = 0; i < 7; i++) expect(linkedIndex(stack, i, stack)).toBe(i)
    expect(linkedIndex({ length: 7 }, 5, { length: 7 })).toBe(5)
  })
})
