// Waits between reconnection attempts: doubling from `initialMs` to `maxMs`, with jitter so that the
// tablets of a lab do not all knock at once when their hub comes back.

export interface BackoffInit {
  initialMs?: number
  maxMs?: number
  /** fraction of the delay drawn at random, 0..1 (default 0.2) */
  jitter?: number
  random?: () => number
}

export class Backoff {
  private readonly initialMs: number
  private readonly maxMs: number
  private readonly jitter: number
  private readonly random: () => number
  private attempt = 0

  constructor (init: BackoffInit = {}) {
    this.initialMs = init.initialMs ?? 500
    this.maxMs = init.maxMs ?? 15_000
    this.jitter = init.jitter ?? 0.2
    this.random = init.random ?? Math.random
  }

  /** The delay before the next attempt. */
  next (): number {
    const base = Math.min(this.maxMs, this.initialMs * 2 ** this.attempt)
    this.attempt = Math.min(this.attempt + 1, 30)
    return Math.round(base * (1 - this.jitter * this.random()))
  }

  reset (): void {
    this.attempt = 0
  }
}
