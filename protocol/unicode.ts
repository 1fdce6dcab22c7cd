// Well-formed Unicode. A JavaScript string may hold a lone UTF-16 surrogate ("\ud800" in JSON), which
// no UTF-8 encoding can carry: Yjs writes it to the wire and to disk as U+FFFD, so the peer that
// accepted it keeps the raw string while every other peer keeps U+FFFD, a divergence that never
// heals. Such strings are refused where text enters the lab (API bodies, entity writes).

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/

export function isWellFormedText (text: string): boolean {
  return !LONE_SURROGATE.test(text)
}

/**
 * The path of the first string (or object key) in a JSON-like value that is not well-formed Unicode,
 * or undefined when all are. `path` names the value itself (e.g. "body").
 */
export function malformedTextAt (value: unknown, path: string, depth = 0): string | undefined {
  if (typeof value === 'string') return isWellFormedText(value) ? undefined : path
  if (depth > 64 || typeof value !== 'object' || value === null) return undefined
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = malformedTextAt(value[i], `${path}[${i}]`, depth + 1)
      if (found !== undefined) return found
    }
    return undefined
  }
  for (const [key, v] of Object.entries(value)) {
    if (!isWellFormedText(key)) return `${path} (a field name)`
    const found = malformedTextAt(v, path === '' ? key : `${path}.${key}`, depth + 1)
    if (found !== undefined) return found
  }
  return undefined
}
