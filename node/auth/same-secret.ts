// Comparing a secret a request carries (API key, setup code) with the expected one in constant time,
// so that the time of a refusal says nothing of how much of the guess was right.
import { timingSafeEqual } from 'node:crypto'

export function sameSecret (given: unknown, expected: string | undefined): boolean {
  if (typeof given !== 'string' || expected === undefined) return false
  const a = Buffer.from(given)
  const b = Buffer.from(expected)
  return a.length === b.length && timingSafeEqual(a, b)
}
