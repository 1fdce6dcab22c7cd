// Maps document ids (`lab`, `patient:3f2a...`) to file names and back. Ids come from the network, so
// the mapping must never let one name a path outside the store's directory.
//
// Bytes of [a-z0-9_-] stay as they are; every other UTF-8 byte becomes %XX with upper-case hex. Upper-case
// letters are escaped too, so that ids differing only in case cannot collide on the case-insensitive file
// systems of macOS and Windows; '.' is escaped so that no name is '.', '..', hidden or ends in a dot.

export const DOC_FILE_EXTENSION = '.ylog'
export const MAX_DOC_ID_LENGTH = 200
/** File systems allow 255 bytes per name; the rest is kept for the extension and a temp suffix. */
const MAX_ESCAPED_LENGTH = 240

const PLAIN_BYTE = /^[a-z0-9_-]$/
const ESCAPED_NAME = /^(?:[a-z0-9_-]|%[0-9A-F]{2})+$/
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/

export class DocIdError extends Error {
  override name = 'DocIdError'
}

/** The file name (with extension) of a document; throws {@link DocIdError} for ids that cannot be stored. */
export function docIdToFileName (docId: string): string {
  if (typeof docId !== 'string' || docId.length === 0) throw new DocIdError('a document id must not be empty')
  if (docId.length > MAX_DOC_ID_LENGTH) {
    throw new DocIdError(`a document id must be at most ${MAX_DOC_ID_LENGTH} characters (got ${docId.length})`)
  }
  // A lone surrogate has no UTF-8 form, so it would not come back unchanged.
  if (LONE_SURROGATE.test(docId)) throw new DocIdError('a document id must be well-formed Unicode')
  let escaped = ''
  for (const byte of new TextEncoder().encode(docId)) {
    const char = String.fromCharCode(byte)
    escaped += PLAIN_BYTE.test(char) ? char : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`
  }
  if (escaped.length > MAX_ESCAPED_LENGTH) {
    throw new DocIdError(`a document id must fit in a file name once escaped (${escaped.length} > ${MAX_ESCAPED_LENGTH} characters)`)
  }
  return escaped + DOC_FILE_EXTENSION
}

/**
 * The document id of a file name, or `undefined` for a name this mapping would not have produced
 * (another extension, a temp file, a non-canonical escape), so that foreign files are ignored.
 */
export function fileNameToDocId (fileName: string): string | undefined {
  if (!fileName.endsWith(DOC_FILE_EXTENSION)) return undefined
  const escaped = fileName.slice(0, -DOC_FILE_EXTENSION.length)
  if (!ESCAPED_NAME.test(escaped)) return undefined
  const bytes: number[] = []
  for (let i = 0; i < escaped.length;) {
    if (escaped[i] === '%') {
      bytes.push(parseInt(escaped.slice(i + 1, i + 3), 16))
      i += 3
    } else {
      bytes.push(escaped.charCodeAt(i))
      i += 1
    }
  }
  let docId: string
  try {
    docId = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(new Uint8Array(bytes))
  } catch {
    return undefined
  }
  try {
    return docIdToFileName(docId) === fileName ? docId : undefined
  } catch {
    return undefined
  }
}
