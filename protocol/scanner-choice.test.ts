import { describe, expect, it } from 'vitest'
import type { Device } from './lab/index.ts'
import { chooseScanner } from './scanner-choice.ts'

function device (id: string, name: string): Device {
  return { id, name, peerId: `peer-${id}`, manufacturer: 'ScanHub', model: 'virtual', fieldStrengthT: 0.5, driver: 'virtual', parameters: {}, createdAt: '', updatedAt: '', createdBy: '', updatedBy: '' }
}

describe('any scanner', () => {
  const a = device('a', 'Magnet A')
  const b = device('b', 'Magnet B')

  it('is the one scanner online, or the lab\'s only scanner while it is offline', () => {
    expect(chooseScanner([a, b], (d) => d.id === 'b')).toEqual({ ok: true, device: b })
    expect(chooseScanner([a], () => false)).toEqual({ ok: true, device: a })
    expect(chooseScanner([a], () => true)).toEqual({ ok: true, device: a })
  })

  it('asks a person to choose among several, and says when the lab has none', () => {
    expect(chooseScanner([a, b], () => true)).toEqual({ ok: false, problem: 'several scanners are online (Magnet A, Magnet B): choose the device of this acquisition (Edit → Device)' })
    expect(chooseScanner([a, b], () => false)).toEqual({ ok: false, problem: 'none of the lab\'s scanners (Magnet A, Magnet B) is online: choose the device of this acquisition (Edit → Device)' })
    expect(chooseScanner([], () => true)).toMatchObject({ ok: false, problem: expect.stringMatching(/^the lab has no scanner yet: start a peer with the scanner role/) })
  })
})
