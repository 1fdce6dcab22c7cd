import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { da, daFromIsoDate, ds, is, lo, personName, sh, timezoneOffset, tm } from './format.ts'

describe('DICOM value formatting', () => {
  it('writes decimal strings of at most 16 characters that parse back closely (9+ significant digits even with an exponent)', () => {
    expect(ds(0)).toBe('0')
    expect(ds(-0)).toBe('0')
    expect(ds(0.1 + 0.2)).toBe('0.3')
    expect(ds(-83.90625000000001)).toBe('-83.90625')
    expect(ds(1 / 3)).toBe('0.33333333333333')
    expect(ds(1.2e-7)).toBe('1.2e-7')
    expect(ds(-0.0000016968257169682572)).toBe('-1.696825717e-6')
    fc.assert(fc.property(fc.double({ min: -1e300, max: 1e300, noNaN: true }), (v) => {
      const text = ds(v)
      expect(text.length).toBeLessThanOrEqual(16)
      expect(text).toMatch(/^[-+]?[0-9.]+(e[-+]?[0-9]+)?$/)
      const back = Number(text)
      if (v !== 0) expect(Math.abs(back - v) / Math.abs(v)).toBeLessThan(1e-8)
    }), { numRuns: 2000 })
    expect(() => ds(Number.NaN)).toThrow()
  })

  it('writes integer strings in range only', () => {
    expect(is(42)).toBe('42')
    expect(() => is(1.5)).toThrow()
    expect(() => is(2 ** 31)).toThrow()
  })

  it('formats local dates and times, and ISO birth dates', () => {
    const date = new Date(2024, 0, 5, 7, 8, 9, 10)
    expect(da(date)).toBe('20240105')
    expect(tm(date)).toBe('070809.010')
    expect(timezoneOffset(date)).toMatch(/^[-+]\d{4}$/)
    expect(daFromIsoDate('1980-02-29')).toBe('19800229')
    expect(daFromIsoDate('1981-02-29')).toBe('')
    expect(daFromIsoDate('29.02.1980')).toBe('')
    expect(daFromIsoDate(undefined)).toBe('')
  })

  it('builds person names and keeps delimiters out of their components', () => {
    expect(personName('Müller', 'Zoë')).toBe('Müller^Zoë')
    expect(personName('Doe^Smith', 'Jo=Ann')).toBe('Doe Smith^Jo Ann')
    expect(personName('Solo', '')).toBe('Solo')
    expect(personName('A\\B', ' ')).toBe('A B')
    expect(Array.from(personName('x'.repeat(50), 'y'.repeat(50))).length).toBe(64)
  })

  it('cuts LO and SH to their lengths in characters', () => {
    expect(lo('é'.repeat(70))).toBe('é'.repeat(64))
    expect(sh('abcdefghijklmnopqrstuvwxyz')).toBe('abcdefghijklmnop')
    expect(sh(undefined)).toBe('')
    expect(lo('line\nbreak\\slash')).toBe('line break slash')
  })
})
