import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { escapeXml, parseXml } from './xml.ts'
import { IsmrmrdXmlError } from './errors.ts'

describe('XML element parser', () => {
  it('reads elements, text, entities, CDATA, comments and processing instructions', () => {
    const root = parseXml(`\uFEFF<?xml version="1.0" encoding="utf-8"?>
<!-- a comment before the root -->
<!DOCTYPE ismrmrdHeader>
<a xmlns="urn:x" b='1 > 0' c="it&apos;s">
  <name>Tom &amp; Jerry &lt;3 &#x263A; &#9731; &quot;q&quot;</name>
  <!-- <notAnElement/> -->
  <?pi stuff?>
  <empty/>
  <p:prefixed>x</p:prefixed>
  <data><![CDATA[<raw> & unescaped]]></data>
</a>
<!-- trailing comment -->
`)
    expect(root.name).toBe('a')
    expect(root.children.map((c) => c.name)).toEqual(['name', 'empty', 'p:prefixed', 'data'])
    expect(root.children[0].text).toBe('Tom & Jerry <3 \u263A \u2603 "q"')
    expect(root.children[1].text).toBe('')
    expect(root.children[2].localName).toBe('prefixed')
    expect(root.children[3].text).toBe('<raw> & unescaped')
  })

  it('accepts a self-closing root', () => {
    expect(parseXml('<root/>')).toEqual({ name: 'root', localName: 'root', children: [], text: '' })
  })

  const bad: [string, string, RegExp][] = [
    ['empty', '', /no root element/],
    ['text only', 'hello', /no root element/],
    ['mismatched', '<a><b></a></b>', /closes <b> with <\/a>/],
    ['unclosed', '<a><b></b>', /ends inside <a>/],
    ['two roots', '<a/><b/>', /content after the root/],
    ['bare ampersand', '<a>x & y</a>', /unterminated entity/],
    ['unknown entity', '<a>&nbsp;</a>', /undefined entity/],
    ['bad char ref', '<a>&#xD800;</a>', /invalid character reference/],
    ['zero char ref', '<a>&#0;</a>', /invalid character reference/],
    ['internal DTD', '<!DOCTYPE a [<!ENTITY x "y">]><a>&x;</a>', /internal subset/],
    ['unterminated comment', '<a><!-- x</a>', /unterminated comment/],
    ['unquoted attribute', '<a b=1/>', /quoted attribute/],
    ['lt in attribute', '<a b="<"/>', /'<' inside an attribute/],
    ['bad name', '<1a/>', /expected a name/],
    ['unterminated CDATA', '<a><![CDATA[x</a>', /unterminated CDATA/]
  ]
  for (const [what, text, message] of bad) {
    it(`refuses ${what} with IsmrmrdXmlError`, () => {
      expect(() => parseXml(text)).toThrow(IsmrmrdXmlError)
      expect(() => parseXml(text)).toThrow(message)
    })
  }

  it('reports the line and column of an error', () => {
    expect(() => parseXml('<a>\n  <b>\n</a>')).toThrow(/line 3, column 1/)
  })

  it('bounds length, depth and element count', () => {
    expect(() => parseXml('<a>' + 'x'.repeat(100) + '</a>', { maxLength: 50 })).toThrow(/exceeds the limit of 50/)
    const deep = '<a>'.repeat(70) + '</a>'.repeat(70)
    expect(() => parseXml(deep)).toThrow(/deeper than 64/)
    expect(parseXml('<a>'.repeat(10) + '</a>'.repeat(10), { maxDepth: 10 }).name).toBe('a')
    expect(() => parseXml('<a>' + '<b/>'.repeat(20) + '</a>', { maxElements: 10 })).toThrow(/more than 10 elements/)
  })

  it('handles a very deep document without overflowing the stack when allowed', () => {
    const n = 100_000
    const root = parseXml('<a>'.repeat(n) + '</a>'.repeat(n), { maxDepth: n + 1, maxElements: n + 1 })
    expect(root.name).toBe('a')
  })

  it('escapes what it must', () => {
    expect(escapeXml(`<a href="x">Tom & 'Jerry'</a>`)).toBe('&lt;a href=&quot;x&quot;&gt;Tom &amp; &apos;Jerry&apos;&lt;/a&gt;')
    fc.assert(fc.property(fc.string(), (text) => {
      // Strings without control characters and lone surrogates survive escape → parse (XML forbids those).
      const clean = Array.from(text).filter((c) => {
        const code = c.codePointAt(0) as number
        return (code >= 0x20 || code === 0x09 || code === 0x0a) && !(code >= 0xd800 && code <= 0xdfff)
      }).join('')
      expect(parseXml(`<t>${escapeXml(clean)}</t>`).text).toBe(clean)
    }))
  })

  it('either parses or throws IsmrmrdXmlError on arbitrary input', () => {
    const pieces = ['<', '>', '/', 'a', 'b', '="', '"', "'", '&', ';', '&amp;', '<!--', '-->', '<?', '?>', '<![CDATA[', ']]>', '#', 'x', ' ', '\n', '<!DOCTYPE', '[']
    fc.assert(fc.property(fc.array(fc.constantFrom(...pieces), { maxLength: 40 }), fc.string({ maxLength: 20 }), (parts, noise) => {
      for (const text of [parts.join(''), `<r>${parts.join('')}</r>`, noise]) {
        try {
          parseXml(text)
        } catch (err) {
          expect(err).toBeInstanceOf(IsmrmrdXmlError)
        }
      }
    }), { numRuns: 2000 })
  })
})
