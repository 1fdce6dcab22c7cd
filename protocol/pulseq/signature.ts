// The [SIGNATURE] section: the MD5 of the file up to, not including, the newline that precedes the
// line `[SIGNATURE]` (specification, "Signature"; MATLAB write.m hashes the finished file and then
// appends "\n[SIGNATURE]\n..."). Checked against every signed fixture.

import { md5Hex } from './md5.ts'

export interface SignatureCheck {
  /** Whether the file has a [SIGNATURE] section with a Hash. */
  present: boolean
  /** The Type field (e.g. "md5"), if any. */
  type?: string
  /** The Hash field, lower case. */
  expected?: string
  /** The hash of the signed part, when the type is one we can compute (md5). */
  actual?: string
  /** True only when the hash is present, of a supported type, and matches. */
  valid: boolean
}

const MARKER = '[SIGNATURE]'

/** Checks the signature of a .seq file. Bytes are hashed as they are; text is hashed as UTF-8. */
export function verifySignature (input: string | Uint8Array): SignatureCheck {
  const split = typeof input === 'string' ? splitText(input) : splitBytes(input)
  if (split === undefined) return { present: false, valid: false }
  const type = field(split.section, 'Type')
  const hash = field(split.section, 'Hash')?.toLowerCase()
  if (hash === undefined) return { present: false, type, valid: false }
  const result: SignatureCheck = { present: true, type, expected: hash, valid: false }
  if (type !== undefined && type.toLowerCase() === 'md5') {
    result.actual = md5Hex(split.body)
    result.valid = result.actual === hash
  }
  return result
}

/** Appends a [SIGNATURE] section (md5) to the text of a finished file. */
export function appendSignature (body: string): string {
  const hash = md5Hex(body)
  return body +
    '\n' + MARKER + '\n' +
    '# This is the hash of the Pulseq file, calculated right before the [SIGNATURE] section was added.\n' +
    '# It can be reproduced with md5sum on the file cut just before the newline that precedes [SIGNATURE].\n' +
    'Type md5\n' +
    `Hash ${hash}\n`
}

function field (section: string, key: string): string | undefined {
  for (const line of section.split('\n')) {
    const m = /^\s*(\S+)\s+(\S+)/.exec(line)
    if (m !== null && m[1] === key) return m[2]
  }
  return undefined
}

/** The signed part (as bytes or text) and the section text, or undefined without a [SIGNATURE] line. */
function splitText (text: string): { body: string, section: string } | undefined {
  let at = text.lastIndexOf('\n' + MARKER)
  if (at < 0) {
    if (!text.startsWith(MARKER)) return undefined
    return { body: '', section: text.slice(MARKER.length) }
  }
  const section = text.slice(at + 1 + MARKER.length)
  if (at > 0 && text[at - 1] === '\r') at--
  return { body: text.slice(0, at), section }
}

function splitBytes (bytes: Uint8Array): { body: Uint8Array, section: string } | undefined {
  const marker = new TextEncoder().encode(MARKER)
  for (let i = bytes.length - marker.length; i >= 0; i--) {
    if (i > 0 && bytes[i - 1] !== 0x0a) continue
    let match = true
    for (let j = 0; j < marker.length && match; j++) match = bytes[i + j] === marker[j]
    if (!match) continue
    const section = new TextDecoder().decode(bytes.subarray(i + marker.length))
    let end = i === 0 ? 0 : i - 1
    if (end > 0 && bytes[end - 1] === 0x0d) end--
    return { body: bytes.subarray(0, end), section }
  }
  return undefined
}
