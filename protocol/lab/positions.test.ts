import { describe, expect, it } from 'vitest'
import { byPosition, nextPosition, placeAt } from './positions.ts'

describe('positions', () => {
  const items = [{ id: 'a', position: 0 }, { id: 'b', position: 1 }, { id: 'c', position: 2 }]

  it('appends after the last', () => {
    expect(nextPosition([])).toBe(0)
    expect(nextPosition(items)).toBe(3)
    expect(nextPosition([{ id: 'x', position: 0.5 }])).toBe(1)
  })

  it('places between neighbours, before the first and after the last', () => {
    expect(placeAt(items, 0, 'z')).toEqual({ position: -1 })
    expect(placeAt(items, 1, 'z')).toEqual({ position: 0.5 })
    expect(placeAt(items, 3, 'z')).toEqual({ position: 3 })
    expect(placeAt([], 0, 'z')).toEqual({ position: 0 })
  })

  it('renumbers when neighbours share a position', () => {
    const placed = placeAt([{ id: 'a', position: 1 }, { id: 'b', position: 1 }], 1, 'z')
    expect(placed).toEqual({ renumber: new Map([['a', 0], ['z', 1], ['b', 2]]) })
  })

  it('sorts equal positions by id', () => {
    const sorted = [{ id: 'b', position: 1 }, { id: 'a', position: 1 }, { id: 'c', position: 0 }].sort(byPosition)
    expect(sorted.map((s) => s.id)).toEqual(['c', 'a', 'b'])
  })
})
