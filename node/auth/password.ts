// Password hashing for the lab's users: scrypt with a random salt, stored as one self-describing
// string `scrypt$N$r$p$salt$hash` (salt and hash base64url) in the lab document, so that the cost can
// be raised later without breaking the hashes already stored.
import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto'

/** DESIGN.md: passwords of at least 12 characters. */
export const MIN_PASSWORD_LENGTH = 12
/** Longer inputs only cost hashing time; nobody types more. */
export const MAX_PASSWORD_LENGTH = 1024

/** scrypt cost: N = 2^15, r = 8, p = 1 (about 32 MiB and 50-100 ms per hash here). */
export const SCRYPT_N = 2 ** 15
export const SCRYPT_R = 8
export const SCRYPT_P = 1
const KEY_LENGTH = 32
const SALT_LENGTH = 16

/**
 * Hashes come from the lab document, which other peers write: a stored cost far above ours would let
 * one hash make every login burn memory and minutes, so parameters beyond these are refused.
 */
const MAX_N = 2 ** 17
const MAX_R = 16
const MAX_P = 4

const PREFIX = 'scrypt'

/** The password breaks the lab's rules; the message says which, and is meant for the user. */
export class PasswordPolicyError extends Error {
  override name = 'PasswordPolicyError'
}

/** Throws PasswordPolicyError for a password the lab does not accept. */
export function checkPasswordPolicy (password: unknown): asserts password is string {
  if (typeof password !== 'string') throw new PasswordPolicyError('password must be a string')
  // Count characters as people see them, not UTF-16 code units.
  const length = [...password].length
  if (length < MIN_PASSWORD_LENGTH) throw new PasswordPolicyError(`password must be at least ${MIN_PASSWORD_LENGTH} characters long`)
  if (password.length > MAX_PASSWORD_LENGTH) throw new PasswordPolicyError(`password must be at most ${MAX_PASSWORD_LENGTH} characters long`)
}

async function derive (password: string, salt: Buffer, n: number, r: number, p: number, keyLength: number): Promise<Buffer> {
  return await new Promise((resolve, reject) => {
    // Node's default maxmem (32 MiB) is exactly 128·N·r at N = 2^15, r = 8: give scrypt headroom.
    scrypt(password.normalize('NFC'), salt, keyLength, { N: n, r, p, maxmem: 256 * n * r + 1024 * 1024 }, (err, key) => {
      if (err !== null) reject(err)
      else resolve(key)
    })
  })
}

/** Checks the policy, then hashes with a fresh salt. */
export async function hashPassword (password: string): Promise<string> {
  checkPasswordPolicy(password)
  const salt = randomBytes(SALT_LENGTH)
  const key = await derive(password, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P, KEY_LENGTH)
  return [PREFIX, SCRYPT_N, SCRYPT_R, SCRYPT_P, salt.toString('base64url'), key.toString('base64url')].join('$')
}

interface ParsedHash { n: number, r: number, p: number, salt: Buffer, key: Buffer }

function parseHash (stored: string): ParsedHash | undefined {
  const parts = stored.split('$')
  if (parts.length !== 6 || parts[0] !== PREFIX) return undefined
  const [n, r, p] = parts.slice(1, 4).map((v) => /^\d{1,9}$/.test(v) ? Number(v) : NaN)
  if (!(n >= 2 && n <= MAX_N && (n & (n - 1)) === 0) || !(r >= 1 && r <= MAX_R) || !(p >= 1 && p <= MAX_P)) return undefined
  const salt = Buffer.from(parts[4], 'base64url')
  const key = Buffer.from(parts[5], 'base64url')
  if (salt.length < 8 || key.length < 16 || key.length > 64) return undefined
  return { n, r, p, salt, key }
}

/** A hash of a password nobody has, to spend the same time on unknown users as on known ones. */
let decoy: Promise<string> | undefined

/**
 * Whether the password matches the stored hash. A malformed or over-costly hash never matches. With
 * no hash (unknown user) it still spends one hashing, so that timing does not tell who exists.
 */
export async function verifyPassword (password: string, stored: string | undefined): Promise<boolean> {
  if (typeof password !== 'string' || password.length > MAX_PASSWORD_LENGTH) return false
  const parsed = stored === undefined ? undefined : parseHash(stored)
  if (parsed === undefined) {
    decoy ??= hashPassword(randomBytes(24).toString('base64url'))
    const fallback = parseHash(await decoy) as ParsedHash
    await derive(password, fallback.salt, fallback.n, fallback.r, fallback.p, fallback.key.length)
    return false
  }
  const key = await derive(password, parsed.salt, parsed.n, parsed.r, parsed.p, parsed.key.length)
  return timingSafeEqual(key, parsed.key)
}
