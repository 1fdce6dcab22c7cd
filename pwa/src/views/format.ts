// How dates, ages and people are written in the views.
import type { Patient } from '../../../protocol/lab/index.ts'

export function formatDate (iso: string | undefined): string {
  if (iso === undefined || iso === '') return ''
  const date = new Date(iso)
  return Number.isNaN(date.getTime()) ? iso : date.toLocaleDateString(undefined, { year: 'numeric', month: 'short', day: 'numeric' })
}

export function formatDateTime (iso: string | undefined): string {
  if (iso === undefined || iso === '') return ''
  const date = new Date(iso)
  return Number.isNaN(date.getTime()) ? iso : date.toLocaleString(undefined, { year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' })
}

/** Whole years between a YYYY-MM-DD birth date and today. */
export function ageOf (birthDate: string, now = new Date()): number | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(birthDate)
  if (m === null) return undefined
  let age = now.getFullYear() - Number(m[1])
  if (now.getMonth() + 1 < Number(m[2]) || (now.getMonth() + 1 === Number(m[2]) && now.getDate() < Number(m[3]))) age--
  return age
}

/** "Last, First", as ScanHub writes patients. */
export function patientName (p: Pick<Patient, 'firstName' | 'lastName'>): string {
  return `${p.lastName}, ${p.firstName}`
}

export const SEX_LABELS: Record<string, string> = { MALE: 'Male', FEMALE: 'Female', OTHER: 'Other', NOT_GIVEN: 'Not given' }

/** A number field's text as a number, undefined when empty; NaN stays NaN for the validator to name. */
export function numberOrUndefined (text: string): number | undefined {
  const trimmed = text.trim()
  return trimmed === '' ? undefined : Number(trimmed.replace(',', '.'))
}
