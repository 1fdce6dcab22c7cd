import { describe, expect, it } from 'vitest'
import { MeasurementStore } from './measurements.ts'
import type { KeyValueStorage, Measurement } from './measurements.ts'

function memoryStorage (): KeyValueStorage & { map: Map<string, string> } {
  const map = new Map<string, string>()
  return { map, getItem: (k) => map.get(k) ?? null, setItem: (k, v) => { map.set(k, v) }, removeItem: (k) => { map.delete(k) } }
}

const ellipse: Measurement = { kind: 'ellipse', sop: '1.2.3.4', frame: 0, a: { x: 10, y: 12 }, b: { x: 40, y: 30 } }
const length: Measurement = { kind: 'length', sop: '1.2.3.5', frame: 2, a: { x: 1, y: 2 }, b: { x: 3, y: 4 } }

describe('measurements kept with the image', () => {
  it('are found again by SOPInstanceUID by a new store on the same storage', () => {
    const storage = memoryStorage()
    new MeasurementStore(storage).save('1.2.3.4', [ellipse, length])
    const again = new MeasurementStore(storage)
    expect(again.load('1.2.3.4')).toEqual([ellipse])
    expect(again.load('1.2.3.5')).toEqual([])
  })

  it('forget an image whose measurements were all removed', () => {
    const storage = memoryStorage()
    const store = new MeasurementStore(storage)
    store.save('1.2.3.5', [length])
    expect(storage.map.size).toBe(1)
    store.save('1.2.3.5', [])
    expect(storage.map.size).toBe(0)
  })

  it('skip what cannot be read and survive a storage that refuses', () => {
    const storage = memoryStorage()
    storage.map.set('scanhub:measurements:x', JSON.stringify([{ kind: 'polygon', frame: 0, a: { x: 1, y: 1 }, b: { x: 2, y: 2 } }, { kind: 'roi', frame: 0, a: { x: 1, y: 1 }, b: { x: 2, y: 2 } }]))
    storage.map.set('scanhub:measurements:y', '{broken')
    const store = new MeasurementStore(storage)
    expect(store.load('x')).toEqual([{ kind: 'roi', sop: 'x', frame: 0, a: { x: 1, y: 1 }, b: { x: 2, y: 2 } }])
    expect(store.load('y')).toEqual([])
    const full = new MeasurementStore({ ...storage, setItem: () => { throw new Error('QuotaExceededError') } })
    expect(() => { full.save('z', [{ ...length, sop: 'z' }]) }).not.toThrow()
    expect(new MeasurementStore(undefined).load('x')).toEqual([])
  })
})
