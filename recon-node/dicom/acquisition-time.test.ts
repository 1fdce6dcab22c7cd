import { describe, expect, it } from 'vitest'
import { acquisitionDateTime } from './acquisition-time.ts'

const ticks = (h: number, m: number, s: number): number => Math.round(((h * 60 + m) * 60 + s) * 1000 / 2.5)

describe('acquisitionDateTime', () => {
  const start = new Date(2026, 2, 4, 14, 30, 0)

  it('reads a stamp as 2.5 ms ticks since local midnight when that falls in the series', () => {
    expect(acquisitionDateTime(ticks(14, 31, 2.5), start)).toEqual(new Date(2026, 2, 4, 14, 31, 2, 500))
    // up to an hour before the series' recorded start (the clock of the header's series time may lag)
    expect(acquisitionDateTime(ticks(13, 45, 0), start)).toEqual(new Date(2026, 2, 4, 13, 45, 0))
  })

  it('gives nothing for stamps that count from elsewhere, or without a series time', () => {
    // the virtual scanner counts from 0 at the scan's start
    expect(acquisitionDateTime(ticks(0, 0, 3), start)).toBeUndefined()
    expect(acquisitionDateTime(0, start)).toBeUndefined()
    expect(acquisitionDateTime(ticks(14, 31, 0), undefined)).toBeUndefined()
    expect(acquisitionDateTime(ticks(25, 0, 0), start)).toBeUndefined()
  })
})
