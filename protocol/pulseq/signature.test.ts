// eslint-disable-next-line no-restricted-imports -- tests read the shared fixtures from disk; the library does no I/O
import { readdirSync, readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { fixture, hasFixtures } from '../../test/support/external-tools.ts'
import { appendSignature, verifySignature } from './signature.ts'

const FIXTURES = hasFixtures() ? readdirSync(fixture('pulseq')).filter((f) => f.endsWith('.seq')).sort() : []
const SIGNED = FIXTURES.filter((f) => readFileSync(fixture('pulseq', f), 'utf8').includes('\n[SIGNATURE]'))

describe.skipIf(!hasFixtures())('verifySignature on the fixtures', () => {
  it('has signed and unsigned fixtures to check', () => {
    expect(SIGNED.length).toBeGreaterThanOrEqual(8)
    expect(FIXTURES.length - SIGNED.length).toBeGreaterThanOrEqual(3)
  })

  for (const name of SIGNED) {
    it(`${name}: the signature is valid, read as text or as bytes`, () => {
      const bytes = readFileSync(fixture('pulseq', name))
      const text = bytes.toString('utf8')
      const r = verifySignature(text)
      expect(r).toMatchObject({ present: true, type: 'md5', valid: true })
      expect(r.actual).toBe(r.expected)
      expect(verifySignature(new Uint8Array(bytes)).valid).toBe(true)
    })

    it(`${name}: a one-character change makes it invalid`, () => {
      const text = readFileSync(fixture('pulseq', name), 'utf8')
      const body = text.lastIndexOf('\n[SIGNATURE]')
      fc.assert(fc.property(fc.nat(body - 1), fc.constantFrom('0', '7', ' ', 'x'), (at, ch) => {
        fc.pre(text[at] !== ch)
        const changed = text.slice(0, at) + ch + text.slice(at + 1)
        const r = verifySignature(changed)
        expect(r.present).toBe(true)
        expect(r.valid).toBe(false)
        expect(r.actual).not.toBe(r.expected)
      }), { numRuns: 20 })
    })
  }

  it('reports files without a signature as not present', () => {
    for (const name of FIXTURES.filter((f) => !SIGNED.includes(f))) {
      expect(verifySignature(readFileSync(fixture('pulseq', name), 'utf8'))).toEqual({ present: false, valid: false })
    }
  })
})

describe('verifySignature', () => {
  it('checks what appendSignature writes, and only that', () => {
    const signed = appendSignature('[VERSION]\nmajor 1\nminor 5\nrevision 0\n')
    expect(verifySignature(signed).valid).toBe(true)
    expect(verifySignature(signed.replace('minor 5', 'minor 4')).valid).toBe(false)
    const hash = /Hash (\S+)/.exec(signed)?.[1] as string
    expect(verifySignature(signed.replace(hash, hash.replace(/^./, (c) => c === '0' ? '1' : '0'))).valid).toBe(false)
  })

  it('does not vouch for hash types it cannot compute', () => {
    const r = verifySignature('abc\n[SIGNATURE]\nType sha1\nHash a9993e364706816aba3e25717850c26c9cd0d89d\n')
    expect(r).toEqual({ present: true, type: 'sha1', expected: 'a9993e364706816aba3e25717850c26c9cd0d89d', valid: false })
  })

  it('hashes the file up to, not including, the newline before [SIGNATURE]', () => {
    // md5("abc") = 900150983cd24fb0d6963f7d28e17f72
    expect(verifySignature('abc\n[SIGNATURE]\nType md5\nHash 900150983cd24fb0d6963f7d28e17f72\n').valid).toBe(true)
    expect(verifySignature('abc\n\n[SIGNATURE]\nType md5\nHash 900150983cd24fb0d6963f7d28e17f72\n').valid).toBe(false)
  })
})
