import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { MAX_DOC_ID_LENGTH, docIdToFileName, fileNameToDocId } from './doc-file-name.ts'

const SAFE_NAME = /^(?:[a-z0-9_-]|%[0-9A-F]{2})+\.ylog$/

describe('document file names', () => {
  it('keeps common ids readable', () => {
    expect(docIdToFileName('lab')).toBe('lab.ylog')
    expect(docIdToFileName('patient:3f2a-91')).toBe('patient%3A3f2a-91.ylog')
    expect(docIdToFileName('Lab')).toBe('%4Cab.ylog')
  })

  it('escapes every path-like id into one plain name', () => {
    const hostile = ['../x', 'a/b', '..', '.', '/etc/passwd', 'C:\\x', 'a\u0000b', '.hidden', 'x.', 'con', ' ', '%2E', 'ŧ€ß🎉']
    for (const id of hostile) {
      const name = docIdToFileName(id)
      expect(name).toMatch(SAFE_NAME)
      expect(fileNameToDocId(name)).toBe(id)
    }
  })

  it('keeps ids that differ only in case apart on case-insensitive file systems', () => {
    expect(docIdToFileName('lab').toLowerCase()).not.toBe(docIdToFileName('LAB').toLowerCase())
  })

  it('refuses empty, over-long and malformed ids', () => {
    for (const id of ['', 'x'.repeat(MAX_DOC_ID_LENGTH + 1), '\uD800', 'a\uDC00b', ':'.repeat(90)]) {
      expect(() => docIdToFileName(id)).toThrow(expect.objectContaining({ name: 'DocIdError' }))
    }
    expect(docIdToFileName('x'.repeat(MAX_DOC_ID_LENGTH))).toBe(`${'x'.repeat(MAX_DOC_ID_LENGTH)}.ylog`)
  })

  it('ignores names the mapping would not produce', () => {
    for (const name of ['lab.ylog.tmp', 'lab.txt', '.ylog', 'Lab.ylog', '%4cab.ylog', '%2e.ylog', '%FF.ylog', '%6C.ylog', 'a b.ylog']) {
      expect(fileNameToDocId(name)).toBeUndefined()
    }
  })

  it('round-trips any id it accepts', () => {
    fc.assert(fc.property(fc.oneof(
      fc.string({ unit: 'binary', minLength: 1, maxLength: 60 }),
      fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: MAX_DOC_ID_LENGTH }),
      fc.string({ unit: 'binary', minLength: 1, maxLength: MAX_DOC_ID_LENGTH })
    ), (id) => {
      let name: string
      try {
        name = docIdToFileName(id)
      } catch (err) {
        // Only ids too long (in UTF-16 units or once escaped) are refused; these strings are well-formed.
        expect((err as Error).name).toBe('DocIdError')
        expect((err as Error).message).toMatch(/once escaped|at most/)
        return
      }
      expect(name).toMatch(SAFE_NAME)
      expect(Buffer.byteLength(name)).toBeLessThanOrEqual(250)
      expect(fileNameToDocId(name)).toBe(id)
    }), { numRuns: 500 })
  })
})
