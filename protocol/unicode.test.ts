import { describe, expect, it } from 'vitest'
import { isWellFormedText, malformedTextAt } from './unicode.ts'

describe('well-formed Unicode', () => {
  it('accepts pairs and refuses lone surrogates', () => {
    expect(isWellFormedText('Zoë 🧠 Müller')).toBe(true)
    expect(isWellFormedText('a\uD800')).toBe(false)
    expect(isWellFormedText('\uDC00b')).toBe(false)
    expect(isWellFormedText('\uDBFF\uDFFF')).toBe(true)
    expect(isWellFormedText('\uDFFF\uDBFF')).toBe(false)
  })

  it('names the first malformed field of a value', () => {
    expect(malformedTextAt({ firstName: 'Ada', lastName: 'x\uD800', tags: ['ok'] }, '')).toBe('lastName')
    expect(malformedTextAt({ a: { b: ['ok', 'bad\uDC00'] } }, 'body')).toBe('body.a.b[1]')
    expect(malformedTextAt({ ['k\uD800']: 1 }, 'body')).toBe('body (a field name)')
    expect(malformedTextAt({ a: 1, b: [true, null, 'fine'] }, 'body')).toBeUndefined()
  })
})
