// A small XML element parser, enough for the ISMRMRD header: elements, text, CDATA, the five
// predefined entities and numeric character references, comments and processing instructions.
// Attributes are read past and dropped (the header carries none that matter: xmlns, schemaLocation).
// It is pure TS so that it runs in Node as in the browser (no DOMParser), iterative so that a deep
// document cannot overflow the call stack, and bounded in size, depth and element count because the
// text comes from the network. No DTD: a DOCTYPE with an internal subset (where entity-expansion
// attacks live) is refused.
import { IsmrmrdXmlError } from './errors.ts'

export interface XmlElement {
  /** The qualified name as written (`ismrmrd:encoding`). */
  name: string
  /** The name without its namespace prefix (`encoding`); the header is matched on this. */
  localName: string
  children: XmlElement[]
  /** The element's own character data (child elements' text excluded), entities resolved, untrimmed. */
  text: string
}

export interface XmlParseLimits {
  /** Longest document accepted, in UTF-16 code units. Default 16 MiB. */
  maxLength?: number
  /** Deepest element nesting accepted. Default 64. */
  maxDepth?: number
  /** Most elements accepted. Default 200 000. */
  maxElements?: number
}

export const DEFAULT_XML_LIMITS: Required<XmlParseLimits> = { maxLength: 16 * 1024 * 1024, maxDepth: 64, maxElements: 200_000 }

const PREDEFINED: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" }
const NAME_START = /[A-Za-z_:\u00C0-\uFFFF]/
const NAME_CHAR = /[-A-Za-z0-9_:.\u00B7\u00C0-\uFFFF]/

/** Parses a document and returns its root element. Throws IsmrmrdXmlError with a line and column. */
export function parseXml (text: string, limits: XmlParseLimits = {}): XmlElement {
  const maxLength = limits.maxLength ?? DEFAULT_XML_LIMITS.maxLength
  const maxDepth = limits.maxDepth ?? DEFAULT_XML_LIMITS.maxDepth
  const maxElements = limits.maxElements ?? DEFAULT_XML_LIMITS.maxElements
  if (typeof text !== 'string') throw new IsmrmrdXmlError('XML must be a string')
  if (text.length > maxLength) throw new IsmrmrdXmlError(`XML of ${text.length} characters exceeds the limit of ${maxLength}`)

  let pos = text.charCodeAt(0) === 0xfeff ? 1 : 0
  const fail = (message: string, at = pos): never => {
    const before = text.slice(0, at)
    const line = before.split('\n').length
    const column = at - before.lastIndexOf('\n')
    throw new IsmrmrdXmlError(`XML ${message} at line ${line}, column ${column}`)
  }
  const startsWith = (s: string): boolean => text.startsWith(s, pos)
  const skipPast = (end: string, what: string): void => {
    const at = text.indexOf(end, pos)
    if (at < 0) fail(`unterminated ${what}`)
    pos = at + end.length
  }
  const skipSpace = (): void => {
    while (pos < text.length && /\s/.test(text[pos])) pos++
  }
  const readName = (): string => {
    const start = pos
    if (pos >= text.length || !NAME_START.test(text[pos])) fail('expected a name')
    pos++
    while (pos < text.length && NAME_CHAR.test(text[pos])) pos++
    return text.slice(start, pos)
  }
  const decodeEntities = (raw: string, at: number): string => {
    if (!raw.includes('&')) return raw
    return raw.replace(/&([^;&\s]{0,10});?/g, (match, body: string, offset: number) => {
      if (!match.endsWith(';')) fail('has an unterminated entity reference', at + offset)
      if (body.startsWith('#')) {
        const code = /^#x[0-9a-fA-F]{1,6}$/.test(body) ? parseInt(body.slice(2), 16) : /^#[0-9]{1,7}$/.test(body) ? parseInt(body.slice(1), 10) : NaN
        if (!(code > 0 && code <= 0x10ffff) || (code >= 0xd800 && code <= 0xdfff)) fail(`has an invalid character reference &${body};`, at + offset)
        return String.fromCodePoint(code)
      }
      const value = PREDEFINED[body]
      if (value === undefined) fail(`uses the undefined entity &${body};`, at + offset)
      return value
    })
  }
  // Comments, processing instructions and (outside the root) a DOCTYPE; true when one was skipped.
  const skipMisc = (inProlog: boolean): boolean => {
    if (startsWith('<!--')) { pos += 4; skipPast('-->', 'comment'); return true }
    if (startsWith('<?')) { pos += 2; skipPast('?>', 'processing instruction'); return true }
    if (inProlog && startsWith('<!DOCTYPE')) {
      const end = text.indexOf('>', pos)
      const bracket = text.indexOf('[', pos)
      if (bracket >= 0 && (end < 0 || bracket < end)) fail('DOCTYPE with an internal subset is not accepted')
      if (end < 0) fail('unterminated DOCTYPE')
      pos = end + 1
      return true
    }
    return false
  }
  // Reads `<name attr="..." ...` up to and including `>` or `/>`.
  const readStartTag = (): { name: string, selfClosing: boolean } => {
    pos++ // '<'
    const name = readName()
    for (;;) {
      skipSpace()
      if (pos >= text.length) fail(`unterminated start tag <${name}>`)
      if (startsWith('/>')) { pos += 2; return { name, selfClosing: true } }
      if (text[pos] === '>') { pos++; return { name, selfClosing: false } }
      readName()
      skipSpace()
      if (text[pos] !== '=') fail(`expected = after an attribute name in <${name}>`)
      pos++
      skipSpace()
      const quote = text[pos]
      if (quote !== '"' && quote !== "'") fail(`expected a quoted attribute value in <${name}>`)
      const end = text.indexOf(quote, pos + 1)
      if (end < 0) fail(`unterminated attribute value in <${name}>`)
      if (text.slice(pos + 1, end).includes('<')) fail(`'<' inside an attribute value of <${name}>`)
      pos = end + 1
    }
  }
  const makeElement = (name: string): XmlElement => {
    const colon = name.indexOf(':')
    return { name, localName: colon >= 0 ? name.slice(colon + 1) : name, children: [], text: '' }
  }

  // Prolog
  for (;;) {
    skipSpace()
    if (!skipMisc(true)) break
  }
  if (pos >= text.length || text[pos] !== '<') fail('has no root element')

  let elements = 0
  const first = readStartTag()
  const root = makeElement(first.name)
  elements++
  const stack: XmlElement[] = first.selfClosing ? [] : [root]

  while (stack.length > 0) {
    if (pos >= text.length) fail(`ends inside <${stack[stack.length - 1].name}>`)
    const current = stack[stack.length - 1]
    const lt = text.indexOf('<', pos)
    if (lt < 0) fail(`ends inside <${current.name}>`)
    if (lt > pos) {
      current.text += decodeEntities(text.slice(pos, lt), pos)
      pos = lt
    }
    if (startsWith('</')) {
      const tagAt = pos
      pos += 2
      const name = readName()
      skipSpace()
      if (text[pos] !== '>') fail(`expected > to end </${name}`)
      pos++
      if (name !== current.name) fail(`closes <${current.name}> with </${name}>`, tagAt)
      stack.pop()
    } else if (startsWith('<![CDATA[')) {
      const end = text.indexOf(']]>', pos + 9)
      if (end < 0) fail('unterminated CDATA section')
      current.text += text.slice(pos + 9, end)
      pos = end + 3
    } else if (skipMisc(false)) {
      // comment or processing instruction inside an element
    } else if (startsWith('<!')) {
      fail('has an unexpected markup declaration')
    } else {
      const tag = readStartTag()
      if (++elements > maxElements) fail(`has more than ${maxElements} elements`)
      const child = makeElement(tag.name)
      current.children.push(child)
      if (!tag.selfClosing) {
        if (stack.length >= maxDepth) fail(`nests deeper than ${maxDepth} elements`)
        stack.push(child)
      }
    }
  }

  // Epilog: only whitespace, comments and processing instructions may follow the root.
  for (;;) {
    skipSpace()
    if (pos >= text.length) break
    if (!skipMisc(false)) fail('has content after the root element')
  }
  return root
}

/** Escapes text for an element's content (and for a double-quoted attribute value). */
export function escapeXml (text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c] as string)
}
