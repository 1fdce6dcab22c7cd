// Standard base64 of bytes, the same in Node and in the browser (btoa/atob work on binary strings).

export function base64Encode (bytes: Uint8Array): string {
  let binary = ''
  for (const b of bytes) binary += String.fromCharCode(b)
  return btoa(binary)
}

/** Throws on text that is not base64. */
export function base64Decode (text: string): Uint8Array {
  const binary = atob(text)
  const out = new Uint8Array(binary.length)
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i)
  return out
}
