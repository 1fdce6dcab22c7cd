import { describe, expect, it } from 'vitest'
import { validatePatientPatch } from '../../../protocol/lab/index.ts'
import { errorsFromMessage, fieldErrors, plainMessage } from './form-errors.ts'
import type { FormField } from './form-errors.ts'

describe('errorsFromMessage', () => {
  it('puts a message under the field it names, else under the form', () => {
    expect(errorsFromMessage('birthDate must be a date as YYYY-MM-DD', ['firstName', 'birthDate'])).toEqual({ birthDate: 'birthDate must be a date as YYYY-MM-DD' })
    expect(errorsFromMessage('parameters.fovScaling must be three numbers', ['name', 'parameters'])).toEqual({ parameters: 'parameters.fovScaling must be three numbers' })
    expect(errorsFromMessage('viewers cannot change anything', ['name'])).toEqual({ '': 'viewers cannot change anything' })
  })

  it('speaks of a field by its label when the form gives one', () => {
    expect(errorsFromMessage('heightCm must be a number between 20 and 300', [{ name: 'heightCm', label: 'Height (cm)' }]))
      .toEqual({ heightCm: 'Height (cm) must be a number between 20 and 300' })
  })
})

describe('plainMessage', () => {
  it('names the label, never the notation of a date, and writes dates in the locale', () => {
    expect(plainMessage('birthDate must be a date as YYYY-MM-DD', 'Birthday')).toBe('Birthday must be a date')
    expect(plainMessage('firstName must be a non-empty string', 'First name')).toBe('First name is required')
    const early = plainMessage('birthDate must not be before 1880-01-01', 'Birthday')
    expect(early).not.toMatch(/1880-01-01/)
    expect(early).toMatch(/^Birthday must not be before .*1880/)
  })
})

describe('fieldErrors', () => {
  const fields: FormField[] = [
    { name: 'firstName', label: 'First name', required: true },
    { name: 'birthDate', label: 'Birthday', required: true },
    { name: 'heightCm', label: 'Height (cm)' },
    { name: 'comment', label: 'Comment' }
  ]
  const check = (name: string, value: string): string | undefined => {
    const v = validatePatientPatch({ [name]: name === 'heightCm' ? Number(value) : value }, new Date('2026-01-01T12:00:00Z'))
    return v.ok ? undefined : v.error
  }

  it('lists every wrong field at once, each in plain words', () => {
    expect(fieldErrors(fields, { firstName: ' ', birthDate: '', heightCm: '900', comment: 'fine' }, check)).toEqual({
      firstName: 'First name is required',
      birthDate: 'Birthday is required',
      heightCm: 'Height (cm) must be a number between 20 and 300'
    })
  })

  it('has nothing to say about a correct form', () => {
    expect(fieldErrors(fields, { firstName: 'Marie', birthDate: '1967-11-07', heightCm: '160', comment: '' }, check)).toEqual({})
  })
})
