// A seeded generator for the scanner's noise, so a simulated scan can be reproduced bit for bit:
// xoshiro128** (Blackman and Vigna, 2018) seeded through splitmix32, and normal deviates by Box–Muller.

/** Uniform and normal deviates from a 32-bit seed; the same seed gives the same sequence on every platform. */
export class SeededRandom {
  private s0: number
  private s1: number
  private s2: number
  private s3: number
  private spare: number | undefined

  constructor (seed: number) {
    // splitmix32 spreads any seed, including 0, over the 128-bit state (which must not be all zero).
    let x = seed >>> 0
    const next = (): number => {
      x = (x + 0x9e3779b9) >>> 0
      let z = x
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0
      return (z ^ (z >>> 16)) >>> 0
    }
    this.s0 = next()
    this.s1 = next()
    this.s2 = next()
    this.s3 = next()
  }

  /** The next 32-bit output of xoshiro128**. */
  nextUint32 (): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5) >>> 0, 7), 9) >>> 0
    const t = (this.s1 << 9) >>> 0
    this.s2 ^= this.s0
    this.s3 ^= this.s1
    this.s1 ^= this.s2
    this.s0 ^= this.s3
    this.s2 ^= t
    this.s3 = rotl(this.s3, 11)
    this.s0 >>>= 0
    this.s1 >>>= 0
    this.s2 >>>= 0
    return result
  }

  /** Uniform on (0, 1): never 0, so its logarithm is finite. */
  uniform (): number {
    return (this.nextUint32() + 0.5) / 4294967296
  }

  /** Standard normal deviate (Box–Muller; the second value of each pair is kept for the next call). */
  normal (): number {
    if (this.spare !== undefined) {
      const value = this.spare
      this.spare = undefined
      return value
    }
    const r = Math.sqrt(-2 * Math.log(this.uniform()))
    const theta = 2 * Math.PI * this.uniform()
    this.spare = r * Math.sin(theta)
    return r * Math.cos(theta)
  }
}

function rotl (x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0
}
