// eslint-disable-next-line no-restricted-imports -- only the test compares with Node's own MD5
import { createHash } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { Md5, md5Hex } from './md5.ts'

describe('md5', () => {
  // The test suite of RFC 1321, appendix A.5.
  const vectors: Array<[string, string]> = [
    ['', 'd41d8cd98f00b204e9800998ecf8427e'],
    ['a', '0cc175b9c0f1b6a831c399e269772661'],
    ['abc', '900150983cd24fb0d6963f7d28e17f72'],
    ['message digest', 'f96b697d7cb7938d525a2f31aaf161d0'],
    ['abcdefghijklmnopqrstuvwxyz', 'c3fcd3d76192e4007dfb496cca67e13b'],
    ['ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789', 'd174ab98d277d9f5a5611c2c9f419d9f'],
    ['12345678901234567890123456789012345678901234567890123456789012345678901234567890', '57edf4a22be3c955ac49da2e2107b67a']
  ]
  for (const [input, expected] of vectors) {
    it(`md5("${input.slice(0, 20)}${input.length > 20 ? '…' : ''}") = ${expected}`, () => {
      expect(md5Hex(input)).toBe(expected)
    })
  }

  it('hashes the UTF-8 bytes of a string', () => {
    // echo -n 'µs' | md5sum
    expect(md5Hex('µs')).toBe(md5Hex(new Uint8Array([0xc2, 0xb5, 0x73])))
  })

  it('gives the same digest at every padding boundary whether fed at once or in pieces', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), fc.array(fc.nat(300), { maxLength: 5 }), (bytes, cuts) => {
      const whole = md5Hex(bytes)
      const h = new Md5()
      let at = 0
      for (const c of [...cuts].sort((x, y) => x - y)) {
        const end = Math.min(c, bytes.length)
        if (end > at) {
          h.update(bytes.subarray(at, end))
          at = end
        }
      }
      h.update(bytes.subarray(at))
      expect(h.hex()).toBe(whole)
    }))
  })

  it('matches the known digest of a million "a"s', () => {
    expect(md5Hex('a'.repeat(1_000_000))).toBe('7707d6ae4e027c70eea2a935c2296f21')
  })
})

describe('md5 against node:crypto', () => {
  it('agrees on random inputs', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 2000 }), (bytes) => {
      expect(md5Hex(bytes)).toBe(createHash('md5').update(bytes).digest('hex'))
    }))
  })
})
