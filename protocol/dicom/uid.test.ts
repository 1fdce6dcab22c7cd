import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { deterministicUid, isValidUid, MAX_UID_LENGTH, uidToUuid } from './uid.ts'

describe('deterministicUid', () => {
  it('maps the same ids to the same UID, for ever', () => {
    // Pinned: files written years apart must keep linking to the same study.
    expect(deterministicUid('study', 'exam-1')).toBe(deterministicUid('study', 'exam-1'))
    expect(deterministicUid('study', '3f2a9c1e-7b4d-4e8a-9b1c-2d3e4f5a6b7c')).toBe('2.25.148662149689254604084492723046667237967')
  })

  it('gives different UIDs to different kinds, ids, epochs and instances', () => {
    const uids = [
      deterministicUid('study', 'exam-1'),
      deterministicUid('frame-of-reference', 'exam-1'),
      deterministicUid('study', 'exam-2'),
      deterministicUid('series', 'task-1', 0),
      deterministicUid('series', 'task-1', 1),
      deterministicUid('instance', 'task-1', 0, 1),
      deterministicUid('instance', 'task-1', 0, 2),
      // A naive join of ids would make these two equal.
      deterministicUid('series', 'a', 'b-c'),
      deterministicUid('series', 'a-b', 'c')
    ]
    expect(new Set(uids).size).toBe(uids.length)
  })

  it('makes valid UIDs from version 8 UUIDs', () => {
    fc.assert(fc.property(fc.string(), fc.nat(), (id, n) => {
      const uid = deterministicUid('instance', id, n)
      expect(isValidUid(uid)).toBe(true)
      expect(uid.length).toBeLessThanOrEqual(MAX_UID_LENGTH)
      expect(uid).toMatch(/^2\.25\.[1-9]\d*$/)
      expect(uidToUuid(uid)).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
    }))
  })

  it('validates UIDs', () => {
    expect(isValidUid('1.2.840.10008.5.1.4.1.1.4')).toBe(true)
    expect(isValidUid('1.02.3')).toBe(false)
    expect(isValidUid('1..2')).toBe(false)
    expect(isValidUid('2.25.' + '1'.repeat(60))).toBe(false)
  })
})
