// Pairing a browser (a tablet, or the hub's own machine) with a lab: an admin shows a one-time code on
// the hub, the browser sends it with its own peer id, and both screens then show a confirmation code
// derived from the two keys. A man in the middle who relayed the code would have its own key in place of
// one of them, and the two screens would disagree. Browser-safe: WebCrypto only.

/** Letters and digits that cannot be mistaken for one another (no 0/O, 1/I/L). */
export const PAIRING_ALPHABET = 'ABCDEFGHJKMNPQRSTUVWXYZ23456789'
export const PAIRING_CODE_LENGTH = 8

/** A pairing code as typed: upper case, without spaces or dashes. */
export function normalisePairingCode (text: string): string {
  return text.toUpperCase().replace(/[\s-]/g, '')
}

/** Shown as two groups of four: K7QD-M2XH. */
export function formatPairingCode (code: string): string {
  return `${code.slice(0, 4)}-${code.slice(4)}`
}

/** The six digits both screens show, from the hub's and the browser's peer ids ("123 456"). */
export async function pairingConfirmation (hubPeerId: string, browserPeerId: string): Promise<string> {
  const bytes = new TextEncoder().encode(`scanhub-pair:v1\n${hubPeerId}\n${browserPeerId}`)
  const digest = new Uint8Array(await globalThis.crypto.subtle.digest('SHA-256', bytes))
  const n = ((digest[0] << 24) >>> 0) + (digest[1] << 16) + (digest[2] << 8) + digest[3]
  const digits = String(n % 1_000_000).padStart(6, '0')
  return `${digits.slice(0, 3)} ${digits.slice(3)}`
}
