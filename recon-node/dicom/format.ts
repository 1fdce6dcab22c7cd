// Value formatting for DICOM string VRs (PS3.5 6.2): lengths, character repertoires and the date,
// time and number syntaxes. dcmjs would truncate over-long values with a console warning; doing it
// here keeps the output deterministic and quiet.

import { DicomWriteError } from './errors.ts'

/** Cuts a value to at most max characters (DICOM lengths count characters for text VRs). */
export function truncate (value: string, max: number): string {
  const chars = Array.from(value)
  return chars.length <= max ? value : chars.slice(0, max).join('')
}

/** Removes the value delimiter '\' and control characters, which no single text value may contain. */
export function cleanText (value: string): string {
  // eslint-disable-next-line no-control-regex
  return value.replace(/[\\\u0000-\u001f\u007f]/g, ' ').trim()
}

/** LO (64 characters) */
export function lo (value: string | undefined): string {
  return truncate(cleanText(value ?? ''), 64)
}

/** SH (16 characters) */
export function sh (value: string | undefined): string {
  return truncate(cleanText(value ?? ''), 16)
}

/** CS: upper-case letters, digits, space and underscore, 16 characters. */
export function cs (value: string): string {
  const cleaned = value.toUpperCase().replace(/[^A-Z0-9_ ]/g, '_')
  return truncate(cleaned, 16)
}

/**
 * PN from a family and a given name. '^' and '=' separate components and groups, so inside a name
 * they become spaces; each component group holds at most 64 characters.
 */
export function personName (familyName: string | undefined, givenName: string | undefined): string {
  const part = (s: string | undefined): string => cleanText(s ?? '').replace(/[\^=]/g, ' ').replace(/\s+/g, ' ')
  const family = part(familyName)
  const given = part(givenName)
  return truncate(given === '' ? family : `${family}^${given}`, 64)
}

function pad (n: number, width: number): string {
  return String(n).padStart(width, '0')
}

/** DA from a Date, in the peer's local time (DICOM dates and times are local). */
export function da (date: Date): string {
  return `${pad(date.getFullYear(), 4)}${pad(date.getMonth() + 1, 2)}${pad(date.getDate(), 2)}`
}

/** TM (HHMMSS.ffffff, here to the millisecond) from a Date, in local time. */
export function tm (date: Date): string {
  return `${pad(date.getHours(), 2)}${pad(date.getMinutes(), 2)}${pad(date.getSeconds(), 2)}.${pad(date.getMilliseconds(), 3)}`
}

/** TimezoneOffsetFromUTC (SH, '+HHMM'/'-HHMM') that says what local time da/tm used. */
export function timezoneOffset (date: Date): string {
  const minutes = -date.getTimezoneOffset()
  const abs = Math.abs(minutes)
  return `${minutes < 0 ? '-' : '+'}${pad(Math.floor(abs / 60), 2)}${pad(abs % 60, 2)}`
}

/** DA from an ISO calendar date 'YYYY-MM-DD' (ScanHub's birth dates); '' when absent or invalid. */
export function daFromIsoDate (iso: string | undefined): string {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(iso ?? '')
  if (match === null) return ''
  const [, y, m, d] = match
  const check = new Date(Date.UTC(Number(y), Number(m) - 1, Number(d)))
  if (check.getUTCMonth() !== Number(m) - 1 || check.getUTCDate() !== Number(d)) return ''
  return `${y}${m}${d}`
}

/** DS: a decimal string of at most 16 characters, with as many significant digits as fit. */
export function ds (value: number): string {
  if (!Number.isFinite(value)) throw new DicomWriteError(`cannot write ${value} as a DICOM decimal string`)
  if (value === 0) return '0'
  for (let digits = 15; digits >= 1; digits--) {
    // toPrecision rounds in decimal (no binary noise such as 0.30000000000000004); then drop the
    // mantissa's trailing zeros. Going through Number() instead would overflow near the largest double.
    // toPrecision writes small magnitudes such as 1.6968e-6 with leading zeros, which cost digits the
    // exponential form keeps, so both forms are tried at each precision.
    for (const form of [value.toPrecision(digits), value.toExponential(digits - 1)]) {
      const text = form.replace(/(\.\d*?)0+(e|$)/, '$1$2').replace(/\.(e|$)/, '$1')
      if (text.length <= 16) return text
    }
  }
  throw new DicomWriteError(`cannot write ${value} in 16 characters`)
}

/** IS: an integer string in the signed 32-bit range. */
export function is (value: number): string {
  if (!Number.isInteger(value) || value < -(2 ** 31) || value >= 2 ** 31) {
    throw new DicomWriteError(`cannot write ${value} as a DICOM integer string`)
  }
  return String(value)
}
