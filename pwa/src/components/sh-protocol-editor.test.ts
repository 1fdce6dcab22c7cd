import { describe, expect, it } from 'vitest'
import { formatScanTime } from './sh-protocol-editor.ts'

describe('formatScanTime', () => {
  it('shows tenths under a minute and whole seconds above, never 60 in the seconds', () => {
    expect(formatScanTime(0.4992)).toBe('0:00.5')
    expect(formatScanTime(6.4)).toBe('0:06.4')
    expect(formatScanTime(22.4)).toBe('0:22.4')
    expect(formatScanTime(59.97)).toBe('1:00')
    expect(formatScanTime(125.2)).toBe('2:05')
    expect(formatScanTime(119.6)).toBe('2:00')
    expect(formatScanTime(3600)).toBe('60:00')
  })
})
