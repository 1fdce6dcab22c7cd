// Deterministic DICOM UIDs. Every peer that knows an exam's id derives the same StudyInstanceUID, and
// a re-run of a task under the same lease epoch rewrites the same SeriesInstanceUID, so results stay
// linked without a UID registry (a lab has no server to hand one out).
//
// The UID is '2.25.' followed by the decimal form of a 128-bit UUID (PS3.5 B.2, ISO/IEC 9834-8). The
// UUID is a version 8 (RFC 9562, custom) UUID made from the first 128 bits of SHA-256 over a
// namespace and the ids, so it cannot collide with random UUIDs nor with other programs' UIDs.

import { digest } from 'lib0/hash/sha256'

const NAMESPACE = 'scanhub/dicom-uid/1'

/** What a UID identifies; each kind hashes separately, so an exam's study and frame of reference differ. */
export type UidKind = 'study' | 'series' | 'instance' | 'frame-of-reference' | 'implementation'

/** Longest UID allowed by the UI VR. */
export const MAX_UID_LENGTH = 64

/**
 * The UID for a kind and the ids that identify it, e.g. ('study', examId), ('series', taskId,
 * epoch), ('instance', taskId, epoch, instanceNumber).
 */
export function deterministicUid (kind: UidKind, ...ids: Array<string | number>): string {
  // JSON keeps ['a', 'b-c'] and ['a-b', 'c'] apart, which joining with a separator would not.
  const input = new TextEncoder().encode(JSON.stringify([NAMESPACE, kind, ...ids.map(String)]))
  const bytes = digest(input).slice(0, 16)
  bytes[6] = (bytes[6] & 0x0f) | 0x80 // version 8
  bytes[8] = (bytes[8] & 0x3f) | 0x80 // variant 10xx
  let value = 0n
  for (const b of bytes) value = (value << 8n) | BigInt(b)
  return '2.25.' + value.toString(10)
}

/** The UUID form of the same 128 bits, for logs and the lab document. */
export function uidToUuid (uid: string): string {
  if (!uid.startsWith('2.25.')) throw new RangeError(`not a UUID-derived UID: ${uid}`)
  const hex = BigInt(uid.slice(5)).toString(16).padStart(32, '0')
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`
}

/** Whether a string is a valid DICOM UID: dot-separated numbers without leading zeros, at most 64 chars. */
export function isValidUid (uid: string): boolean {
  return uid.length <= MAX_UID_LENGTH && /^(0|[1-9][0-9]*)(\.(0|[1-9][0-9]*))*$/.test(uid)
}
