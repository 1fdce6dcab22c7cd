import { describe, expect, it } from 'vitest'
import { ProgressClock, clock, scanTimes, scanTimesText } from './run-progress.ts'

describe('ProgressClock', () => {
  it('moves the last reported position on with the local clock, and takes each new report as the truth', () => {
    let now = 0
    const progress = new ProgressClock(() => now)
    expect(progress.position('t', 2)).toBe(2)
    now = 1000
    expect(progress.position('t', 2)).toBe(3)
    now = 3000
    expect(progress.position('t', 2)).toBe(5)
    // the scanner is slower than this page's guess: its report wins
    expect(progress.position('t', 4.5)).toBe(4.5)
    now = 3500
    expect(progress.position('t', 4.5)).toBe(5)
    // a scanner gone silent is not moved on for ever
    now = 60_000
    expect(progress.position('t', 4.5)).toBe(14.5)
  })

  it('starts a new run of a task from its first report', () => {
    let now = 0
    const progress = new ProgressClock(() => now)
    progress.position('t', 1)
    now = 5000
    progress.keepOnly(new Set())
    expect(progress.position('t', 1)).toBe(1)
  })
})

describe('scanTimes and their text', () => {
  it('never shows more elapsed than the sequence lasts', () => {
    expect(scanTimes(1.0, 0.5)).toEqual({ elapsedS: 0.5, durationS: 0.5, remainingS: 0, fraction: 1 })
    expect(scanTimesText(scanTimes(1.0, 0.5))).toBe('elapsed 0.5 s of 0.5 s · 0.0 s left')
    expect(scanTimes(-1, 30)).toMatchObject({ elapsedS: 0, remainingS: 30, fraction: 0 })
    expect(scanTimes(3, 0)).toMatchObject({ elapsedS: 0, remainingS: 0, fraction: 0 })
  })

  it('counts down in whole seconds, elapsed and left adding up to the total', () => {
    expect(scanTimesText(scanTimes(2.4, 30.4))).toBe('elapsed 0:02 of 0:30 · 0:28 left')
    expect(scanTimesText(scanTimes(2.9, 30.4))).toBe('elapsed 0:02 of 0:30 · 0:28 left')
    expect(scanTimesText(scanTimes(3.0, 30.4))).toBe('elapsed 0:03 of 0:30 · 0:27 left')
    expect(scanTimesText(scanTimes(30.3, 30.4))).toBe('elapsed 0:30 of 0:30 · 0:00 left')
    expect(scanTimesText(scanTimes(65, 125))).toBe('elapsed 1:05 of 2:05 · 1:00 left')
    expect(scanTimesText(scanTimes(0.26, 0.5))).toBe('elapsed 0.2 s of 0.5 s · 0.3 s left')
  })

  it('writes m:ss', () => {
    expect(clock(0)).toBe('0:00')
    expect(clock(59.9)).toBe('0:59')
    expect(clock(600)).toBe('10:00')
  })
})
