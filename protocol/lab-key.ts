// A lab's pre-shared key: 32 random bytes, written as 64 hex characters in invites and lab.json, and
// handed to libp2p's pnet in the swarm key text format it expects.
const SWARM_KEY_HEADER = '/key/swarm/psk/1.0.0/\n/base16/\n'
const KEY_HEX = /^[0-9a-f]{64}$/

export class LabKeyError extends Error {
  override name = 'LabKeyError'
}

export function generateSwarmKeyHex (): string {
  const bytes = crypto.getRandomValues(new Uint8Array(32))
  return [...bytes].map((b) => b.toString(16).padStart(2, '0')).join('')
}

export function isSwarmKeyHex (hex: string): boolean {
  return KEY_HEX.test(hex)
}

/** The bytes `preSharedKey({ psk })` takes. */
export function swarmKeyFromHex (hex: string): Uint8Array {
  if (!isSwarmKeyHex(hex)) throw new LabKeyError('a lab key is 64 lowercase hex characters')
  return new TextEncoder().encode(SWARM_KEY_HEADER + hex)
}
