// One-time pairing codes of this hub (protocol/pairing.ts): made by an admin (or printed at start for
// the hub's own machine), redeemed once by a browser, which then becomes a `browser` member with the
// code's ceiling. Codes live in this hub's memory only: a restart voids them, which is the safe side.
import { randomInt, randomUUID } from 'node:crypto'
import { PAIRING_ALPHABET, PAIRING_CODE_LENGTH, normalisePairingCode, pairingConfirmation } from '../../protocol/pairing.ts'
import type { Role } from '../../protocol/lab/schema.ts'

export const PAIRING_TTL_MS = 5 * 60_000
/** Wrong codes accepted per minute, from anyone, before the hub answers 429: 40 bits stay out of reach. */
const WRONG_CODES_PER_MINUTE = 20

export interface Pairing {
  id: string
  code: string
  ceiling: Role
  createdBy: string
  expiresAt: number
  state: 'waiting' | 'paired'
  peerId?: string
  name?: string
  confirmation?: string
}

export class PairingError extends Error {
  override name = 'PairingError'
  constructor (message: string, readonly status: 400 | 404 | 410 | 429) {
    super(message)
  }
}

export class Pairings {
  private readonly pairings = new Map<string, Pairing>()
  private wrong: number[] = []
  private readonly redeeming = new Set<string>()
  private readonly now: () => number

  constructor (init: { now?: () => number } = {}) {
    this.now = init.now ?? Date.now
  }

  create (input: { ceiling: Role, createdBy: string, ttlMs?: number }): Pairing {
    this.sweep()
    let code = ''
    for (let i = 0; i < PAIRING_CODE_LENGTH; i++) code += PAIRING_ALPHABET[randomInt(PAIRING_ALPHABET.length)]
    const pairing: Pairing = { id: randomUUID(), code, ceiling: input.ceiling, createdBy: input.createdBy, expiresAt: this.now() + (input.ttlMs ?? PAIRING_TTL_MS), state: 'waiting' }
    this.pairings.set(pairing.id, pairing)
    return pairing
  }

  get (id: string): (Pairing & { expired: boolean }) | undefined {
    const pairing = this.pairings.get(id)
    return pairing === undefined ? undefined : { ...pairing, expired: pairing.state === 'waiting' && pairing.expiresAt <= this.now() }
  }

  /**
   * Takes a code (once): the waiting pairing it names, marked as used by `peerId`. `enrol` makes the
   * browser a member; if it fails, the code stays usable.
   */
  async redeem (codeText: string, browser: { peerId: string, name: string }, hubPeerId: string, enrol: (pairing: Pairing) => Promise<void>): Promise<Pairing> {
    const code = normalisePairingCode(codeText)
    const minuteAgo = this.now() - 60_000
    this.wrong = this.wrong.filter((t) => t > minuteAgo)
    if (this.wrong.length >= WRONG_CODES_PER_MINUTE) throw new PairingError('too many wrong pairing codes just now: wait a minute and try again', 429)
    const pairing = [...this.pairings.values()].find((p) => p.code === code)
    if (pairing === undefined || pairing.state !== 'waiting' || this.redeeming.has(pairing.id)) {
      this.wrong.push(this.now())
      throw new PairingError('this pairing code is unknown or was used already: ask the admin for a new one', 404)
    }
    if (pairing.expiresAt <= this.now()) throw new PairingError('this pairing code expired: ask the admin for a new one', 410)
    // taken while the browser is enrolled, so that a second request with the same code is refused; if
    // enrolling fails, the code stays usable
    this.redeeming.add(pairing.id)
    try {
      await enrol(pairing)
      const confirmation = await pairingConfirmation(hubPeerId, browser.peerId)
      // everything the admin's screen shows is in place before it reads "paired"
      Object.assign(pairing, { peerId: browser.peerId, name: browser.name, confirmation })
      pairing.state = 'paired'
    } finally {
      this.redeeming.delete(pairing.id)
    }
    return pairing
  }

  /** Forgets pairings that ended an hour ago. */
  private sweep (): void {
    const hourAgo = this.now() - 3_600_000
    for (const [id, p] of this.pairings) if (p.expiresAt < hourAgo) this.pairings.delete(id)
  }
}
